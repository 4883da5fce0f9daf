"""The rubric seeds, read and checked before anything is scored.

The rubric (dimensions, indicators, bands, categories, tiers, settings) is configuration that
users edit in a spreadsheet. A mistake in it must stop the run before dbt builds anything, with
a message that names the file and the row to fix, e.g.::

    seeds/rubric_indicator_bands.csv row 9 (default profit_margin 15–18): overlaps the band before it (10–16)

Row numbers are those a spreadsheet shows: the header is row 1, the first data row is row 2.
``check_rubric`` returns every problem; ``validate_rubric`` raises ``RubricError`` with all of
them. ``load_rubric`` reads one preset for Python code that scores (tests, the AHP command).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tiering.settings import SEEDS_DIR

# Every indicator the pipeline measures (int_customer_indicators_computed); a preset picks from these.
KNOWN_INDICATORS = (
    "annual_spend",
    "profit_margin",
    "cooperation_years",
    "cross_purchase_rate",
    "industry_growth_rate",
    "industry_rank",
    "demand_match",
    "on_time_payment_rate",
    "complaint_count",
    "days_since_last_order",
    "strategic_level",
    "order_count",
    "average_order_value",
    "active_months",
)
SCORING_METHODS = ("bands", "linear", "percentile", "categories")
DIRECTIONS = ("higher_is_better", "lower_is_better")
MISSING_POLICIES = ("pending", "lowest_band")
SETTINGS = {
    "spend_period": (
        "trailing_12_months",
        "calendar_year",
        "fiscal_year",
        "calendar_year_to_date",
        "fiscal_year_to_date",
    ),
    "fiscal_year_start_month": None,
    "amount_basis": ("excl_tax", "incl_tax"),
    "abc_a_cutoff_pct": None,
    "abc_b_cutoff_pct": None,
    "value_potential_value_threshold": None,
    "value_potential_potential_threshold": None,
    "value_potential_value_weight_pct": None,
    "value_potential_potential_weight_pct": None,
}

DIMENSIONS_FILE = "rubric_dimensions.csv"
INDICATORS_FILE = "rubric_indicators.csv"
BANDS_FILE = "rubric_indicator_bands.csv"
CATEGORIES_FILE = "rubric_indicator_categories.csv"
TIERS_FILE = "rubric_tiers.csv"
SETTINGS_FILE = "rubric_settings.csv"
GROWTH_FILE = "industry_growth_rates.csv"

REQUIRED_COLUMNS = {
    DIMENSIONS_FILE: ("rubric", "dimension", "weight_pct"),
    INDICATORS_FILE: (
        "rubric",
        "indicator",
        "dimension",
        "weight_pct",
        "scoring_method",
        "direction",
        "linear_min",
        "linear_max",
        "missing_policy",
    ),
    BANDS_FILE: ("rubric", "indicator", "lower_bound", "upper_bound", "score"),
    CATEGORIES_FILE: ("rubric", "indicator", "category", "score"),
    TIERS_FILE: ("tier", "tier_name_zh", "min_score", "max_score", "sort_order"),
    SETTINGS_FILE: ("setting", "setting_value"),
    GROWTH_FILE: ("industry", "growth_rate_pct"),
}

HUNDRED = Decimal(100)
# Band and tier bounds are typed DECIMAL(18,4) / DECIMAL(9,4) in dbt_project.yml: a bound with
# more decimals would be rounded silently when seeded. Raw values are floored to 6 decimals and
# composites to 4, which keeps every comparison with a bound of at most 4 decimals exact.
BOUND_DECIMALS = 4


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a seed file: where, about what, and what is expected."""

    file: str
    row: int | None
    subject: str
    message: str

    def __str__(self) -> str:
        where = f"seeds/{self.file}" + (f" row {self.row}" if self.row else "")
        return f"{where} ({self.subject}): {self.message}"


