"""GX's SQL engine over DuckDB, with and without tiering.quality.gx_sql_fix.

Two million order lines with defects planted at known rows: the real erp_orders suite, run by
GX inside DuckDB, must count every one exactly. Without the fix GX returns no counts at all
(upstream issues 10738 and 11579): the second test pins that, so we learn when an upgrade of
GX makes the fix unnecessary.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date

import duckdb
import pytest

from tiering.quality import gx_sql_fix, validate

ROWS = 2_000_000
AS_OF = date(2026, 6, 30)

# Each defect hits the rows whose index i satisfies i % modulus == residue; counts follow.
PLANTED = {
    "order_id_null": (100_003, 5),
    "status_unknown": (70_001, 11),
    "amount_negative": (50_021, 3),
    "tax_rate_too_high": (400_009, 17),
    "customer_unknown": (250_007, 19),
    "order_date_after_as_of": (300_017, 23),
    "currency_not_cny": (900_001, 29),
}


def planted(name: str) -> int:
    modulus, residue = PLANTED[name]
    return len(range(residue, ROWS, modulus))


def _when(name: str, value: str, otherwise: str) -> str:
    modulus, residue = PLANTED[name]
    return f"case when i % {modulus} = {residue} then {value} else {otherwise} end"


ORDERS_SQL = f"""
create table erp_orders as
select
    {_when("order_id_null", "null", "'SO' || lpad(cast(i // 2 as varchar), 9, '0')")} as order_id,
    cast(i % 2 + 1 as integer) as line_no,
    {_when("customer_unknown", "'E9999999'", "'E' || lpad(cast(i % 1000 as varchar), 7, '0')")} as erp_customer_id,
    {_when("order_date_after_as_of", "date '2026-07-04'", "date '2026-01-01' + cast(i % 150 as integer)")} as order_date,
    {_when("status_unknown", "'shipped'", "'confirmed'")} as status,
    'P' || lpad(cast(i % 50 as varchar), 4, '0') as product_id,
    cast(1 as decimal(18, 4)) as quantity,
    cast({_when("amount_negative", "-113.00", "113.00")} as decimal(18, 2)) as amount_incl_tax,
    cast({_when("tax_rate_too_high", "0.35", "0.13")} as decimal(6, 4)) as tax_rate,
    cast(80.00 as decimal(18, 2)) as cost_excl_tax,
    {_when("currency_not_cny", "'USD'", "'CNY'")} as currency
from range({ROWS}) as numbers(i)
"""


@pytest.fixture(scope="module")
def orders_connection():
    with duckdb.connect() as connection:
        connection.execute(ORDERS_SQL)
        connection.execute(
            "create table erp_customers as select 'E' || lpad(cast(i as varchar), 7, '0') as erp_customer_id, "
            "'Firm ' || i as customer_name, null as credit_code, null::timestamp as created_at from range(1000) t(i)"
        )
        connection.execute(
            "create table erp_products as select 'P' || lpad(cast(i as varchar), 4, '0') as product_id, "
            "'Item' as product_name, 'parts' as product_category, true as is_active from range(50) t(i)"
        )
        yield connection


def counts(result: validate.SuiteOutcome) -> dict[tuple[str, str | None], int]:
    return {(o.expectation, o.column): o.unexpected_count for o in result.outcomes}


def test_planted_defects_in_two_million_rows_are_counted_exactly_by_gx_in_duckdb(orders_connection):
    result = validate.validate_table(orders_connection, "erp_orders", "erp_orders", as_of=AS_OF)

    found = counts(result)
    assert all(o.element_count == ROWS for o in result.outcomes)
    assert found[("expect_column_values_to_not_be_null", "order_id")] == planted("order_id_null")
    assert found[("expect_column_values_to_be_in_set", "status")] == planted("status_unknown")
    assert found[("expect_column_values_to_be_between", "amount_incl_tax")] == planted("amount_negative")
    assert found[("expect_column_values_to_be_between", "tax_rate")] == planted("tax_rate_too_high")
    assert found[("expect_column_values_to_be_in_set", "currency")] == planted("currency_not_cny")
    assert found[("expect_column_values_to_be_null", "erp_customer_id_not_in_erp_customers")] == planted(
        "customer_unknown"
    )
    assert found[("expect_column_values_to_be_null", "order_date_after_as_of")] == planted("order_date_after_as_of")
    assert found[("expect_column_values_to_be_null", "product_id_not_in_erp_products")] == 0
    assert found[("expect_column_values_to_be_between", "quantity")] == 0
    assert found[("expect_compound_columns_to_be_unique", "order_id, line_no")] == 0
    assert result.success  # all of these are warnings; the contract (columns) holds


def test_repeated_keys_in_two_million_rows_are_counted_exactly(orders_connection):
    orders_connection.execute("create or replace table keyed as select * from erp_orders where order_id is not null")
    orders_connection.execute(
        "update keyed set order_id = 'SO000000001', line_no = 1 where order_id in ('SO000500000', 'SO000700000') "
        "and line_no = 1"
    )

    result = validate.validate_table(orders_connection, "keyed", "erp_orders", as_of=AS_OF)

    # every row of a repeated key counts: the three rows that share SO000000001 / 1
    assert counts(result)[("expect_compound_columns_to_be_unique", "order_id, line_no")] == 3
    assert counts(result)[("expect_column_values_to_not_be_null", "order_id")] == 0


def _unexpected_count(connection, table: str, expectation) -> int:
    """GX's count of the rows of ``table`` that break ``expectation``."""
    import duckdb_engine

    gx = validate._gx()
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(
        name="w",
        connection_string="duckdb:///:memory:",
        kwargs={"creator": lambda: duckdb_engine.ConnectionWrapper(connection.cursor())},
    )
    batch = source.add_table_asset(name=table, table_name=table).add_batch_definition_whole_table("all").get_batch()
    try:
        result = batch.validate(expectation, result_format="SUMMARY")
    finally:
        source.get_execution_engine().engine.dispose()
    assert result.exception_info.get("raised_exception") is not True, result.exception_info
    return result.result["unexpected_count"]


