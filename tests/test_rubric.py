"""The rubric check: the committed seeds pass, and each kind of broken seed is refused with
the file and row named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tiering import settings
from tiering.rubric.checks import SEEDS_DIR, RubricError, check_rubric, load_rubric, validate_rubric


@pytest.fixture
def seeds(tmp_path) -> Path:
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, start: str) -> int:
    """Spreadsheet row number (header = 1) of the first line that starts with ``start``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(start):
            return number
    raise AssertionError(start)


def messages(seeds: Path, active: str | None = "default") -> list[str]:
    return [str(problem) for problem in check_rubric(seeds, active)]


@pytest.mark.parametrize("preset", ["default", "manufacturing", "retail"])
def test_the_committed_rubric_passes_for_every_preset(preset):
    assert check_rubric(SEEDS_DIR, preset) == []


def test_an_overlapping_band_is_refused_with_its_row_named(seeds):
    bands = seeds / "rubric_indicator_bands.csv"
    edit(bands, "default,profit_margin,10,15,75", "default,profit_margin,10,16,75")
    row = line_of(bands, "default,profit_margin,15,18,")
    assert (
        f"seeds/rubric_indicator_bands.csv row {row} (default profit_margin 15–18): "
        f"overlaps the band before it (10–16, row {row - 1})" in messages(seeds)
    )


def test_a_gap_between_bands_is_refused(seeds):
    bands = seeds / "rubric_indicator_bands.csv"
    edit(bands, "default,annual_spend,100,500,60", "default,annual_spend,120,500,60")
    row = line_of(bands, "default,annual_spend,120,500")
    assert any(
        message.startswith(f"seeds/rubric_indicator_bands.csv row {row} (default annual_spend 120–500): leaves a gap")
        for message in messages(seeds)
    )


def test_a_band_bound_with_more_than_4_decimals_is_refused_because_the_seed_would_round_it(seeds):
    bands = seeds / "rubric_indicator_bands.csv"
    edit(bands, "default,profit_margin,10,15,75", "default,profit_margin,10,14.99995,75")
    edit(bands, "default,profit_margin,15,18,90", "default,profit_margin,14.99995,18,90")
    row = line_of(bands, "default,profit_margin,10,14.99995")
    assert (
        f"seeds/rubric_indicator_bands.csv row {row} (default profit_margin 10–14.99995): "
        "bound 14.99995 has more than 4 decimals; the seed would round it" in messages(seeds)
    )


def test_a_band_that_leaves_the_top_uncovered_is_refused(seeds):
    edit(seeds / "rubric_indicator_bands.csv", "default,annual_spend,1000,,100", "default,annual_spend,1000,5000,100")
    assert any("values from 5000 up fall in no band" in message for message in messages(seeds))


def test_dimension_weights_that_do_not_sum_to_100_are_refused(seeds):
    edit(
        seeds / "rubric_dimensions.csv",
        "default,strategic,客户战略,Strategic importance,10",
        "default,strategic,客户战略,Strategic importance,15",
    )
    assert (
        "seeds/rubric_dimensions.csv row 2 (rubric default): "
        "the dimension weights sum to 105, not 100 (rows 2, 3, 4, 5)" in messages(seeds)
    )


def test_indicator_weights_that_do_not_sum_to_100_within_a_dimension_are_refused(seeds):
    indicators = seeds / "rubric_indicators.csv"
    edit(
        indicators,
        "default,demand_match,potential,需求匹配度,Demand match,%,40,",
        "default,demand_match,potential,需求匹配度,Demand match,%,35,",
    )
    assert any(
        message.startswith(
            "seeds/rubric_indicators.csv row 6 (default potential): "
            "the indicator weights of dimension 'potential' sum to 95"
        )
        for message in messages(seeds)
    )


def test_tier_bands_that_do_not_cover_0_to_100_are_refused(seeds):
    edit(seeds / "rubric_tiers.csv", "ordinary,普通级客户,Ordinary,60,75,", "ordinary,普通级客户,Ordinary,60,70,")
    assert any(
        message.startswith(
            "seeds/rubric_tiers.csv row 3 (key 75–90): leaves a gap after the band before it (60–70, row 4)"
        )
        for message in messages(seeds)
    )


def test_a_band_of_an_indicator_that_does_not_exist_is_refused(seeds):
    bands = seeds / "rubric_indicator_bands.csv"
    with bands.open("a", encoding="utf-8") as handle:
        handle.write("default,customer_charm,,,100\n")
    row = len(bands.read_text(encoding="utf-8").splitlines())
    assert (
        f"seeds/rubric_indicator_bands.csv row {row} (default customer_charm …–…): "
        "indicator 'customer_charm' is not in rubric_indicators.csv for rubric 'default'" in messages(seeds)
    )


def test_an_indicator_the_pipeline_does_not_measure_or_in_an_unknown_dimension_is_refused(seeds):
    edit(seeds / "rubric_indicators.csv", "default,strategic_level,strategic,", "default,brand_synergy,strategy,")
    found = messages(seeds)
    assert any(
        "(default brand_synergy): indicator 'brand_synergy' is not one the pipeline measures" in m for m in found
    )
    assert any(
        "(default brand_synergy): dimension 'strategy' is not a dimension of rubric 'default'" in m for m in found
    )