class RubricError(ValueError):
    """The rubric configuration is broken; ``problems`` says where."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            f"The rubric configuration has {len(problems)} problem(s); nothing was scored:\n"
            + "\n".join(f"- {problem}" for problem in problems)
        )


@dataclass
class _Row:
    number: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


def _read(seeds_dir: Path, name: str, problems: list[Problem]) -> list[_Row]:
    path = seeds_dir / name
    if not path.exists():
        problems.append(Problem(name, None, "file", f"is missing from {seeds_dir.name}/"))
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in REQUIRED_COLUMNS[name] if column not in (reader.fieldnames or [])]
        if missing:
            problems.append(Problem(name, 1, "header", f"lacks the column(s) {', '.join(missing)}"))
            return []
        return [_Row(number, values) for number, values in enumerate(reader, start=2)]


def _number(
    row: _Row, column: str, file: str, subject: str, problems: list[Problem], *, required: bool
) -> Decimal | None:
    text = row[column]
    if not text:
        if required:
            problems.append(Problem(file, row.number, subject, f"{column} is empty; a number is expected"))
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        problems.append(Problem(file, row.number, subject, f"{column} {text!r} is not a number"))
        return None


def _span(lower: Decimal | None, upper: Decimal | None) -> str:
    def show(value: Decimal | None) -> str:
        return "…" if value is None else f"{value.normalize():f}"

    return f"{show(lower)}–{show(upper)}"


def _rows_list(rows: list[_Row]) -> str:
    return ", ".join(str(row.number) for row in rows)


def _check_sum(
    file: str, subject: str, rows: list[_Row], weights: list[Decimal | None], what: str, problems: list[Problem]
):
    if any(weight is None for weight in weights):
        return  # already reported
    total = sum(weights, Decimal(0))
    if total != HUNDRED:
        problems.append(
            Problem(
                file, rows[0].number, subject, f"{what} sum to {total.normalize():f}, not 100 (rows {_rows_list(rows)})"
            )
        )


def _check_tiling(
    file: str, bands: list[tuple[_Row, str, Decimal | None, Decimal | None]], problems: list[Problem]
) -> list[tuple]:
    """Bands sorted by lower bound must tile the number line; returns them sorted."""
    ordered = sorted(bands, key=lambda band: (band[2] is not None, band[2] if band[2] is not None else 0))
    for position, (row, subject, lower, upper) in enumerate(ordered):
        first, last = position == 0, position == len(ordered) - 1
        if lower is not None and upper is not None and lower >= upper:
            problems.append(Problem(file, row.number, subject, "the lower bound is not below the upper bound"))
        for bound in (lower, upper):
            if bound is not None and bound.normalize().as_tuple().exponent < -BOUND_DECIMALS:
                problems.append(
                    Problem(
                        file,
                        row.number,
                        subject,
                        f"bound {bound} has more than {BOUND_DECIMALS} decimals; the seed would round it",
                    )
                )
        if first and lower is not None:
            problems.append(
                Problem(
                    file,
                    row.number,
                    subject,
                    f"values below {lower.normalize():f} fall in no band: leave the lowest band's lower bound empty",
                )
            )
        if not first and lower is None:
            problems.append(
                Problem(
                    file,
                    row.number,
                    subject,
                    "only the lowest band may have an empty lower bound: overlaps the band before it",
                )
            )
        if last and upper is not None:
            problems.append(
                Problem(
                    file,
                    row.number,
                    subject,
                    f"values from {upper.normalize():f} up fall in no band: leave the highest band's upper bound empty",
                )
            )
        if not last and upper is None:
            following = ordered[position + 1]
            problems.append(
                Problem(file, following[0].number, following[1], "overlaps the band before it, which is open above")
            )
        if position > 0 and lower is not None:
            previous_row, _, previous_lower, previous_upper = ordered[position - 1]
            if previous_upper is not None and previous_upper > lower:
                problems.append(
                    Problem(
                        file,
                        row.number,
                        subject,
                        f"overlaps the band before it "
                        f"({_span(previous_lower, previous_upper)}, row {previous_row.number})",
                    )
                )
            elif previous_upper is not None and previous_upper < lower:
                problems.append(
                    Problem(
                        file,
                        row.number,
                        subject,
                        f"leaves a gap after the band before it "
                        f"({_span(previous_lower, previous_upper)}, row {previous_row.number})",
                    )
                )
    return ordered


def check_rubric(seeds_dir: Path = SEEDS_DIR, active: str | None = None) -> list[Problem]:
    """Every problem in the rubric seeds of every preset (and, given ``active``, that the preset exists)."""
    problems: list[Problem] = []
    dimension_rows = _read(seeds_dir, DIMENSIONS_FILE, problems)
    indicator_rows = _read(seeds_dir, INDICATORS_FILE, problems)
    band_rows = _read(seeds_dir, BANDS_FILE, problems)
    category_rows = _read(seeds_dir, CATEGORIES_FILE, problems)
    tier_rows = _read(seeds_dir, TIERS_FILE, problems)
    setting_rows = _read(seeds_dir, SETTINGS_FILE, problems)
    growth_rows = _read(seeds_dir, GROWTH_FILE, problems)

    dimensions, dimension_weights = _check_dimensions(dimension_rows, problems)
    _check_dimension_weights_sum(dimension_weights, problems)
    _check_active_preset(active, dimension_weights, problems)

    indicators, indicator_weights = _check_indicators(indicator_rows, dimensions, problems)
    _check_indicator_weights_sum(indicator_weights, problems)
    _check_every_dimension_has_indicators(dimensions, indicator_weights, problems)

    bands = _check_bands(band_rows, indicators, problems)
    _check_bands_tile_and_follow_direction(bands, indicators, problems)
    _check_banded_indicators_have_bands(indicators, bands, problems)

    categories = _check_categories(category_rows, indicators, problems)
    _check_categorised_indicators_have_categories(indicators, categories, problems)

    _check_tiers(tier_rows, problems)

    settings = _check_settings(setting_rows, problems)
    _check_settings_present(setting_rows, settings, problems)
    _check_value_potential_weights_sum(setting_rows, settings, problems)
    _check_abc_cutoffs_ordered(setting_rows, settings, problems)

    _check_growth_rates(growth_rows, problems)
    return problems


# --- the steps of check_rubric, in the order it runs them ----------------------------------------

_Key = tuple[str, str]  # (rubric, indicator) or (rubric, dimension)
_Weighted = list[tuple[_Row, Decimal | None]]


def _weight(row: _Row, file: str, subject: str, problems: list[Problem]) -> Decimal | None:
    """The row's weight_pct, reported when empty, not a number or not within 0 (exclusive) and 100."""
    weight = _number(row, "weight_pct", file, subject, problems, required=True)
    if weight is not None and not Decimal(0) < weight <= HUNDRED:
        problems.append(Problem(file, row.number, subject, f"weight_pct {weight} is not within 0 (exclusive) and 100"))
    return weight


