"""The scoring rules, on the pure-Python reference scorer that mirrors the dbt models
(cross-checked against dbt on the worked examples in test_pipeline_e2e)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reference_scorer import method_score, score_customer, score_indicator
from tiering.rubric.checks import Rubric, load_rubric

DEFAULT = load_rubric("default")
PRESETS = {name: load_rubric(name) for name in ("default", "manufacturing", "retail")}

# Worked example A's value inputs (docs/method.md) and C2024001's, as the pipeline measures them.
EXAMPLE_A_VALUE = {"annual_spend": "1200", "profit_margin": "15", "cooperation_years": "5", "cross_purchase_rate": "30"}
C2024001_VALUE = {"annual_spend": "1500", "profit_margin": "18", "cooperation_years": "6", "cross_purchase_rate": "35"}


def value_only(rubric: Rubric) -> Rubric:
    """The rubric of the source method: the value dimension alone, weight 100."""
    return replace(
        rubric,
        dimensions={"value": Decimal(100)},
        indicators={name: ind for name, ind in rubric.indicators.items() if ind.dimension == "value"},
    )


# --- worked examples -------------------------------------------------------------------------


def test_worked_example_a_under_the_value_only_rubric_is_94_5_and_strategic():
    result = score_customer(value_only(DEFAULT), EXAMPLE_A_VALUE)
    assert result.composite_score == Decimal("94.5")
    assert result.tier == "strategic"
    assert [result.indicators[name].weighted_score for name in EXAMPLE_A_VALUE] == [40, Decimal("22.5"), 20, 12]


def test_worked_example_a_value_score_stays_94_5_under_the_four_dimension_default():
    result = score_customer(DEFAULT, {**EXAMPLE_A_VALUE, "strategic_level": "regional_leader"})
    assert result.dimension_scores["value"] == Decimal("94.5")
    assert set(result.dimension_scores) == {"value", "potential", "risk", "strategic"}


def test_c2024001_scores_100_on_value_alone_and_on_all_four_dimensions():
    assert score_customer(value_only(DEFAULT), C2024001_VALUE).composite_score == Decimal("100.0")
    four_dimensions = {
        **C2024001_VALUE,
        "industry_growth_rate": "12",
        "industry_rank": "8",
        "demand_match": "85.5",
        "on_time_payment_rate": "100",
        "complaint_count": "0",
        "days_since_last_order": "15",
        "strategic_level": "national_key",
    }
    result = score_customer(DEFAULT, four_dimensions, {"complaint_count": ["0", "1"]})
    assert result.composite_score == Decimal("100.0")
    assert result.tier == "strategic"


def test_default_dimension_weights_are_those_of_the_domain_template():
    assert DEFAULT.dimensions == {"value": 40, "potential": 30, "risk": 20, "strategic": 10}


# --- band boundaries: lower bound inclusive, upper exclusive ----------------------------------


@pytest.mark.parametrize(
    ("indicator", "raw", "expected"),
    [
        ("profit_margin", "15", 90),
        ("profit_margin", "14.9999", 75),
        ("profit_margin", "18", 100),
        ("profit_margin", "4.9999", 40),
        ("profit_margin", "-3", 40),
        ("annual_spend", "1000", 100),
        ("annual_spend", "999.999999", 80),
        ("annual_spend", "100", 60),
        ("annual_spend", "0", 40),
        ("cooperation_years", "5", 100),
        ("cooperation_years", "4.9167", 80),
        ("cross_purchase_rate", "35", 100),
        ("cross_purchase_rate", "34.9999", 80),
        ("industry_rank", "10", 100),
        ("industry_rank", "11", 80),
        ("industry_rank", "50", 60),
        ("industry_rank", "51", 40),
        ("on_time_payment_rate", "95", 100),
        ("on_time_payment_rate", "94.9999", 80),
        ("demand_match", "80", 100),
    ],
)
def test_band_boundaries(indicator, raw, expected):
    assert method_score(DEFAULT.indicators[indicator], raw) == expected


def test_margin_of_exactly_15_percent_scores_90():
    assert method_score(DEFAULT.indicators["profit_margin"], Decimal("15.0000")) == 90


@pytest.mark.parametrize(("raw", "expected"), [("30", 100), ("0", 100), ("365", 0), ("1000", 0), ("197.5", 50)])
def test_days_since_last_order_is_linear_between_30_and_365_days_and_clamped(raw, expected):
    assert method_score(DEFAULT.indicators["days_since_last_order"], raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("-5", 0), ("0", 0), ("5", 50), ("10", 100), ("15", 100)])
def test_industry_growth_is_linear_between_0_and_10_percent_and_clamped(raw, expected):
    assert method_score(DEFAULT.indicators["industry_growth_rate"], raw) == expected


def test_fewest_complaints_score_100_and_ties_score_alike():
    population = ["0", "0", "2", "5"]
    scores = [method_score(DEFAULT.indicators["complaint_count"], raw, population) for raw in population]
    assert scores == [100, 100, 50, 25]


def test_an_unlisted_strategic_level_is_missing_and_takes_the_lowest_category():
    result = score_indicator(DEFAULT.indicators["strategic_level"], "no_such_level")
    assert (result.score, result.is_missing, result.is_imputed) == (40, True, True)


def test_a_missing_pending_indicator_makes_the_customer_pending_never_zero():
    result = score_customer(DEFAULT, {**EXAMPLE_A_VALUE, "annual_spend": None})
    assert result.tier == "pending"
    assert result.composite_score is None
    assert result.dimension_scores["value"] is None


# --- properties -----------------------------------------------------------------------------

RAW = st.one_of(
    st.none(), st.decimals(min_value=-1000, max_value=100_000, places=4, allow_nan=False, allow_infinity=False)
)
CATEGORY = st.sampled_from([None, "national_key", "regional_leader", "ordinary", "non_core", "unknown"])


def customer_values(rubric: Rubric):
    return st.fixed_dictionaries(
        {
            name: CATEGORY if indicator.scoring_method == "categories" else RAW
            for name, indicator in rubric.indicators.items()
        }
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data(), preset=st.sampled_from(sorted(PRESETS)))
def test_the_composite_always_stays_within_0_and_100(data, preset):
    rubric = PRESETS[preset]
    values = data.draw(customer_values(rubric))
    others = data.draw(st.lists(customer_values(rubric), max_size=5))
    populations = {name: [values[name]] + [other[name] for other in others] for name in rubric.indicators}
    result = score_customer(rubric, values, populations)
    for indicator in result.indicators.values():
        assert indicator.score is None or 0 <= indicator.score <= 100
    assert result.composite_score is None or 0 <= result.composite_score <= 100
    assert (result.composite_score is None) == (result.tier == "pending")


NUMERIC = [
    (preset, name)
    for preset, rubric in PRESETS.items()
    for name, indicator in rubric.indicators.items()
    if indicator.scoring_method != "categories"
]


@settings(max_examples=300, deadline=None)
@given(
    case=st.sampled_from(NUMERIC),
    low=st.decimals(min_value=-1000, max_value=10_000, places=4, allow_nan=False, allow_infinity=False),
    raise_by=st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False, allow_infinity=False),
    others=st.lists(
        st.decimals(min_value=-1000, max_value=10_000, places=2, allow_nan=False, allow_infinity=False), max_size=8
    ),
)
def test_moving_a_raw_value_the_better_way_never_lowers_its_score(case, low, raise_by, others):
    preset, name = case
    indicator = PRESETS[preset].indicators[name]
    high = low + raise_by
    before = method_score(indicator, low, [low, *others])
    after = method_score(indicator, high, [high, *others])
    if indicator.direction == "higher_is_better":
        assert after >= before
    else:
        assert after <= before


def weights_summing_to_100(count: int):
    """``count`` positive integer weights that sum to 100."""
    return (
        st.lists(st.integers(min_value=1, max_value=97), min_size=count - 1, max_size=count - 1, unique=True)
        .filter(lambda cuts: all(0 < c < 100 for c in cuts))
        .map(lambda cuts: [Decimal(b - a) for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), 100], strict=True)])
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_weight_changes_that_keep_the_sums_at_100_keep_the_composite_within_range(data):
    rubric = DEFAULT
    dimension_weights = data.draw(weights_summing_to_100(len(rubric.dimensions)))
    indicators = dict(rubric.indicators)
    for dimension in rubric.dimensions:
        names = [name for name, ind in indicators.items() if ind.dimension == dimension]
        if len(names) > 1:
            for name, weight in zip(names, data.draw(weights_summing_to_100(len(names))), strict=True):
                indicators[name] = replace(indicators[name], weight_pct=weight)
    reweighted = replace(
        rubric, dimensions=dict(zip(rubric.dimensions, dimension_weights, strict=True)), indicators=indicators
    )
    values = data.draw(customer_values(reweighted))
    result = score_customer(reweighted, values, {name: [values[name]] for name in indicators})
    assert result.composite_score is None or 0 <= result.composite_score <= 100
