"""A small pure-Python scorer that mirrors the dbt scoring models, rule for rule.

It reads the same seeds (tiering.rubric.checks.load_rubric) and is cross-checked against the dbt
output on the worked-example fixture (test_pipeline_e2e), so property tests on it speak for
the SQL: int_customer_indicators_scored, int_customer_dimensions_scored, int_customers_tiered.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from tiering.rubric.checks import Indicator, Rubric

FOUR = Decimal("0.0001")
SIX = Decimal("0.000001")


def _round(value: Decimal, unit: Decimal = FOUR) -> Decimal:
    return value.quantize(unit, rounding=ROUND_HALF_UP)


def method_score(indicator: Indicator, raw, population: list | None = None) -> Decimal | None:
    """The score by the indicator's method, or None when there is nothing to score."""
    if raw is None:
        return None
    if indicator.scoring_method == "categories":
        return indicator.categories.get(raw)
    value = Decimal(raw)
    if indicator.scoring_method == "bands":
        for lower, upper, score in indicator.bands:
            if (lower is None or value >= lower) and (upper is None or value < upper):
                return score
        return None
    if indicator.scoring_method == "linear":
        fraction = _round((value - indicator.linear_min) / (indicator.linear_max - indicator.linear_min), SIX)
        fraction = min(max(fraction, Decimal(0)), Decimal(1))
        return _round(100 * (1 - fraction if indicator.direction == "lower_is_better" else fraction))
    if indicator.scoring_method == "percentile":
        others = [Decimal(v) for v in (population if population is not None else [raw]) if v is not None]
        if indicator.direction == "lower_is_better":
            at_or_worse = sum(1 for other in others if other >= value)
        else:
            at_or_worse = sum(1 for other in others if other <= value)
        return _round(Decimal(100) * at_or_worse / len(others))
    raise ValueError(indicator.scoring_method)


def lowest_score(indicator: Indicator) -> Decimal:
    if indicator.scoring_method == "bands":
        return min(score for _, _, score in indicator.bands)
    if indicator.scoring_method == "categories":
        return min(indicator.categories.values())
    return Decimal(0)


@dataclass
class IndicatorResult:
    score: Decimal | None
    weighted_score: Decimal | None
    is_missing: bool
    is_imputed: bool
    is_pending: bool


def score_indicator(indicator: Indicator, raw, population: list | None = None) -> IndicatorResult:
    score = method_score(indicator, raw, population)
    missing = score is None
    if missing and indicator.missing_policy == "lowest_band":
        score = lowest_score(indicator)
    weighted = None if score is None else _round(score * indicator.weight_pct / 100)
    return IndicatorResult(
        score=score,
        weighted_score=weighted,
        is_missing=missing,
        is_imputed=missing and indicator.missing_policy == "lowest_band",
        is_pending=missing and indicator.missing_policy == "pending",
    )


@dataclass
class CustomerResult:
    indicators: dict[str, IndicatorResult]
    dimension_scores: dict[str, Decimal | None]
    composite_score: Decimal | None
    tier: str


def tier_for(rubric: Rubric, composite: Decimal | None) -> str:
    if composite is None:
        return "pending"
    for tier, lower, upper in rubric.tiers:
        if (lower is None or composite >= lower) and (upper is None or composite < upper):
            return tier
    raise AssertionError(f"no tier holds {composite}")


def score_customer(rubric: Rubric, raw_values: dict, populations: dict[str, list] | None = None) -> CustomerResult:
    """Score one customer. ``raw_values`` maps indicator -> raw value (or category, or None);
    ``populations`` maps a percentile indicator to every customer's value (this one's included)."""
    populations = populations or {}
    results = {
        name: score_indicator(indicator, raw_values.get(name), populations.get(name))
        for name, indicator in rubric.indicators.items()
    }
    dimension_scores: dict[str, Decimal | None] = {}
    for dimension in rubric.dimensions:
        members = [results[name] for name, ind in rubric.indicators.items() if ind.dimension == dimension]
        pending = any(member.is_pending for member in members)
        dimension_scores[dimension] = None if pending else sum((m.weighted_score for m in members), Decimal(0))
    if any(score is None for score in dimension_scores.values()):
        composite = None
    else:
        # exact, truncated to 4 decimals (never rounded up across a tier bound)
        exact = sum((dimension_scores[d] * w / 100 for d, w in rubric.dimensions.items()), Decimal(0))
        composite = exact.quantize(FOUR, rounding=ROUND_FLOOR)
    return CustomerResult(results, dimension_scores, composite, tier_for(rubric, composite))