def _check_dimensions(
    dimension_rows: list[_Row], problems: list[Problem]
) -> tuple[dict[_Key, _Row], dict[str, _Weighted]]:
    """Dimensions are named, unique per preset and weighted; returns them and their weights by preset."""
    dimensions: dict[_Key, _Row] = {}
    dimension_weights: dict[str, _Weighted] = defaultdict(list)
    for row in dimension_rows:
        subject = f"{row['rubric']} {row['dimension']}"
        if not row["rubric"] or not row["dimension"]:
            problems.append(
                Problem(DIMENSIONS_FILE, row.number, subject.strip() or "row", "rubric and dimension must not be empty")
            )
            continue
        key = (row["rubric"], row["dimension"])
        if key in dimensions:
            problems.append(
                Problem(DIMENSIONS_FILE, row.number, subject, f"repeats the dimension of row {dimensions[key].number}")
            )
            continue
        dimensions[key] = row
        weight = _weight(row, DIMENSIONS_FILE, subject, problems)
        dimension_weights[row["rubric"]].append((row, weight))
    return dimensions, dimension_weights


def _check_dimension_weights_sum(dimension_weights: dict[str, _Weighted], problems: list[Problem]) -> None:
    """The dimension weights of each preset sum to 100."""
    for rubric, members in dimension_weights.items():
        _check_sum(
            DIMENSIONS_FILE,
            f"rubric {rubric}",
            [m[0] for m in members],
            [m[1] for m in members],
            "the dimension weights",
            problems,
        )


def _check_active_preset(active: str | None, dimension_weights: dict[str, _Weighted], problems: list[Problem]) -> None:
    """The preset asked for (TIERING_RUBRIC), if any, has at least one dimension."""
    presets = sorted(dimension_weights)
    if active is not None and active not in dimension_weights:
        problems.append(
            Problem(
                DIMENSIONS_FILE,
                None,
                f"TIERING_RUBRIC={active}",
                f"no dimension belongs to this preset; presets defined: {', '.join(presets) or 'none'}",
            )
        )


