"""The Dagster code location loads, and holds the job, schedule, sensor and checks it should."""

import json
import subprocess
import sys
from datetime import UTC, datetime

import dagster as dg

from orchestration.definitions import defs
from tests.conftest import REPO_ROOT


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_nightly_job_covers_ingest_dbt_and_publish():
    job = defs.resolve_job_def("nightly_tiering")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert "raw/erp_orders" in keys
    assert "marts/customer_tiers" in keys
    assert "serving/tiering" in keys


def test_schedule_runs_at_two_in_the_morning_shanghai_time_for_that_days_partition():
    schedule = defs.resolve_schedule_def("nightly_tiering_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    tick = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 02:00 on the 24th in Shanghai
    with dg.instance_for_test() as instance:
        request = schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick))
    assert request.partition_key == "2026-11-24"


def test_every_asset_is_partitioned_by_the_as_of_date_and_grouped_by_layer():
    graph = defs.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert groups == {"rubric", "ingest", "staging", "cleaning", "scoring", "history", "marts", "audit", "publish"}
    job = defs.resolve_job_def("nightly_tiering")
    assert job.partitions_def.timezone == "Asia/Shanghai"
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.partitions_def == job.partitions_def, key
            assert node.owners == ["team:data-engineering"], key


def test_sensor_watches_the_landing_folder():
    sensor = defs.resolve_sensor_def("new_extracts_sensor")
    assert sensor.job_name == "nightly_tiering"


def test_dbt_tests_appear_as_asset_checks():
    check_keys = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert any(name.startswith("dbt_utils_unique_combination_of_columns_customer_tiers") for name in check_keys)
    assert "contract_expectations" in check_keys
    assert "rows_reconcile" in check_keys


def test_the_sensor_requests_todays_partition_for_new_files_and_skips_when_nothing_changed(tmp_path):
    from orchestration.defs.config import TieringConfig
    from orchestration.defs.sensors import new_extracts_sensor
    from tiering.settings import today_in_shanghai

    (tmp_path / "erp_orders_2026-11-21.csv").write_text("order_id\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an extract", encoding="utf-8")
    resources = {"tiering": TieringConfig(landing_dir=str(tmp_path), data_dir=str(tmp_path / "data"))}

    with dg.instance_for_test() as instance:
        first = new_extracts_sensor(dg.build_sensor_context(instance=instance, resources=resources))
        assert isinstance(first, dg.RunRequest)
        assert first.tags["tiering/new_files"] == "erp_orders_2026-11-21.csv"
        assert first.partition_key == today_in_shanghai().isoformat()

        cursor = json.dumps({"erp_orders_2026-11-21.csv": _fingerprint(tmp_path / "erp_orders_2026-11-21.csv")})
        again = new_extracts_sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources))
        assert isinstance(again, dg.SkipReason)


def _fingerprint(path):
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def test_the_rubric_check_runs_before_every_seed():
    graph = defs.resolve_asset_graph()
    seeds = [key for key in graph.get_all_asset_keys() if key.path[0] == "rubric" and key.path[-1] != "configuration"]
    assert len(seeds) >= 7
    for key in seeds:
        assert dg.AssetKey(["rubric", "configuration"]) in graph.get(key).parent_keys


