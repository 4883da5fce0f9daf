"""TIERING_ENGINE=spark: the same nightly job on Apache Spark (local, in session mode) publishes
the same tables as on DuckDB, row for row, and the Great Expectations suites count the same
defects through GX's Spark execution engine.

Needs a Java runtime and pyspark / dbt-spark (`make test` installs them where it can); without
them these tests are skipped and say why.
"""

from __future__ import annotations

import importlib.util
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tiering.publish.serving import PUBLISHED_TABLES

AS_OF = "2026-06-30"
# The run's own identity and clock: different between any two runs, on one engine or two.
RUN_COLUMNS = {"run_id", "batch_id", "checked_at", "validated_at", "loaded_at"}


def spark_missing() -> str | None:
    if shutil.which("java") is None:
        return (
            "no Java runtime (java is not on PATH): `make test` installs Debian's openjdk-17-jre-headless "
            "when run as root; otherwise install Java 17 or later"
        )
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "pyspark and dbt-spark are not installed: `make spark` installs requirements-spark.lock"
    return None


pytestmark = [
    pytest.mark.spark,
    pytest.mark.e2e,
    pytest.mark.skipif(spark_missing() is not None, reason=str(spark_missing())),
]


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory):
    """The demo data through the nightly job twice: on DuckDB and on Spark."""
    from tests.conftest import run_nightly_job
    from tiering.demo.generate import generate_demo_extracts

    root = tmp_path_factory.mktemp("engines")
    landing = root / "landing"
    generate_demo_extracts(landing, customers=150, as_of=date.fromisoformat(AS_OF))
    monkeypatch = pytest.MonkeyPatch()
    # Tiny data: fewer shuffle partitions spare Spark most of its per-task overhead.
    monkeypatch.setenv("TIERING_SPARK_SHUFFLE_PARTITIONS", "1")
    try:
        duck = run_nightly_job(monkeypatch, landing, root / "duckdb", AS_OF)
        spark = run_nightly_job(monkeypatch, landing, root / "spark", AS_OF, engine="spark")
    finally:
        monkeypatch.undo()
    assert duck.success, "the nightly job failed on DuckDB"
    failures = [event.message for event in spark.result.all_events if event.is_step_failure]
    assert spark.success, f"the nightly job failed on Spark: {failures}"
    return duck, spark


def published(serving_path: Path, table: str) -> tuple[list[str], list[tuple]]:
    """A published table's columns, and its rows without the run's identity, in a fixed order."""
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        columns = [row[0] for row in connection.execute(f"describe {table}").fetchall()]
        kept = [column for column in columns if column not in RUN_COLUMNS]
        rows = connection.execute(f"select {', '.join(f'{chr(34)}{c}{chr(34)}' for c in kept)} from {table}").fetchall()
    return columns, sorted(rows, key=lambda row: tuple((value is None, str(value)) for value in row))


@pytest.mark.parametrize("table", sorted(PUBLISHED_TABLES))
def test_every_published_table_is_identical_on_spark(both_engines, table):
    duck, spark = both_engines
    duck_columns, duck_rows = published(duck.serving_path, table)
    spark_columns, spark_rows = published(spark.serving_path, table)
    assert spark_columns == duck_columns
    assert len(spark_rows) == len(duck_rows)
    # Exact equality: Decimal against Decimal, float against float, nothing approximate.
    for duck_row, spark_row in zip(duck_rows, spark_rows, strict=True):
        assert spark_row == duck_row


def test_the_comparison_has_real_rows_and_scores(both_engines):
    _, spark = both_engines
    tiers = spark.query(
        "select count(*), count(composite_score), sum(composite_score) from customer_tiers where as_of_date = ?",
        [AS_OF],
    )
    count, scored, total = tiers[0]
    assert count >= 140 and scored > 100 and isinstance(total, Decimal)
    assert spark.query("select count(*) from customer_indicator_scores")[0][0] > 1000
    assert spark.query("select bool_and(is_balanced), count(*) from reconciliation") == [(True, 9)]


def test_published_parquet_files_are_the_same_on_spark(both_engines):
    duck, spark = both_engines
    duck_files = sorted(path.name for path in (duck.data_dir / "serving" / "parquet").glob("*.parquet"))
    spark_files = sorted(path.name for path in (spark.data_dir / "serving" / "parquet").glob("*.parquet"))
    assert spark_files == duck_files == sorted(f"{name}.parquet" for name in PUBLISHED_TABLES)
    with duckdb.connect() as connection:
        for name in spark_files:
            counts = [
                connection.execute(
                    f"select count(*) from read_parquet('{run.data_dir / 'serving' / 'parquet' / name}')"
                ).fetchall()[0][0]
                for run in (duck, spark)
            ]
            assert counts[0] == counts[1], name
    # Switched in as a version, as on DuckDB; the auditor report beside it.
    assert (spark.data_dir / "serving" / "current").is_symlink()
    assert (spark.data_dir / "serving" / "reports" / "latest.html").read_text(encoding="utf-8").strip()