def _check_indicators(
    indicator_rows: list[_Row], dimensions: dict[_Key, _Row], problems: list[Problem]
) -> tuple[dict[_Key, _Row], dict[_Key, _Weighted]]:
    """Indicators are unique, measured, in a known dimension, with valid options, weight and linear range.

    Returns them by (rubric, indicator) and their weights by (rubric, dimension).
    """
    indicators: dict[_Key, _Row] = {}
    indicator_weights: dict[_Key, _Weighted] = defaultdict(list)
    for row in indicator_rows:
        subject = f"{row['rubric']} {row['indicator']}"
        key = (row["rubric"], row["indicator"])
        if key in indicators:
            problems.append(
                Problem(INDICATORS_FILE, row.number, subject, f"repeats the indicator of row {indicators[key].number}")
            )
            continue
        indicators[key] = row
        if row["indicator"] not in KNOWN_INDICATORS:
            problems.append(
                Problem(
                    INDICATORS_FILE,
                    row.number,
                    subject,
                    f"indicator {row['indicator']!r} is not one the pipeline measures ({', '.join(KNOWN_INDICATORS)})",
                )
            )
        if (row["rubric"], row["dimension"]) not in dimensions:
            problems.append(
                Problem(
                    INDICATORS_FILE,
                    row.number,
                    subject,
                    f"dimension {row['dimension']!r} is not a dimension of rubric {row['rubric']!r} "
                    f"in {DIMENSIONS_FILE}",
                )
            )
        for column, allowed in (
            ("scoring_method", SCORING_METHODS),
            ("direction", DIRECTIONS),
            ("missing_policy", MISSING_POLICIES),
        ):
            if row[column] not in allowed:
                problems.append(
                    Problem(
                        INDICATORS_FILE,
                        row.number,
                        subject,
                        f"{column} {row[column]!r} is not one of {', '.join(allowed)}",
                    )
                )
        weight = _weight(row, INDICATORS_FILE, subject, problems)
        if row["scoring_method"] == "linear":
            low = _number(row, "linear_min", INDICATORS_FILE, subject, problems, required=True)
            high = _number(row, "linear_max", INDICATORS_FILE, subject, problems, required=True)
            if low is not None and high is not None and low >= high:
                problems.append(
                    Problem(INDICATORS_FILE, row.number, subject, f"linear_min {low} is not below linear_max {high}")
                )
        indicator_weights[(row["rubric"], row["dimension"])].append((row, weight))
    return indicators, indicator_weights


def _check_indicator_weights_sum(indicator_weights: dict[_Key, _Weighted], problems: list[Problem]) -> None:
    """The indicator weights within each dimension of each preset sum to 100."""
    for (rubric, dimension), members in indicator_weights.items():
        _check_sum(
            INDICATORS_FILE,
            f"{rubric} {dimension}",
            [m[0] for m in members],
            [m[1] for m in members],
            f"the indicator weights of dimension {dimension!r}",
            problems,
        )


def _check_every_dimension_has_indicators(
    dimensions: dict[_Key, _Row], indicator_weights: dict[_Key, _Weighted], problems: list[Problem]
) -> None:
    """Every dimension has at least one indicator."""
    for (rubric, dimension), row in dimensions.items():
        if (rubric, dimension) not in indicator_weights:
            problems.append(
                Problem(
                    DIMENSIONS_FILE,
                    row.number,
                    f"{rubric} {dimension}",
                    f"no indicator in {INDICATORS_FILE} belongs to this dimension",
                )
            )


def _check_bands(band_rows: list[_Row], indicators: dict[_Key, _Row], problems: list[Problem]) -> dict[_Key, list]:
    """Bands have numeric bounds, belong to an indicator scored by bands and score 0-100.

    Returns the bands of each known indicator as (row, subject, lower, upper, score).
    """
    bands_by_indicator: dict[_Key, list] = defaultdict(list)
    for row in band_rows:
        key = (row["rubric"], row["indicator"])
        lower = _number(row, "lower_bound", BANDS_FILE, f"{key[0]} {key[1]}", problems, required=False)
        upper = _number(row, "upper_bound", BANDS_FILE, f"{key[0]} {key[1]}", problems, required=False)
        subject = f"{key[0]} {key[1]} {_span(lower, upper)}"
        score = _number(row, "score", BANDS_FILE, subject, problems, required=True)
        if key not in indicators:
            problems.append(
                Problem(
                    BANDS_FILE,
                    row.number,
                    subject,
                    f"indicator {key[1]!r} is not in {INDICATORS_FILE} for rubric {key[0]!r}",
                )
            )
            continue
        if indicators[key]["scoring_method"] != "bands":
            problems.append(
                Problem(
                    BANDS_FILE,
                    row.number,
                    subject,
                    f"the indicator is scored by {indicators[key]['scoring_method']!r}, not by bands",
                )
            )
        if score is not None and not Decimal(0) <= score <= HUNDRED:
            problems.append(Problem(BANDS_FILE, row.number, subject, f"score {score} is not within 0-100"))
        bands_by_indicator[key].append((row, subject, lower, upper, score))
    return bands_by_indicator


