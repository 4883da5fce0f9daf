"""The one SQL string literal the project builds statements with."""

from pathlib import Path

import duckdb
import pytest

from tiering.sql import literal


@pytest.mark.parametrize(
    "value",
    ["plain", "O'Brien's", "''", "'; drop table raw.erp_orders; --", "客户分级 '战略级'", Path("/data/it's/landing")],
)
def test_a_literal_reads_back_as_the_value_it_quotes(value):
    assert duckdb.sql(f"select {literal(value)}").fetchall() == [(str(value),)]
