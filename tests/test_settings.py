"""Settings are checked up front: a bad value names the variable, the value and what is allowed."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import REPO_ROOT, run_dbt
from tiering import settings

CASES = {
    "TIERING_MEMORY_LIMIT": (
        "lots",
        "TIERING_MEMORY_LIMIT='lots' is not an amount of memory; expected a number and a unit, e.g. 6GB, 512MB or 1.5GiB",
    ),
    "TIERING_AS_OF": ("2026-02-30", "TIERING_AS_OF='2026-02-30' is not a date; expected YYYY-MM-DD, e.g. 2026-11-21"),
    "TIERING_RUBRIC": (
        "Default!",
        "TIERING_RUBRIC='Default!' is not a preset name; expected e.g. default, manufacturing or retail",
    ),
    "TIERING_NOTIFIER": (
        "email me",
        "TIERING_NOTIFIER='email me' is not a notifier; expected file, log or package.module:ClassName",
    ),
    "TIERING_KEEP_VERSIONS": ("0", "TIERING_KEEP_VERSIONS='0' is too small; expected 1 or more"),
    "TIERING_KEEP_BACKUPS": ("three", "TIERING_KEEP_BACKUPS='three' is not a whole number; expected 1 or more"),
    "TIERING_UNKNOWN_FILES": ("maybe", "TIERING_UNKNOWN_FILES='maybe' is not allowed; expected one of warn, fail"),
    "TIERING_LOCK_WAIT_SECONDS": ("-5", "TIERING_LOCK_WAIT_SECONDS='-5' is too small; expected 0 or more"),
    "TIERING_ENGINE": ("postgres", "TIERING_ENGINE='postgres' is not allowed; expected one of duckdb, spark"),
}


@pytest.mark.parametrize("variable", sorted(CASES))
def test_a_bad_setting_is_refused_naming_variable_value_and_what_is_allowed(variable):
    value, message = CASES[variable]
    with pytest.raises(settings.SettingsError) as refused:
        settings.load({variable: value})
    assert str(refused.value) == message


def test_a_folder_setting_that_names_a_file_is_refused(tmp_path):
    a_file = tmp_path / "landing.csv"
    a_file.write_text("x")
    with pytest.raises(settings.SettingsError, match=r"TIERING_LANDING_DIR='.*landing\.csv' is not a folder"):
        settings.load({"TIERING_LANDING_DIR": str(a_file)})


def test_good_settings_are_read_as_given(tmp_path):
    config = settings.load(
        {
            "TIERING_LANDING_DIR": str(tmp_path / "in"),
            "TIERING_DATA_DIR": str(tmp_path / "data"),
            "TIERING_AS_OF": "2026-11-20",
            "TIERING_MEMORY_LIMIT": "1.5 GiB",
            "TIERING_NOTIFIER": "mycompany.alerts:Mailer",
            "TIERING_KEEP_VERSIONS": "3",
            "TIERING_UNKNOWN_FILES": "FAIL",
        }
    )
    assert (config.landing_dir, config.data_dir) == (tmp_path / "in", tmp_path / "data")
    assert (config.as_of.isoformat(), config.memory_limit, config.notifier) == (
        "2026-11-20",
        "1.5GiB",
        "mycompany.alerts:Mailer",
    )
    assert (config.keep_versions, config.unknown_files, config.keep_backups) == (3, "fail", 3)


def test_the_memory_limit_reaches_duckdb_checked():
    assert settings.duckdb_config({"TIERING_MEMORY_LIMIT": "512MB"}) == {"memory_limit": "512MB"}
    with pytest.raises(settings.SettingsError, match="TIERING_MEMORY_LIMIT='lots'"):
        settings.duckdb_config({"TIERING_MEMORY_LIMIT": "lots"})


def test_every_setting_is_documented_in_the_example_environment_file():
    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    for variable in [*CASES, "TIERING_LANDING_DIR", "TIERING_DATA_DIR"]:
        assert f"{variable}=" in example, variable


def test_the_engine_is_duckdb_unless_spark_is_asked_for(tmp_path):
    assert settings.load({}).engine == "duckdb"
    spark = settings.load({"TIERING_ENGINE": " Spark ", "TIERING_DATA_DIR": str(tmp_path)})
    assert (spark.engine, spark.spark_dir) == ("spark", tmp_path.resolve() / "spark")


def test_dbt_run_by_hand_falls_back_to_the_pipelines_memory_limit():
    profile = (REPO_ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    assert f"var('memory_limit', '{settings.DEFAULT_MEMORY_LIMIT}')" in profile
    assert f"TIERING_MEMORY_LIMIT={settings.DEFAULT_MEMORY_LIMIT}\n" in example


def test_dbt_opens_the_warehouse_with_the_memory_limit_of_its_vars_and_in_any_row_order(tmp_path):
    # Both are given when dbt-duckdb opens the database, not per model: what every model's
    # query sees is what DuckDB itself reports.
    shown = run_dbt(
        [
            "show",
            "--quiet",
            "--output",
            "json",
            "--inline",
            "select current_setting('memory_limit') as memory_limit, "
            "current_setting('preserve_insertion_order') as preserve_insertion_order",
        ],
        tmp_path,
        {"memory_limit": "1GB"},
    )
    row = json.loads(shown.stdout)["show"][0]
    with duckdb.connect(config={"memory_limit": "1GB"}) as connection:
        (expected,) = connection.execute("select current_setting('memory_limit')").fetchall()[0]
    assert (row["memory_limit"], row["preserve_insertion_order"]) == (expected, False)