def _check_bands_tile_and_follow_direction(
    bands_by_indicator: dict[_Key, list], indicators: dict[_Key, _Row], problems: list[Problem]
) -> None:
    """Each indicator's bands tile the number line and their scores follow its direction."""
    for key, bands in bands_by_indicator.items():
        ordered = _check_tiling(BANDS_FILE, [band[:4] for band in bands], problems)
        scores = {band[0].number: band[4] for band in bands}
        direction = indicators[key]["direction"]
        for below, above in zip(ordered, ordered[1:], strict=False):
            low_score, high_score = scores[below[0].number], scores[above[0].number]
            if low_score is None or high_score is None:
                continue
            if direction == "higher_is_better" and high_score < low_score:
                problems.append(
                    Problem(
                        BANDS_FILE,
                        above[0].number,
                        above[1],
                        f"scores {high_score} below the band before it ({low_score}) "
                        f"though {key[1]} is higher_is_better",
                    )
                )
            if direction == "lower_is_better" and high_score > low_score:
                problems.append(
                    Problem(
                        BANDS_FILE,
                        above[0].number,
                        above[1],
                        f"scores {high_score} above the band before it ({low_score}) "
                        f"though {key[1]} is lower_is_better",
                    )
                )


def _check_banded_indicators_have_bands(
    indicators: dict[_Key, _Row], bands_by_indicator: dict[_Key, list], problems: list[Problem]
) -> None:
    """Every indicator scored by bands has at least one band."""
    for key, row in indicators.items():
        if row["scoring_method"] == "bands" and key not in bands_by_indicator:
            problems.append(
                Problem(
                    INDICATORS_FILE,
                    row.number,
                    f"{key[0]} {key[1]}",
                    f"is scored by bands but has no band in {BANDS_FILE}",
                )
            )


def _check_categories(
    category_rows: list[_Row], indicators: dict[_Key, _Row], problems: list[Problem]
) -> dict[tuple[str, str, str], _Row]:
    """Categories belong to an indicator scored by categories, score 0-100 and are unique; returns them."""
    seen_categories: dict[tuple[str, str, str], _Row] = {}
    for row in category_rows:
        key = (row["rubric"], row["indicator"])
        subject = f"{key[0]} {key[1]} {row['category']}"
        score = _number(row, "score", CATEGORIES_FILE, subject, problems, required=True)
        if key not in indicators:
            problems.append(
                Problem(
                    CATEGORIES_FILE,
                    row.number,
                    subject,
                    f"indicator {key[1]!r} is not in {INDICATORS_FILE} for rubric {key[0]!r}",
                )
            )
            continue
        if indicators[key]["scoring_method"] != "categories":
            problems.append(
                Problem(
                    CATEGORIES_FILE,
                    row.number,
                    subject,
                    f"the indicator is scored by {indicators[key]['scoring_method']!r}, not by categories",
                )
            )
        if score is not None and not Decimal(0) <= score <= HUNDRED:
            problems.append(Problem(CATEGORIES_FILE, row.number, subject, f"score {score} is not within 0-100"))
        full_key = (*key, row["category"])
        if full_key in seen_categories:
            problems.append(
                Problem(
                    CATEGORIES_FILE,
                    row.number,
                    subject,
                    f"repeats the category of row {seen_categories[full_key].number}",
                )
            )
        seen_categories[full_key] = row
    return seen_categories