def test_bands_that_contradict_the_direction_are_refused(seeds):
    edit(seeds / "rubric_indicator_bands.csv", "default,profit_margin,18,,100", "default,profit_margin,18,,50")
    assert any(
        "scores 50 below the band before it (90) though profit_margin is higher_is_better" in m for m in messages(seeds)
    )


def test_an_unknown_preset_is_refused_naming_the_presets_there_are():
    with pytest.raises(RubricError, match="TIERING_RUBRIC=wholesale.*presets defined: default, manufacturing, retail"):
        validate_rubric(SEEDS_DIR, "wholesale")


def test_validate_lists_every_problem_in_one_error(seeds):
    edit(
        seeds / "rubric_dimensions.csv",
        "default,risk,客户风险,Customer risk,20",
        "default,risk,客户风险,Customer risk,25",
    )
    edit(seeds / "rubric_tiers.csv", "key,重点级客户,Key,75,90,", "key,重点级客户,Key,70,90,")
    with pytest.raises(RubricError) as caught:
        validate_rubric(seeds, "default")
    assert len(caught.value.problems) == 2
    assert "nothing was scored" in str(caught.value)


def test_load_rubric_reads_one_preset():
    manufacturing = load_rubric("manufacturing")
    assert set(manufacturing.dimensions) == {"value", "stability", "influence"}
    assert sum(manufacturing.dimensions.values()) == 100
    retail = load_rubric("retail")
    assert set(retail.dimensions) == {"frequency", "order_value", "activity"}


def test_tiering_rubric_selects_the_preset_and_defaults_to_default():
    assert settings.load({}).rubric == "default"
    assert settings.load({"TIERING_RUBRIC": " retail "}).rubric == "retail"
    with pytest.raises(settings.SettingsError, match="TIERING_RUBRIC"):
        settings.load({"TIERING_RUBRIC": "Retail; drop table"})


@pytest.mark.parametrize("period", ["calendar_year_to_date", "fiscal_year_to_date", "calendar_year", "fiscal_year"])
def test_every_spend_period_the_models_know_is_accepted(seeds, period):
    edit(seeds / "rubric_settings.csv", "spend_period,trailing_12_months,", f"spend_period,{period},")
    assert messages(seeds) == []


def test_an_unknown_spend_period_is_refused_with_its_row_named(seeds):
    edit(seeds / "rubric_settings.csv", "spend_period,trailing_12_months,", "spend_period,year_to_date,")
    row = line_of(seeds / "rubric_settings.csv", "spend_period,")
    assert any(
        message.startswith(f"seeds/rubric_settings.csv row {row} (spend_period): 'year_to_date' is not one of")
        for message in messages(seeds)
    )


def test_value_and_potential_weights_that_do_not_sum_to_100_are_refused(seeds):
    settings_file = seeds / "rubric_settings.csv"
    edit(settings_file, "value_potential_potential_weight_pct,40,", "value_potential_potential_weight_pct,50,")
    row = line_of(settings_file, "value_potential_potential_weight_pct,")
    assert (
        f"seeds/rubric_settings.csv row {row} (value_potential_potential_weight_pct): "
        "value_potential_value_weight_pct 60 + value_potential_potential_weight_pct 50 = 110; "
        "the two weights must sum to 100" in messages(seeds)
    )


def test_a_value_weight_outside_0_to_100_is_refused_with_its_row_named(seeds):
    settings_file = seeds / "rubric_settings.csv"
    edit(settings_file, "value_potential_value_weight_pct,60,", "value_potential_value_weight_pct,140,")
    edit(settings_file, "value_potential_potential_weight_pct,40,", "value_potential_potential_weight_pct,-40,")
    value_row = line_of(settings_file, "value_potential_value_weight_pct,")
    potential_row = line_of(settings_file, "value_potential_potential_weight_pct,")
    found = messages(seeds)
    assert (
        f"seeds/rubric_settings.csv row {value_row} (value_potential_value_weight_pct): 140 is not within 0-100"
        in found
    )
    assert (
        f"seeds/rubric_settings.csv row {potential_row} (value_potential_potential_weight_pct): -40 is not within 0-100"
        in found
    )


def test_an_empty_weight_is_refused_as_not_a_number(seeds):
    settings_file = seeds / "rubric_settings.csv"
    edit(settings_file, "value_potential_value_weight_pct,60,", "value_potential_value_weight_pct,,")
    row = line_of(settings_file, "value_potential_value_weight_pct,")
    assert messages(seeds) == [
        f"seeds/rubric_settings.csv row {row} (value_potential_value_weight_pct): "
        "setting_value is empty; a number is expected"
    ]


def test_the_value_and_potential_weights_are_settings_that_must_be_present(seeds):
    settings_file = seeds / "rubric_settings.csv"
    text = settings_file.read_text(encoding="utf-8")
    settings_file.write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("value_potential_value_weight_pct")) + "\n",
        encoding="utf-8",
    )
    assert "seeds/rubric_settings.csv (value_potential_value_weight_pct): is missing" in messages(seeds)
