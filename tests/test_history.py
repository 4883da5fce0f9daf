"""Tiers over time: a three-date history with known events, run through the real job.

As of 2026-01-01 (first run), 2026-02-15 (mid-quarter) and 2026-04-01 (a new quarter):
- X spends 1500万 in the year to 2026-01-01 and 901万 in the year to 2026-02-15 (−40 %):
  the spend trigger moves it from strategic to key mid-quarter;
- Y goes from 1200万 to 961万 (−20 %): computed key mid-quarter, but it keeps strategic until
  the cycle date 2026-04-01;
- Z's last order is 2025-11-01: idle for 3 months by 2026-02-15, the inactivity trigger
  re-tiers it from key to ordinary.
Tax rate 0 and margins of 15 % / 8 % keep the arithmetic exact. The runs use the value_only
rubric (the method's value dimension alone), so each step in spend moves the composite by a
known amount.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from tiering.ingest.contract import ENTITIES

DATES = ("2026-01-01", "2026-02-15", "2026-04-01")
RUBRIC = "value_only"
CUSTOMERS = {
    # crm id: (erp id, name, credit code, first deal date)
    "C1000001": ("E1000001", "甲方科技有限公司", "91110000000000001X", "2015-03-01"),
    "C1000002": ("E1000002", "乙方制造有限公司", "91110000000000002X", "2015-03-01"),
    "C1000003": ("E1000003", "丙方贸易有限公司", "91110000000000003X", "2022-06-01"),
}
# (erp id, order date, category, amount in 万元, margin %)
ORDERS = [
    ("E1000001", "2025-02-01", 1, 600, 15),
    *[("E1000001", "2025-06-01", category, 225, 15) for category in (1, 2, 3, 4)],
    ("E1000001", "2026-01-20", 1, 1, 15),
    ("E1000002", "2025-02-01", 1, 240, 15),
    *[("E1000002", "2025-06-01", category, 240, 15) for category in (1, 2, 3, 4)],
    ("E1000002", "2026-01-20", 1, 1, 15),
    ("E1000003", "2025-02-01", 5, 10, 8),
    ("E1000003", "2025-11-01", 6, 500, 8),
]


def _csv(entity: str, rows: list[list[str]]) -> str:
    return "\n".join([",".join(ENTITIES[entity].column_names), *[",".join(row) for row in rows]]) + "\n"


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("history_landing")
    crm, erp = [], []
    for crm_id, (erp_id, name, code, first_deal) in CUSTOMERS.items():
        crm.append(
            [crm_id, name, code, "制造业", "上海", "", "", "王芳", first_deal, "", "", "", "2025-01-01 00:00:00"]
        )
        erp.append([erp_id, name, code, "2015-01-01 00:00:00"])
    products = [[f"P{category:05d}", f"产品{category}", f"类目{category}", "true"] for category in range(1, 11)]
    orders = []
    for number, (erp_id, order_date, category, amount_10k, margin) in enumerate(ORDERS, start=1):
        amount = Decimal(amount_10k) * 10000
        cost = amount * (100 - margin) / 100
        orders.append(
            [
                f"SO{number:09d}",
                "1",
                erp_id,
                order_date,
                "confirmed",
                f"P{category:05d}",
                "1",
                f"{amount:.2f}",
                "0",
                f"{cost:.2f}",
                "CNY",
            ]
        )
    files = {
        "crm_customers": crm,
        "erp_customers": erp,
        "erp_products": products,
        "erp_orders": orders,
        "erp_receivables": [],
        "crm_complaints": [],
    }
    for entity, rows in files.items():
        (folder / f"{entity}_2026-04-01.csv").write_text(_csv(entity, rows), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def history(landing, tmp_path_factory):
    from tests.conftest import run_nightly_job

    monkeypatch = pytest.MonkeyPatch()
    data_dir = tmp_path_factory.mktemp("history_data")
    runs = {}
    for as_of in DATES:
        runs[as_of] = run_nightly_job(monkeypatch, landing, data_dir, as_of, RUBRIC, configure_environment=True)
        assert runs[as_of].success, f"the nightly job failed as of {as_of}"
    monkeypatch.undo()
    return runs[DATES[-1]]


def _tiers(run, customer_id: str) -> list[tuple]:
    return run.query(
        "select cast(as_of_date as varchar), tier, effective_tier, retier_reason from customer_tiers "
        "where customer_id = ? order by as_of_date",
        [customer_id],
    )


def test_every_as_of_date_is_kept(history):
    assert history.query("select cast(as_of_date as varchar), count(*) from customer_tiers group by 1 order by 1") == [
        (as_of, 3) for as_of in DATES
    ]


def test_each_night_counts_as_written_into_its_serving_version_only_its_own_date(history, tmp_path):
    # dbt records each write of a history mart beside the marts; the last night's version,
    # a copy of the marts, says it holds the rows of its own date alone that the night
    # before's did not. It holds what a version published into an empty serving folder holds,
    # table by table, comments included.
    import duckdb

    from tiering.publish import serving

    with duckdb.connect(str(history.data_dir / "marts.duckdb"), read_only=True) as connection:
        writes = connection.execute(
            "select seq, cast(as_of_date as varchar), whole_table from _history_writes "
            "where relation = 'main.customer_tiers' order by seq"
        ).fetchall()
    assert writes == [(1, None, True), (2, DATES[1], False), (3, DATES[2], False)]
    counts = {
        name: (count, written)
        for name, count, written in history.query("select table_name, row_count, rows_written from _publication")
    }
    assert counts["customer_tiers"] == (9, 3)
    [(scores_tonight,)] = history.query(
        "select count(*) from customer_indicator_scores where as_of_date = ?", [DATES[2]]
    )
    assert 0 < scores_tonight == counts["customer_indicator_scores"][1] < counts["customer_indicator_scores"][0]
    assert counts["dq_results"][0] == counts["dq_results"][1]  # no record of writes: whole

    whole = serving.publish(
        history.data_dir / "warehouse.duckdb", tmp_path / "serving", run_id="whole-copy", as_of=DATES[2]
    )
    assert whole.row_counts == {name: count for name, (count, _) in counts.items()}
    with duckdb.connect(str(whole.serving_path), read_only=True) as connection:
        connection.execute(f"attach '{history.serving_path}' as nightly (read_only)")
        for name in serving.PUBLISHED_TABLES:
            for one, other in (("main", "nightly.main"), ("nightly.main", "main")):
                extra = connection.execute(
                    f"select count(*) from (select * from {one}.{name} except all select * from {other}.{name})"
                ).fetchall()
                assert extra == [(0,)], f"{name} differs"
        comments = (
            "select table_name, column_name, comment from duckdb_columns() where database_name = ? "
            "and table_name <> '_publication' order by all"
        )
        [(home,)] = connection.execute("select current_database()").fetchall()
        assert connection.execute(comments, [home]).fetchall() == connection.execute(comments, ["nightly"]).fetchall()


def test_a_later_date_reuses_the_dbt_parse_of_the_run_before(history):
    # The as-of date reaches dbt as TIERING_AS_OF, not a var: a new date leaves dbt's saved
    # parse valid, and the dates above are scored each as of itself (test_every_as_of_date_is_kept).
    # The run's warm dbt parsed from it while the extracts loaded, and the build ran on that
    # parse (orchestration/dbt_warm.py): the parse's log is beside the build's, which parsed nothing.
    from orchestration.dbt_invocation import PROJECT_DIR
    from orchestration.dbt_warm import PARSE_LOG

    (build,) = PROJECT_DIR.glob(f"target/tiering_dbt-{history.result.run_id[:7]}-*")
    parse = (build / PARSE_LOG).read_text(encoding="utf-8")
    assert "Unable to do partial parsing" not in parse
    assert "skipping parsing" in parse or "skipping partial parsing" in parse
    built = (build / "dbt.log").read_text(encoding="utf-8")
    assert "partial parsing" not in built.lower() and "skipping parsing" not in built
    assert "PASS=" in built or "Completed successfully" in built


def test_every_test_of_a_table_that_keeps_every_date_checks_the_date_it_builds(history):
    # Such a table grows by a night's rows every night (a million a night for the effective
    # tiers at a million customers): a test over all of it would cost more every night, and a
    # past date could block tonight's run (macros/get_where_subquery.sql). What the third night
    # compiled and ran is in the manifest its build wrote.
    from orchestration.dbt_invocation import PROJECT_DIR

    (build,) = PROJECT_DIR.glob(f"target/tiering_dbt-{history.result.run_id[:7]}-*")
    nodes = json.loads((build / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    kept = {uid for uid, node in nodes.items() if node["config"].get("unique_key") == "as_of_date"}
    assert "model.tiering.int_customer_tiers_stabilized" in kept and len(kept) == 14
    tests = {
        node["name"]: " ".join(node["compiled_code"].split())
        for node in nodes.values()
        if node["resource_type"] == "test" and kept & set(node["depends_on"]["nodes"])
    }
    assert len(tests) > 40
    unfiltered = [name for name, sql in tests.items() if f"as_of_date = cast('{DATES[-1]}' as date)" not in sql]
    assert unfiltered == []


def test_a_customer_whose_spend_falls_40_percent_drops_at_the_trigger(history):
    assert _tiers(history, "C1000001") == [
        ("2026-01-01", "strategic", "strategic", "initial"),
        ("2026-02-15", "key", "key", "spend_trigger"),
        ("2026-04-01", "key", "key", "cycle"),
    ]
    change = history.query(
        "select cast(as_of_date as varchar), from_tier, to_tier, reason, composite_before, composite_after, "
        "indicators_moved_most from tier_changes where customer_id = 'C1000001'"
    )
    assert change == [
        ("2026-02-15", "strategic", "key", "spend_trigger", Decimal("97.5"), Decimal("89.5"), "annual_spend -8.00")
    ]


def test_a_customer_whose_spend_changes_20_percent_keeps_its_tier_until_the_cycle_date(history):
    assert _tiers(history, "C1000002") == [
        ("2026-01-01", "strategic", "strategic", "initial"),
        ("2026-02-15", "key", "strategic", None),
        ("2026-04-01", "key", "key", "cycle"),
    ]
    assert history.query(
        "select cast(as_of_date as varchar), reason from tier_changes where customer_id = 'C1000002'"
    ) == [("2026-04-01", "cycle")]


def test_a_customer_idle_for_3_months_triggers(history):
    assert _tiers(history, "C1000003") == [
        ("2026-01-01", "key", "key", "initial"),
        ("2026-02-15", "ordinary", "ordinary", "inactivity_trigger"),
        ("2026-04-01", "ordinary", "ordinary", "cycle"),
    ]
    reasons = history.query(
        "select reasons, owner from churn_risk_customers where customer_id = 'C1000003' and as_of_date = '2026-02-15'"
    )
    assert reasons == [("inactive", "王芳")]


def test_migration_counts_reconcile_with_the_tier_counts_of_both_dates(history):
    for earlier, later in zip(DATES, DATES[1:], strict=False):
        migration = history.query(
            "select from_tier, to_tier, customer_count from tier_migration where as_of_date = ?", [later]
        )
        for as_of, side in ((earlier, 0), (later, 1)):
            counts = dict(
                history.query(
                    "select effective_tier, count(*) from customer_tiers where as_of_date = ? group by 1", [as_of]
                )
            )
            summed: dict[str, int] = {}
            for row in migration:
                if row[side] not in ("new", "gone"):
                    summed[row[side]] = summed.get(row[side], 0) + row[2]
            assert summed == counts, f"migration into {later} does not reconcile with {as_of}"


def test_downgrades_of_strategic_and_key_customers_are_alerted(history):
    alerts_file = history.data_dir / "serving" / "alerts" / "downgrades.jsonl"
    lines = alerts_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3  # X and Z mid-quarter, Y at the cycle date
    assert '"customer_id": "C1000001"' in lines[0] and '"to_tier": "key"' in lines[0]


def test_rerunning_an_as_of_date_changes_nothing(history, landing, run_pipeline):
    tables = ("customer_tiers", "tier_changes", "tier_migration", "tier_kpis", "churn_risk_customers")
    before = {table: history.query(f"select * from {table} order by all") for table in tables}
    rerun = run_pipeline(landing, history.data_dir, DATES[1], RUBRIC)
    assert rerun.success
    # Its version holds again the rows of the date it ran, written anew.
    assert rerun.query("select row_count, rows_written from _publication where table_name = 'customer_tiers'") == [
        (9, 3)
    ]
    for table in tables:
        assert rerun.query(f"select * from {table} order by all") == before[table], f"{table} changed"
    alerts_file = history.data_dir / "serving" / "alerts" / "downgrades.jsonl"
    assert len(alerts_file.read_text(encoding="utf-8").splitlines()) == 3  # not recorded twice


def test_the_backfill_command_runs_each_date_in_order_through_a_dagster_backfill(landing, tmp_path, monkeypatch):
    import subprocess
    import sys

    import dagster as dg

    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("TIERING_")},
        "TIERING_LANDING_DIR": str(landing),
        "TIERING_DATA_DIR": str(tmp_path / "data"),
        "TIERING_RUBRIC": RUBRIC,
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.backfill",
            "--start",
            "2026-01-01",
            "--end",
            "2026-02-15",
            "--every",
            "45",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("Backfill ") and lines[0].endswith(
        "2 as-of dates from 2026-01-01 to 2026-02-15, one at a time"
    )
    assert [line.split(":")[0] for line in lines[1:]] == ["2026-01-01", "2026-02-15"]
    from tests.conftest import PipelineRun

    published = PipelineRun(True, None, tmp_path / "data").query(
        "select cast(as_of_date as varchar), count(*) from customer_tiers group by 1 order by 1"
    )
    assert published == [("2026-01-01", 3), ("2026-02-15", 3)]
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        [backfill] = instance.get_backfills()
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
        records = [
            (instance.get_run_record_by_id(run.run_id).start_time, run.tags["dagster/partition"]) for run in runs
        ]
    assert [partition for _, partition in sorted(records)] == ["2026-01-01", "2026-02-15"]


def test_migration_between_any_two_dates_reconciles_and_names_unpublished_dates(history):
    from tiering.publish.migration import tier_migration

    rows = tier_migration(history.serving_path, "2026-01-01", "2026-04-01")
    assert sorted((row[0], row[1], row[2]) for row in rows) == [
        ("key", "ordinary", 1),
        ("strategic", "key", 2),
    ]
    with pytest.raises(ValueError, match="2026-03-01 is not published"):
        tier_migration(history.serving_path, "2026-01-01", "2026-03-01")


def test_a_run_replaces_its_own_date_in_a_history_mart_and_adds_a_new_column(history, tmp_path):
    # The warehouse of the runs above, its customer_tiers as an older release left it: without
    # a column the project has since added, and with a row of the last run's date that the
    # run's rows do not have. Rebuilt as of that date, the mart gains the column (null on the
    # other dates), loses the stale row and keeps the other dates' rows as they were.
    import shutil

    import duckdb

    from tests.conftest import run_dbt

    for name in ("warehouse.duckdb", "marts.duckdb"):
        shutil.copy(history.data_dir / name, tmp_path / name)
    mart, column = "marts.customer_tiers", "retier_reason"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute(f"attach '{tmp_path / 'marts.duckdb'}' as marts")
        # The date the intermediate tables were last built for (a test above re-runs one).
        [(night,)] = connection.execute(
            "select cast(as_of_date as varchar) from intermediate.int_scoring_periods_resolved"
        ).fetchall()
        before = connection.execute(f"select * exclude ({column}) from {mart} order by all").fetchall()
        tonight = f"select customer_id, {column} from {mart} where as_of_date = '{night}' order by all"
        rows_tonight = connection.execute(tonight).fetchall()
        others = f"select count(*), count({column}) from {mart} where as_of_date <> '{night}'"
        [(other_rows, other_reasons)] = connection.execute(others).fetchall()
        assert other_rows == 6 and other_reasons >= 3  # at least 2026-01-01's three `initial`
        connection.execute(f"alter table {mart} drop column {column}")
        connection.execute(
            f"insert into {mart} by name select 'STALE' as customer_id, as_of_date, tier, effective_tier "
            f"from {mart} where as_of_date = '{night}' limit 1"
        )

    run_dbt(["run", "--quiet", "--select", "customer_tiers"], tmp_path, {"as_of_date": night, "rubric": RUBRIC})

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        connection.execute(f"attach '{tmp_path / 'marts.duckdb'}' as marts (read_only)")
        assert connection.execute(f"select * exclude ({column}) from {mart} order by all").fetchall() == before
        assert connection.execute(tonight).fetchall() == rows_tonight
        assert connection.execute(others).fetchall() == [(6, 0)]
        assert connection.execute("select count(*) from duckdb_views() where view_name like '%dbt%'").fetchall() == [
            (0,)
        ]