def _check_categorised_indicators_have_categories(
    indicators: dict[_Key, _Row], seen_categories: dict[tuple[str, str, str], _Row], problems: list[Problem]
) -> None:
    """Every indicator scored by categories has at least one category."""
    for key, row in indicators.items():
        if row["scoring_method"] == "categories" and not any(k[:2] == key for k in seen_categories):
            problems.append(
                Problem(
                    INDICATORS_FILE,
                    row.number,
                    f"{key[0]} {key[1]}",
                    f"is scored by categories but has no category in {CATEGORIES_FILE}",
                )
            )


def _check_tiers(tier_rows: list[_Row], problems: list[Problem]) -> None:
    """Tiers are unique, the banded ones cover 0-100 without gap or overlap, and `pending` exists."""
    tier_bands = []
    tier_names: dict[str, _Row] = {}
    for row in tier_rows:
        if row["tier"] in tier_names:
            problems.append(
                Problem(
                    TIERS_FILE, row.number, row["tier"], f"repeats the tier of row {tier_names[row['tier']].number}"
                )
            )
        tier_names[row["tier"]] = row
        lower = _number(row, "min_score", TIERS_FILE, row["tier"], problems, required=False)
        upper = _number(row, "max_score", TIERS_FILE, row["tier"], problems, required=False)
        for value in (lower, upper):
            if value is not None and not Decimal(0) <= value <= HUNDRED:
                problems.append(
                    Problem(
                        TIERS_FILE, row.number, row["tier"], f"bound {value} is outside the composite's range 0-100"
                    )
                )
        if lower is None and upper is None:
            if row["tier"] != "pending":
                problems.append(
                    Problem(TIERS_FILE, row.number, row["tier"], "has no score band; only `pending` may have none")
                )
            continue
        tier_bands.append((row, f"{row['tier']} {_span(lower, upper)}", lower, upper))
    if tier_rows and "pending" not in tier_names:
        problems.append(Problem(TIERS_FILE, None, "pending", "the tier `pending` (待评估, no band) is missing"))
    if tier_rows and not tier_bands:
        problems.append(
            Problem(TIERS_FILE, None, "tiers", "no tier has a score band: composite scores 0-100 fall in no tier")
        )
    if tier_bands:
        _check_tiling(TIERS_FILE, tier_bands, problems)


def _check_settings(setting_rows: list[_Row], problems: list[Problem]) -> dict[str, str]:
    """Settings are known, set once and have an allowed value; returns them by name."""
    settings: dict[str, str] = {}
    for row in setting_rows:
        name, value = row["setting"], row["setting_value"]
        if name not in SETTINGS:
            problems.append(
                Problem(SETTINGS_FILE, row.number, name, f"is not a setting the pipeline knows ({', '.join(SETTINGS)})")
            )
            continue
        if name in settings:
            problems.append(Problem(SETTINGS_FILE, row.number, name, "is set twice"))
        settings[name] = value
        allowed = SETTINGS[name]
        if allowed is not None and value not in allowed:
            problems.append(Problem(SETTINGS_FILE, row.number, name, f"{value!r} is not one of {', '.join(allowed)}"))
        if allowed is None:
            number = _number(row, "setting_value", SETTINGS_FILE, name, problems, required=True)
            if number is not None and name == "fiscal_year_start_month" and number not in range(1, 13):
                problems.append(Problem(SETTINGS_FILE, row.number, name, f"{value} is not a month 1-12"))
            elif number is not None and not Decimal(0) <= number <= HUNDRED:
                problems.append(Problem(SETTINGS_FILE, row.number, name, f"{value} is not within 0-100"))
    return settings


def _check_settings_present(setting_rows: list[_Row], settings: dict[str, str], problems: list[Problem]) -> None:
    """Every setting is present (when the settings file has any row)."""
    for name in SETTINGS:
        if setting_rows and name not in settings:
            problems.append(Problem(SETTINGS_FILE, None, name, "is missing"))


def _check_value_potential_weights_sum(
    setting_rows: list[_Row], settings: dict[str, str], problems: list[Problem]
) -> None:
    """The value and potential weights of the value/potential matrix sum to 100."""
    try:
        value_weight = Decimal(settings["value_potential_value_weight_pct"])
        potential_weight = Decimal(settings["value_potential_potential_weight_pct"])
        if value_weight + potential_weight != HUNDRED:
            row = next(r for r in setting_rows if r["setting"] == "value_potential_potential_weight_pct")
            problems.append(
                Problem(
                    SETTINGS_FILE,
                    row.number,
                    "value_potential_potential_weight_pct",
                    f"value_potential_value_weight_pct {value_weight.normalize():f} + "
                    f"value_potential_potential_weight_pct {potential_weight.normalize():f} = "
                    f"{(value_weight + potential_weight).normalize():f}; the two weights must sum to 100",
                )
            )
    except (KeyError, InvalidOperation):
        pass  # missing or not a number: reported above


