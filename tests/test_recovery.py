"""Nothing half-done gets out: failed, refused and killed runs, each after one good night.

Every case runs the real nightly job (`python -m orchestration.run`, as `make run` does) in its
own process on a small demo firm, then checks what BI readers see, what the warehouse holds and
that the next run succeeds with no hand work.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tiering.demo.generate import generate_demo_extracts
from tiering.ingest.contract import ENTITIES
from tiering.publish import serving
from tiering.warehouse import run_lock

FIRST_NIGHT, SECOND_NIGHT = "2026-03-30", "2026-03-31"


def run_job(landing: Path, data_dir: Path, as_of: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TIERING_") and key != "DAGSTER_HOME"}
    env.update(
        TIERING_LANDING_DIR=str(landing),
        TIERING_DATA_DIR=str(data_dir),
        TIERING_AS_OF=as_of,
        TIERING_LOCK_WAIT_SECONDS="0",
        **extra_env,
    )
    return subprocess.run(
        [sys.executable, "-m", "orchestration.run"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=600,
    )


def output(completed: subprocess.CompletedProcess) -> str:
    return completed.stdout + completed.stderr


def serving_state(data_dir: Path) -> tuple[str | None, bytes | None]:
    """The current version and the bytes of the DuckDB file readers open."""
    serving_dir = data_dir / "serving"
    database = serving_dir / "tiering.duckdb"
    return serving.current_version(serving_dir), database.read_bytes() if database.exists() else None


def warehouse(data_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def published(data_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data_dir / "serving" / "tiering.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def assert_whole(data_dir: Path) -> None:
    """The current version is complete: every table readable, its Parquet twin with the same rows."""
    for table, count in published(data_dir, "select table_name, row_count from _publication"):
        assert published(data_dir, f"select count(*) from {table}") == [(count,)]
        parquet = data_dir / "serving" / "parquet" / f"{table}.parquet"
        assert published(data_dir, f"select count(*) from '{parquet}'") == [(count,)]


@pytest.fixture(scope="module")
def good_night(tmp_path_factory) -> tuple[Path, Path]:
    """Landing folder and data folder after one good night."""
    root = tmp_path_factory.mktemp("good_night")
    landing, data_dir = root / "landing", root / "data"
    generate_demo_extracts(landing, customers=150, seed=3, as_of=date.fromisoformat(FIRST_NIGHT))
    completed = run_job(landing, data_dir, FIRST_NIGHT)
    assert completed.returncode == 0, output(completed)[-3000:]
    return landing, data_dir


@pytest.fixture
def night(good_night, tmp_path) -> tuple[Path, Path]:
    """A private copy of the good night, to break."""
    landing, data_dir = tmp_path / "landing", tmp_path / "data"
    shutil.copytree(good_night[0], landing)
    shutil.copytree(good_night[1], data_dir, symlinks=True)
    return landing, data_dir


PRODUCTS_HEADER = "product_id,product_name,product_category,is_active"


def test_a_delivery_without_a_column_stops_the_run_and_a_corrected_one_loads_next_time(night):
    landing, data_dir = night
    before = serving_state(data_dir)
    broken = landing / "erp_products_2026-03-31.csv"
    broken.write_text("product_id,product_name,is_active\nP90001,新品,true\n", encoding="utf-8")

    failed = run_job(landing, data_dir, SECOND_NIGHT)

    assert failed.returncode == 1
    assert "erp_products_2026-03-31.csv, row 1 (header): missing column(s) product_category" in output(failed)
    assert serving_state(data_dir) == before
    assert warehouse(data_dir, "select count(*) from raw._ingested_files where status = 'pending'") == [(0,)]

    broken.write_text(f"{PRODUCTS_HEADER}\nP90001,新品,五金,true\n", encoding="utf-8")
    fixed = run_job(landing, data_dir, SECOND_NIGHT)

    assert fixed.returncode == 0, output(fixed)[-3000:]
    assert serving_state(data_dir)[0] != before[0]
    assert warehouse(data_dir, "select count(*) from raw.erp_products where product_id = 'P90001'") == [(1,)]
    assert_whole(data_dir)


def test_an_entry_the_pipeline_cannot_load_is_listed_and_stops_the_run_only_when_asked(night):
    landing, data_dir = night
    (landing / "erp_invoices_2026-03-31.csv").write_text("invoice_id\nI1\n", encoding="utf-8")
    before = serving_state(data_dir)

    refused = run_job(landing, data_dir, SECOND_NIGHT, TIERING_UNKNOWN_FILES="fail")
    assert refused.returncode == 1
    assert "cannot be loaded and TIERING_UNKNOWN_FILES=fail" in output(refused)
    assert "`erp_invoices_2026-03-31.csv`: unknown entity" in output(refused)
    assert serving_state(data_dir) == before

    warned = run_job(landing, data_dir, SECOND_NIGHT)
    assert warned.returncode == 0, output(warned)[-3000:]
    listed = published(
        data_dir,
        "select file_name, status, reason from landing_files "
        "where run_id = (select any_value(run_id) from _publication) and status <> 'skipped_already_loaded' "
        "order by file_name",
    )
    assert listed == [
        (
            "erp_invoices_2026-03-31.csv",
            "not_loaded",
            "unknown entity: the name starts with none of crm_customers, erp_customers, erp_products, "
            "erp_orders, erp_receivables, crm_complaints",
        )
    ]


def test_a_second_run_while_one_holds_the_warehouse_is_refused_naming_it(night):
    landing, data_dir = night
    before = serving_state(data_dir)
    with run_lock(data_dir, "run deadbeef"):
        refused = run_job(landing, data_dir, SECOND_NIGHT)
    assert refused.returncode == 1
    assert f"{data_dir} is in use by run deadbeef (pid {os.getpid()}" in output(refused)
    assert serving_state(data_dir) == before


def test_an_operator_withdraws_a_delivery_and_the_next_run_publishes_without_it(night):
    landing, data_dir = night
    extra = landing / "erp_products_2026-03-31.csv"
    extra.write_text(f"{PRODUCTS_HEADER}\nP90001,错价商品,五金,true\n", encoding="utf-8")
    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0

    env = {**os.environ, "TIERING_DATA_DIR": str(data_dir), "TIERING_LANDING_DIR": str(landing)}
    tiering = str(Path(sys.executable).with_name("tiering"))
    withdrawn = subprocess.run(
        [tiering, "landing", "withdraw", extra.name, "--reason", "supplier sent a wrong file"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert withdrawn.stdout.startswith(f"Withdrew {extra.name} (erp_products, sha256 ")
    assert warehouse(data_dir, "select count(*) from raw.erp_products where product_id = 'P90001'") == [(0,)]
    assert warehouse(data_dir, "select event, detail from raw._ingest_events where event = 'withdrawn'") == [
        ("withdrawn", "supplier sent a wrong file")
    ]

    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0
    assert published(
        data_dir,
        f"select status, reason from landing_files where as_of_date = '{SECOND_NIGHT}' and file_name = '{extra.name}' "
        "order by checked_at desc limit 1",
    ) == [("skipped_withdrawn", _withdrawn_reason(data_dir, extra.name))]


def _withdrawn_reason(data_dir: Path, name: str) -> str:
    when = warehouse(
        data_dir,
        f"select strftime(withdrawn_at, '%Y-%m-%d %H:%M') from raw._withdrawn_files where source_file = '{name}'",
    )[0][0]
    return f"withdrawn {when}: supplier sent a wrong file"


def test_the_warehouse_is_backed_up_before_each_run_and_one_command_restores_it(night):
    landing, data_dir = night
    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0
    backups = sorted((data_dir / "backups").glob("warehouse_*.duckdb"))
    assert len(backups) == 1  # the first night had nothing to back up
    # The marts, in a file of their own, are copied with the warehouse.
    assert backups[0].with_name(backups[0].name.replace("warehouse_", "marts_", 1)).is_file()

    (data_dir / "warehouse.duckdb").write_bytes(b"this is not a database")
    (data_dir / "marts.duckdb").write_bytes(b"nor is this")
    env = {**os.environ, "TIERING_DATA_DIR": str(data_dir), "TIERING_LANDING_DIR": str(landing)}
    tiering = str(Path(sys.executable).with_name("tiering"))
    restored = subprocess.run([tiering, "warehouse", "restore"], env=env, capture_output=True, text=True)

    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"Warehouse restored from {backups[0].name}")
    assert warehouse(data_dir, "select count(*) > 0 from raw.erp_orders") == [(True,)]
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as connection:
        # The marts as the first night left them: its date alone.
        assert connection.execute("select count(distinct as_of_date) from customer_tiers").fetchall() == [(1,)]
    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0


def test_an_order_in_dollars_is_converted_at_its_rate_never_added_as_cny(night):
    landing, data_dir = night
    orders = landing / "erp_orders_2026-03-31.csv"
    customer = warehouse(data_dir, "select erp_customer_id from raw.erp_customers order by 1 limit 1")[0][0]
    header = ",".join(ENTITIES["erp_orders"].column_names)
    product = warehouse(data_dir, "select product_id from raw.erp_products where is_active order by 1 limit 1")[0][0]
    orders.write_text(
        f"{header}\nUSD0001,1,{customer},2026-03-15,confirmed,{product},1,1130.00,0.13,700.00,USD\n", encoding="utf-8"
    )

    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0

    assert warehouse(
        data_dir,
        "select amount_incl_tax, cost_excl_tax, currency, cny_per_unit from intermediate.int_order_lines_priced "
        "where order_id = 'USD0001'",
    ) == [(Decimal("8011.70"), Decimal("4963.00"), "USD", Decimal("7.090000"))]


CRASH_POINTS = [
    ("ingest:erp_orders:loaded", False),
    ("dbt:before", False),
    ("dbt:running", False),
    ("publish:writing_version", False),
    ("publish:before_switch", False),
    ("publish:switched", True),
]


@pytest.mark.parametrize(("crash_at", "switched"), CRASH_POINTS)
def test_a_run_killed_at_any_stage_leaves_a_whole_version_and_the_next_run_succeeds(night, crash_at, switched):
    landing, data_dir = night
    (landing / "erp_products_2026-03-31.csv").write_text(
        f"{PRODUCTS_HEADER}\nP90001,新品,五金,true\n", encoding="utf-8"
    )
    before = serving_state(data_dir)

    killed = run_job(landing, data_dir, SECOND_NIGHT, TIERING_CRASH_AT=crash_at)

    assert killed.returncode == -signal.SIGKILL, output(killed)[-3000:]
    if switched:
        assert serving_state(data_dir)[0] != before[0]
    else:
        assert serving_state(data_dir) == before
    assert_whole(data_dir)

    again = run_job(landing, data_dir, SECOND_NIGHT)

    assert again.returncode == 0, output(again)[-3000:]
    assert_whole(data_dir)
    assert published(data_dir, "select distinct as_of_date from _publication") == [(date.fromisoformat(SECOND_NIGHT),)]
    assert published(
        data_dir, f"select bool_and(is_balanced) from reconciliation where as_of_date = '{SECOND_NIGHT}'"
    ) == [(True,)]
    assert warehouse(data_dir, "select count(*) from raw.erp_products where product_id = 'P90001'") == [(1,)]
    assert warehouse(data_dir, "select count(*) from raw._ingested_files where status = 'pending'") == [(0,)]


def test_a_credit_code_typed_in_full_width_still_matches_its_firm(night):
    landing, data_dir = night
    crm = warehouse(
        data_dir,
        "select crm_customer_id, customer_name, credit_code from raw.crm_customers where credit_code is not null "
        "order by 1 limit 1",
    )[0]
    full_width = crm[2].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
    header = ",".join(ENTITIES["crm_customers"].column_names)
    (landing / "crm_customers_2026-03-31.csv").write_text(
        f"{header}\nC9999999,{crm[1]},{full_width},,,,,,,,,,\n", encoding="utf-8"
    )
    golden_before = published(data_dir, f"select count(*) from customer_tiers where as_of_date = '{FIRST_NIGHT}'")

    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0

    assert published(
        data_dir,
        f"select match_rule, is_merged, credit_code from customer_crosswalk where as_of_date = '{SECOND_NIGHT}' "
        "and source_customer_id = 'C9999999'",
    ) == [("credit_code", True, crm[2])]
    assert published(data_dir, f"select count(*) from customer_tiers where as_of_date = '{SECOND_NIGHT}'") == (
        golden_before
    )


def test_order_lines_delivered_whole_again_supersede_the_last_delivery_and_raw_keeps_both(night):
    landing, data_dir = night
    first = landing / f"erp_orders_{FIRST_NIGHT}.csv"
    with first.open(encoding="utf-8", newline="") as file:
        header, *lines = list(csv.reader(file))
    amount = header.index("amount_incl_tax")
    changed = lines[-1]
    changed[amount] = str(Decimal(changed[amount]) + 1)  # the supplier corrected one line
    with (landing / f"erp_orders_{SECOND_NIGHT}.csv").open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([header, changed, *lines[:-1]])

    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0

    assert warehouse(
        data_dir,
        "select source_file, superseded from raw._ingested_files where entity = 'erp_orders' order by load_seq",
    ) == [(first.name, True), (f"erp_orders_{SECOND_NIGHT}.csv", False)]
    delivered = warehouse(data_dir, "select count(*) from raw.erp_orders")[0][0]
    staged = warehouse(data_dir, "select count(*), count(distinct source_file) from staging.stg_erp__order_lines")
    assert staged == [(delivered // 2, 1)]
    order_id, line_no = changed[header.index("order_id")], changed[header.index("line_no")]
    assert warehouse(
        data_dir,
        f"select amount_incl_tax, source_row from staging.stg_erp__order_lines "
        f"where order_id = '{order_id}' and line_no = {line_no}",
    ) == [(Decimal(changed[amount]), 1)]
    assert published(
        data_dir, f"select bool_and(is_balanced) from reconciliation where as_of_date = '{SECOND_NIGHT}'"
    ) == [(True,)]


def test_a_run_that_fails_after_loading_takes_its_deliveries_back_out(night):
    landing, data_dir = night
    (landing / "erp_products_2026-03-31.csv").write_text(
        f"{PRODUCTS_HEADER}\nP90001,新品,五金,true\n", encoding="utf-8"
    )
    before = serving_state(data_dir)

    failed = run_job(landing, data_dir, SECOND_NIGHT, TIERING_FAIL_AT="dbt:before")

    assert failed.returncode == 1
    assert "failure injected at dbt:before" in output(failed)
    assert serving_state(data_dir) == before
    assert warehouse(data_dir, "select count(*) from raw.erp_products where product_id = 'P90001'") == [(0,)]
    assert warehouse(data_dir, "select event, source_file from raw._ingest_events where event = 'rolled_back'") == [
        ("rolled_back", "erp_products_2026-03-31.csv")
    ]

    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0
    assert warehouse(
        data_dir, "select status from raw._ingested_files where source_file = 'erp_products_2026-03-31.csv'"
    ) == [("accepted",)]


def test_a_broken_rubric_stops_the_run_before_anything_loads(night):
    landing, data_dir = night
    (landing / "erp_products_2026-03-31.csv").write_text(
        f"{PRODUCTS_HEADER}\nP90001,新品,五金,true\n", encoding="utf-8"
    )
    before = serving_state(data_dir)

    failed = run_job(landing, data_dir, SECOND_NIGHT, TIERING_RUBRIC="no_such_preset")

    assert failed.returncode == 1
    assert "no_such_preset" in output(failed)
    assert serving_state(data_dir) == before
    assert warehouse(
        data_dir,
        "select count(*) from raw._ingested_files where batch_id not in "
        "(select batch_id from raw._ingested_files where status = 'accepted')",
    ) == [(0,)]


def test_a_dbt_test_that_fails_stops_the_run_before_anything_is_published(night, tmp_path):
    # Two USD rates for the same days: no rubric check reads currency_rates; the dbt test
    # assert_currency_rates_do_not_overlap (an error) fails in the build, as the job's process
    # (which keeps dbt-core out) reads dbt's events.
    landing, data_dir = night
    seeds = tmp_path / "seeds"
    shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", seeds)
    with (seeds / "currency_rates.csv").open("a", encoding="utf-8") as rates:
        rates.write("USD,2026-03-01,2026-04-30,7.2000,a second rate for days that have one\n")
    before = serving_state(data_dir)

    failed = run_job(landing, data_dir, SECOND_NIGHT, TIERING_SEEDS_DIR=str(seeds))

    assert failed.returncode == 1, output(failed)[-3000:]
    assert "✗ dbt build (models and tests)" in failed.stdout
    assert "assert_currency_rates_do_not_overlap" in failed.stdout
    assert "publish" not in failed.stdout.split("✗ dbt build")[1].split("The run failed")[0]
    assert serving_state(data_dir) == before


def test_the_extracts_load_in_the_order_the_steps_run(good_night):
    # The loader loads ahead of the steps in the order it predicts; a wrong prediction would only
    # cost the overlap, but the steps' order is what the ledger's load sequence has always been.
    from orchestration.defs import load_ahead
    from orchestration.defs.assets.ingest import _step_name
    from tiering.quality.views import referenced_entities

    _, data_dir = good_night
    [log] = (data_dir / "logs").glob(f"{FIRST_NIGHT}_*.log")
    started = re.findall(r'Started execution of step "raw__(?!_)(\w+)"', log.read_text(encoding="utf-8"))
    names = list(ENTITIES)

    assert started == load_ahead.step_order(names, {name: referenced_entities(name) for name in names}, _step_name)
    assert [
        entity for (entity,) in warehouse(data_dir, "select entity from raw._ingested_files order by load_seq")
    ] == (started)


def test_a_step_that_fails_while_later_extracts_load_ahead_leaves_nothing_of_the_run(night):
    landing, data_dir = night
    (landing / "erp_products_2026-03-31.csv").write_text(
        f"{PRODUCTS_HEADER}\nP90001,新品,五金,true\n", encoding="utf-8"
    )
    # One more order line, for the loader to load while erp_products' step fails (or not yet:
    # either way nothing of it may stay). Its step depends on erp_products' and never runs.
    [first_night_orders] = landing.glob("erp_orders_*.csv")
    with first_night_orders.open(encoding="utf-8", newline="") as handle:
        header, row = list(csv.reader(handle))[:2]
    row[header.index("order_id")] = "AHEAD0001"
    with (landing / "erp_orders_2026-03-31.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, row])
    before = serving_state(data_dir)

    failed = run_job(landing, data_dir, SECOND_NIGHT, TIERING_FAIL_AT="ingest:erp_products:loaded")

    assert failed.returncode == 1
    assert "failure injected at ingest:erp_products:loaded" in output(failed)
    assert serving_state(data_dir) == before
    assert warehouse(data_dir, "select count(*) from raw.erp_products where product_id = 'P90001'") == [(0,)]
    assert warehouse(data_dir, "select count(*) from raw.erp_orders where order_id = 'AHEAD0001'") == [(0,)]
    assert warehouse(data_dir, "select count(*) from raw._ingested_files where status = 'pending'") == [(0,)]

    assert run_job(landing, data_dir, SECOND_NIGHT).returncode == 0
    assert warehouse(
        data_dir,
        "select source_file, status from raw._ingested_files where source_file like '%2026-03-31%' order by 1",
    ) == [("erp_orders_2026-03-31.csv", "accepted"), ("erp_products_2026-03-31.csv", "accepted")]
    assert warehouse(data_dir, "select count(*) from raw.erp_orders where order_id = 'AHEAD0001'") == [(1,)]


def test_marts_kept_in_the_warehouse_move_once_into_their_own_file_history_and_all(tmp_path):
    # A warehouse made before the marts had a file of their own keeps them in its schema marts.
    from tiering.warehouse import move_marts

    marts = tmp_path / "marts.duckdb"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("create schema marts")
        connection.execute("create schema intermediate")
        connection.execute(
            "create table marts.customer_tiers as select * from (values ('C1', date '2026-03-30', 'key'), "
            "('C1', date '2026-03-31', 'strategic')) as t(customer_id, as_of_date, tier)"
        )
        connection.execute(
            "create table marts._history_writes as select * from (values "
            "('marts.customer_tiers', 1, 'first', cast(null as date), true), "
            "('marts.customer_tiers', 2, 'second', date '2026-03-31', false)) "
            "as t(relation, seq, invocation_id, as_of_date, whole_table)"
        )
        connection.execute("create view marts.customer_tiers__dbt_new_rows as select 1 as left_by_a_killed_run")
        connection.execute("create table intermediate.int_customers_tiered as select 1 as stays")

        assert move_marts(connection, marts) == ["_history_writes", "customer_tiers"]
        assert connection.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database() "
            "and schema_name in ('marts', 'intermediate')"
        ).fetchall() == [("intermediate",)]
        assert move_marts(connection, marts) == []  # once

    with duckdb.connect(str(marts), read_only=True) as connection:
        assert connection.execute("select * from main.customer_tiers order by as_of_date").fetchall() == [
            ("C1", date(2026, 3, 30), "key"),
            ("C1", date(2026, 3, 31), "strategic"),
        ]
        # The record of writes names each mart where it is now, so its writes count on.
        assert connection.execute("select relation, seq from main._history_writes order by seq").fetchall() == [
            ("main.customer_tiers", 1),
            ("main.customer_tiers", 2),
        ]
        # In the serving file's format, which a version starts as a copy of.
        assert connection.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
        ).fetchall() == [("v1.0.0+",)]


def test_backups_keep_the_marts_with_their_warehouse_and_restore_them_together(tmp_path):
    from tiering.warehouse import backup, backups, restore

    warehouse_path, marts = tmp_path / "warehouse.duckdb", tmp_path / "marts.duckdb"
    duckdb.connect(str(warehouse_path)).close()
    # A warehouse made before the marts had a file of their own: its backup has none beside it.
    older = backup(warehouse_path, tmp_path, label="older", keep=2)
    assert older.marts is None
    for path, value in ((warehouse_path, "warehouse"), (marts, "marts")):
        with duckdb.connect(str(path)) as connection:
            connection.execute(f"create table night as select '{value} of night 2' as what")
    newer = backup(warehouse_path, tmp_path, label="newer", keep=2)
    assert newer.marts is not None and newer.size_bytes == warehouse_path.stat().st_size + marts.stat().st_size

    for path in (warehouse_path, marts):
        with duckdb.connect(str(path)) as connection:
            connection.execute("update night set what = 'changed since'")
    assert restore(warehouse_path, tmp_path).name == newer.name
    for path, value in ((warehouse_path, "warehouse"), (marts, "marts")):
        with duckdb.connect(str(path), read_only=True) as connection:
            assert connection.execute("select what from night").fetchall() == [(f"{value} of night 2",)]

    # The older backup holds the marts in its warehouse, if anywhere: the marts file goes, and
    # the next run moves them out of the warehouse again.
    restore(warehouse_path, tmp_path, older.name)
    assert not marts.exists()
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        assert connection.execute("select count(*) from duckdb_tables() where table_name = 'night'").fetchall() == [
            (0,)
        ]

    # Only the newest are kept, each with its marts.
    backup(warehouse_path, tmp_path, label="newest", keep=1)
    assert [found.name.rsplit("_", 1)[-1] for found in backups(tmp_path)] == ["newest.duckdb"]
    assert [path.name.split("_")[0] for path in (tmp_path / "backups").iterdir()] == ["warehouse"]