def test_extracts_are_landed_as_parquet_tables_with_lineage_and_ledger(both_engines):
    _, spark = both_engines
    raw = spark.data_dir / "spark" / "warehouse" / "raw.db"
    with duckdb.connect(str(spark.data_dir / "warehouse.duckdb"), read_only=True) as warehouse:
        ledger = dict(
            warehouse.execute("select entity, sum(rows_loaded) from raw._ingested_files group by 1").fetchall()
        )
    with duckdb.connect() as connection:
        for entity, loaded in ledger.items():
            rows, files, lineage = connection.execute(
                f"select count(*), count(distinct _load_seq), count(_source_row) "
                f"from read_parquet('{raw / entity / '*.parquet'}')"
            ).fetchall()[0]
            assert (rows, files, lineage) == (loaded, 1, loaded), entity
        for bookkeeping in ("_ingested_files", "_quarantine", "_dq_results", "_landing_files", "_ingest_events"):
            assert list((raw / bookkeeping).glob("*.parquet")), bookkeeping
    # dbt on Spark built its models as Parquet tables of the Spark warehouse.
    marts = spark.data_dir / "spark" / "warehouse" / "marts.db" / "customer_tiers"
    assert list(marts.glob(f"as_of_date={AS_OF}/*.parquet"))


# --- Great Expectations on Spark --------------------------------------------------------


def _orders_with_planted_defects(path: Path) -> duckdb.DuckDBPyConnection:
    """raw.erp_orders of 40 clean lines, then: 4 negative amounts, 3 unknown products and one
    line repeated (a duplicate key is 2 rows to GX)."""
    from tiering.ingest import ledger

    connection = duckdb.connect(str(path))
    ledger.ensure_raw_schema(connection)
    connection.execute(
        "insert into raw.erp_customers by name select 'E' || i as erp_customer_id, 'firm ' || i as customer_name, "
        "timestamp '2024-01-01' as created_at from range(5) t(i)"
    )
    connection.execute(
        "insert into raw.erp_products by name select 'P' || i as product_id, 'product ' || i as product_name, "
        "'tools' as product_category, true as is_active from range(5) t(i)"
    )
    connection.execute(
        """
        insert into raw.erp_orders by name
        select 'O' || i as order_id, 1 as line_no, 'E' || (i % 5) as erp_customer_id, date '2026-05-01' as order_date,
               'confirmed' as status, 'P' || (i % 5) as product_id, 2 as quantity, 113.00 as amount_incl_tax,
               0.13 as tax_rate, 50.00 as cost_excl_tax, 'CNY' as currency
        from range(40) t(i)
        """
    )
    connection.execute("update raw.erp_orders set amount_incl_tax = -1 where order_id in ('O1', 'O2', 'O3', 'O4')")
    connection.execute("update raw.erp_orders set product_id = 'P-UNKNOWN' where order_id in ('O10', 'O11', 'O12')")
    connection.execute("insert into raw.erp_orders select * from raw.erp_orders where order_id = 'O20'")
    return connection


def test_gx_on_spark_counts_planted_defects_exactly(tmp_path):
    from tiering.quality import validate as quality
    from tiering.spark.session import local_session

    with _orders_with_planted_defects(tmp_path / "warehouse.duckdb") as connection:
        on_spark = quality.validate_table_on_spark(
            connection,
            "raw.erp_orders",
            "erp_orders",
            as_of=date.fromisoformat(AS_OF),
            spark=local_session(),
            work_dir=tmp_path / "checks",
        )
        on_duckdb = quality.validate_table(connection, "raw.erp_orders", "erp_orders", as_of=date.fromisoformat(AS_OF))

    def failed(outcome):
        return {(o.expectation, o.column): o.unexpected_count for o in outcome.outcomes if not o.success}

    assert failed(on_spark) == {
        ("expect_column_values_to_be_between", "amount_incl_tax"): 4,
        ("expect_column_values_to_be_null", "product_id_not_in_erp_products"): 3,
        ("expect_compound_columns_to_be_unique", "order_id, line_no"): 2,
    }
    assert {o.element_count for o in on_spark.outcomes} == {41}
    assert not on_spark.blocking_failures
    # The same outcome, expectation by expectation, as inside DuckDB.
    assert [(o.expectation, o.column, o.success, o.unexpected_count) for o in on_spark.outcomes] == [
        (o.expectation, o.column, o.success, o.unexpected_count) for o in on_duckdb.outcomes
    ]
    samples = {o.column: o.sample_values for o in on_spark.outcomes if not o.success}
    assert samples["amount_incl_tax"] == ["-1.00"]
    assert samples["product_id_not_in_erp_products"] == ["P-UNKNOWN"]