def test_reconciliation_and_dedup_checks_are_asset_checks_of_their_models():
    checks = {(key.asset_key.to_user_string(), key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert ("marts/reconciliation", "accepted_values_reconciliation_is_balanced__True") in checks
    assert ("intermediate/int_customers_matched", "assert_no_golden_customer_has_two_valid_credit_codes") in checks
    dropped_lines = "assert_every_confirmed_line_is_attributed_or_an_outlier"
    assert ("intermediate/int_order_lines_attributed", dropped_lines) in checks


def test_only_the_newest_dbt_build_folders_are_kept(tmp_path, monkeypatch):
    import os

    from orchestration import dbt_invocation

    monkeypatch.setattr(dbt_invocation, "PROJECT_DIR", tmp_path)
    for age in range(13):
        folder = tmp_path / "target" / f"tiering_dbt-run{age:02d}-abc"
        folder.mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
    for age in range(4):
        parse = tmp_path / "target" / "parses" / f"config{age}"
        parse.mkdir(parents=True)
        os.utime(parse, (1_000_000 - age, 1_000_000 - age))
    (tmp_path / "target" / "manifest.json").write_text("{}")

    removed = dbt_invocation.prune_builds(keep=10, keep_parses=3)

    assert sorted(path.name for path in removed) == [
        "config3",
        *(f"tiering_dbt-run{age:02d}-abc" for age in (10, 11, 12)),
    ]
    kept = sorted(path.name for path in (tmp_path / "target").iterdir())
    assert kept == ["manifest.json", "parses", *(f"tiering_dbt-run{age:02d}-abc" for age in range(10))]
    assert sorted(path.name for path in (tmp_path / "target" / "parses").iterdir()) == ["config0", "config1", "config2"]


def test_each_configuration_starts_its_builds_from_its_own_saved_dbt_parse(tmp_path, monkeypatch):
    # Two configurations on one checkout (a nightly job and a backfill into another data
    # folder, or the test suite's runs side by side) must not replace each other's parse.
    from orchestration import dbt_invocation

    monkeypatch.setattr(dbt_invocation, "PROJECT_DIR", tmp_path)
    nightly = ["build", "--target", "duckdb", "--vars", '{"warehouse_path": "/nightly/warehouse.duckdb"}']
    backfill = ["build", "--target", "duckdb", "--vars", '{"warehouse_path": "/backfill/warehouse.duckdb"}']
    for args, parse in ((nightly, b"the nightly parse"), (backfill, b"the backfill parse")):
        first = dbt_invocation.build_target("0a1b2c3d-run", args)
        assert not (first / "partial_parse.msgpack").exists()  # dagster-dbt brings make manifest's
        (first / "partial_parse.msgpack").write_bytes(parse)
        dbt_invocation.keep_parse(first, args)

    following = dbt_invocation.build_target("4e5f6a7b-run", nightly)

    assert following.parent == tmp_path / "target"
    assert following.name.startswith("tiering_dbt-4e5f6a7-")
    assert (following / "partial_parse.msgpack").read_bytes() == b"the nightly parse"
    backfill_build = dbt_invocation.build_target("4e5f6a7b-run", backfill)
    assert (backfill_build / "partial_parse.msgpack").read_bytes() == b"the backfill parse"


_DESCRIBE_GRAPH = """
import json, sys, warnings
warnings.simplefilter("ignore")
if sys.argv[1] == "without":
    from orchestration.run import without_dbt_core
    without_dbt_core()
from orchestration.definitions import defs
graph = defs.resolve_asset_graph()
assets = {}
for key in graph.get_all_asset_keys():
    node = graph.get(key)
    assets[key.to_user_string()] = {
        "parents": sorted(parent.to_user_string() for parent in node.parent_keys),
        "group": node.group_name,
        "description": node.description,
        "tags": node.tags,
        "kinds": sorted(node.kinds),
        "metadata": sorted(node.metadata),
        "owners": sorted(node.owners),
        "checks": sorted(check.to_user_string() for check in node.check_keys),
    }
checks = {
    check.to_user_string(): [graph.get_check_spec(check).blocking, graph.get_check_spec(check).description]
    for check in graph.asset_check_keys
}
job = defs.resolve_job_def("nightly_tiering")
print(json.dumps({
    "dbt_core_imported": sys.modules.get("dbt") is not None,
    "assets": assets,
    "checks": checks,
    "job": sorted(key.to_user_string() for key in job.asset_layer.executable_asset_keys),
}, sort_keys=True, default=str))
"""


def test_the_job_process_builds_the_same_asset_graph_without_dbt_core():
    # `python -m orchestration.run` keeps dbt-core out of its process; dagster-dbt then reads the
    # project's nodes from the manifest instead of selecting them with dbt.
    described = {
        mode: json.loads(
            subprocess.run(
                [sys.executable, "-c", _DESCRIBE_GRAPH, mode],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            ).stdout
        )
        for mode in ("with", "without")
    }
    with_dbt, without_dbt = described["with"], described["without"]
    assert (with_dbt.pop("dbt_core_imported"), without_dbt.pop("dbt_core_imported")) == (True, False)
    assert len(with_dbt["assets"]) > 60 and len(with_dbt["checks"]) > 150
    assert without_dbt == with_dbt