def _ours_and_gxs(metric: str, count) -> tuple[int, int]:
    """``count()`` with the fix's provider of ``metric``, then with GX's own."""
    providers = _registered_metrics()[metric]["providers"]
    metric_class, fixed = providers["SqlAlchemyExecutionEngine"]
    ours = count()
    providers["SqlAlchemyExecutionEngine"] = (metric_class, fixed.__wrapped__)
    try:
        return ours, count()
    finally:
        providers["SqlAlchemyExecutionEngine"] = (metric_class, fixed)


@pytest.mark.parametrize("ignore_row_if", ["any_value_is_missing", "all_values_are_missing", "never"])
def test_repeated_compound_keys_are_counted_as_gx_itself_counts_them(orders_connection, ignore_row_if):
    """Over DuckDB the fix counts a compound key's repeats from its groups alone; GX's own count
    joins every row to its group. Both must give the planted count, in every ignore_row_if mode:
    rows missing a key value (the planted null order_ids, repeated among themselves) are never
    counted, as GX's inner join on the key never matches them."""
    orders_connection.execute("create or replace table repeated as select * from erp_orders")
    orders_connection.execute(  # three rows share SO000000001 / 1, two share SO000000003 / 2
        "update repeated set order_id = 'SO000000001', line_no = 1 where order_id in ('SO000500000', 'SO000700000') "
        "and line_no = 1"
    )
    orders_connection.execute(
        "update repeated set order_id = 'SO000000003', line_no = 2 where order_id = 'SO000900000' and line_no = 2"
    )
    null_keys = orders_connection.execute(
        "select count(*) from repeated where order_id is null group by line_no having count(*) > 1"
    ).fetchall()
    assert null_keys, "the planted null order_ids must repeat a (null, line_no) key"
    expectation = validate._gx().expectations.ExpectCompoundColumnsToBeUnique(
        column_list=["order_id", "line_no"], ignore_row_if=ignore_row_if
    )

    ours, gxs = _ours_and_gxs(
        gx_sql_fix.COMPOUND_UNIQUE_COUNT, lambda: _unexpected_count(orders_connection, "repeated", expectation)
    )

    assert ours == gxs == 5


def test_repeated_values_of_a_column_are_counted_as_gx_itself_counts_them(orders_connection):
    """A single column's repeats, counted from its groups over DuckDB, against GX's own count (a
    window over every row): three rows share one value, two another, and the missing values,
    repeated among themselves, are not counted."""
    orders_connection.execute(
        f"""
        create or replace table numbered as
        select case when i % 100_003 = 5 then null
                    when i in (500_000, 700_000) then 1
                    when i = 900_000 then 3
                    else i end as invoice_no
        from range({ROWS}) as numbers(i)
        """
    )
    missing = orders_connection.execute("select count(*) from numbered where invoice_no is null").fetchall()[0][0]
    assert missing > 1
    expectation = validate._gx().expectations.ExpectColumnValuesToBeUnique(column="invoice_no")

    ours, gxs = _ours_and_gxs(
        gx_sql_fix.UNIQUE_COUNT, lambda: _unexpected_count(orders_connection, "numbered", expectation)
    )

    assert ours == gxs == 5


def _registered_metrics() -> dict:
    from great_expectations.expectations.registry import _registered_metrics

    return _registered_metrics


def test_without_the_fix_gx_sql_returns_no_counts_over_duckdb(tmp_path):
    """Upstream behaviour, in a fresh process where the fix is never applied."""
    script = textwrap.dedent(
        """
        import os
        os.environ["GX_ANALYTICS_ENABLED"] = "False"
        import duckdb, duckdb_engine, great_expectations as gx
        connection = duckdb.connect()
        connection.execute("create table t as select case when i % 10 = 0 then null else i end as x from range(1000) t(i)")
        context = gx.get_context(mode="ephemeral")
        source = context.data_sources.add_sql(
            name="w", connection_string="duckdb:///:memory:",
            kwargs={"creator": lambda: duckdb_engine.ConnectionWrapper(connection.cursor())})
        batch = source.add_table_asset(name="t", table_name="t").add_batch_definition_whole_table("all").get_batch()
        result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="x"))
        print(result.result.get("unexpected_count"))
        """
    )
    # Run as a file: under `python -c`, importing GX with pyspark installed ends the process
    # early (pyspark takes it for a doctest run) and nothing is printed.
    path = tmp_path / "upstream.py"
    path.write_text(script, encoding="utf-8")
    completed = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "None", completed.stderr[-2000:]