def _check_abc_cutoffs_ordered(setting_rows: list[_Row], settings: dict[str, str], problems: list[Problem]) -> None:
    """The ABC cutoff of class A is below that of class B."""
    try:
        if Decimal(settings["abc_a_cutoff_pct"]) >= Decimal(settings["abc_b_cutoff_pct"]):
            row = next(r for r in setting_rows if r["setting"] == "abc_b_cutoff_pct")
            problems.append(Problem(SETTINGS_FILE, row.number, "abc_b_cutoff_pct", "must be above abc_a_cutoff_pct"))
    except (KeyError, InvalidOperation):
        pass  # reported above


def _check_growth_rates(growth_rows: list[_Row], problems: list[Problem]) -> None:
    """Industries are unique and each has a numeric growth rate."""
    industries: dict[str, _Row] = {}
    for row in growth_rows:
        if row["industry"] in industries:
            problems.append(
                Problem(
                    GROWTH_FILE,
                    row.number,
                    row["industry"],
                    f"repeats the industry of row {industries[row['industry']].number}",
                )
            )
        industries[row["industry"]] = row
        _number(row, "growth_rate_pct", GROWTH_FILE, row["industry"], problems, required=True)


def validate_rubric(seeds_dir: Path = SEEDS_DIR, active: str | None = None) -> None:
    """Raise RubricError naming every broken seed row; return quietly when the rubric is sound."""
    problems = check_rubric(seeds_dir, active)
    if problems:
        raise RubricError(problems)


# --- one preset, for Python code that scores ---------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    name: str
    dimension: str
    weight_pct: Decimal
    scoring_method: str
    direction: str
    missing_policy: str
    linear_min: Decimal | None = None
    linear_max: Decimal | None = None
    bands: tuple[tuple[Decimal | None, Decimal | None, Decimal], ...] = ()
    categories: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Rubric:
    name: str
    dimensions: dict[str, Decimal]
    indicators: dict[str, Indicator]
    tiers: tuple[tuple[str, Decimal | None, Decimal | None], ...]


def load_rubric(rubric: str = "default", seeds_dir: Path = SEEDS_DIR) -> Rubric:
    """One preset of a valid rubric (validate first: this does not check)."""

    def rows(name: str) -> list[_Row]:
        return _read(seeds_dir, name, [])

    def number(text: str) -> Decimal | None:
        return Decimal(text) if text.strip() else None

    bands: dict[str, list] = defaultdict(list)
    for row in rows(BANDS_FILE):
        if row["rubric"] == rubric:
            bands[row["indicator"]].append(
                (number(row["lower_bound"]), number(row["upper_bound"]), Decimal(row["score"]))
            )
    categories: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in rows(CATEGORIES_FILE):
        if row["rubric"] == rubric:
            categories[row["indicator"]][row["category"]] = Decimal(row["score"])
    indicators = {
        row["indicator"]: Indicator(
            name=row["indicator"],
            dimension=row["dimension"],
            weight_pct=Decimal(row["weight_pct"]),
            scoring_method=row["scoring_method"],
            direction=row["direction"],
            missing_policy=row["missing_policy"],
            linear_min=number(row["linear_min"]),
            linear_max=number(row["linear_max"]),
            bands=tuple(sorted(bands[row["indicator"]], key=lambda b: (b[0] is not None, b[0] or 0))),
            categories=dict(categories[row["indicator"]]),
        )
        for row in rows(INDICATORS_FILE)
        if row["rubric"] == rubric
    }
    return Rubric(
        name=rubric,
        dimensions={
            row["dimension"]: Decimal(row["weight_pct"]) for row in rows(DIMENSIONS_FILE) if row["rubric"] == rubric
        },
        indicators=indicators,
        tiers=tuple(
            (row["tier"], number(row["min_score"]), number(row["max_score"]))
            for row in rows(TIERS_FILE)
            if row["min_score"] or row["max_score"]
        ),
    )
