"""The Excel workbook beside the Parquet files: the tables a sales or service manager opens.

One sheet per table, the as-of date's rows only: the tier summaries (of the computed and of the
effective tier, each with its total row), the customer tiers (highest composite first), the
churn-risk list (highest risk first) and the day's tier changes. Headers
are the published column names (the same names as in the DuckDB file and the Parquet files, so a
formula written against one works against the others), each with its description as a note;
Chinese names and labels are written as text, untouched.

Excel holds at most 1,048,576 rows a sheet, a person reads the top of a list, and writing a cell
costs Python time (about 3 s per 100,000 cells), so a sheet stops at ``max_rows`` rows
(``TIERING_EXCEL_MAX_ROWS``, 10,000 by default): the rows written are the first in the sheet's
order (highest composite, highest risk first), and the workbook's first sheet says how many were
left out and where the whole table is. Nothing is dropped from the DuckDB file or the Parquet
files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import xlsxwriter

from tiering.publish.catalog import TableDoc, as_doubles, table_columns

WORKBOOK_FILE = "tiering.xlsx"
EXCEL_ROW_LIMIT = 1_048_575  # rows under the header


@dataclass(frozen=True)
class Sheet:
    table: str
    title: str  # the sheet's tab: at most 31 characters
    order_by: str


SHEETS = (
    Sheet("tier_summary", "分级汇总 tier_summary", "is_total_row, sort_order"),
    Sheet("tier_summary_effective", "执行分级汇总 tier_summary_effective", "is_total_row, sort_order"),
    Sheet("customer_tiers", "客户分级 customer_tiers", "composite_score desc nulls last, customer_id"),
    Sheet("churn_risk_customers", "流失风险 churn_risk", "risk_rank, customer_id"),
    Sheet("tier_changes", "等级变动 tier_changes", "is_downgrade desc, customer_id"),
)


@dataclass(frozen=True)
class SheetWritten:
    table: str
    rows: int
    rows_in_table: int


def _select(connection: duckdb.DuckDBPyConnection, table: str) -> tuple[list[tuple[str, str]], str]:
    columns = table_columns(connection, table)
    # Decimals as doubles: Excel has one number type; the exact values stay in the DuckDB file.
    return columns, as_doubles(columns, ("DECIMAL", "HUGEINT"))


def _cell_writer(worksheet, data_type: str, number_format) -> Callable[[int, int, object], object]:
    """How a column's values are written, chosen once per column rather than per cell (which
    is most of a cell's cost). Text is always text: a name that starts with = or http:// is not
    made a formula or a link."""
    if data_type.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL", "HUGEINT")):
        return lambda row, column, value: worksheet.write_number(row, column, value, number_format)
    if data_type in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return worksheet.write_number
    if data_type == "BOOLEAN":
        return worksheet.write_boolean
    if data_type in ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"):
        return worksheet.write_datetime
    if data_type == "VARCHAR":
        return worksheet.write_string
    return worksheet.write


def write_workbook(
    database: Path,
    path: Path,
    *,
    as_of: str,
    docs: dict[str, TableDoc],
    max_rows: int = 10_000,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> list[SheetWritten]:
    """Write the workbook at ``path`` from the serving file ``database``, read through
    ``connection`` when given (a cursor of a connection to it that is open), else read-only."""
    max_rows = min(max_rows, EXCEL_ROW_LIMIT)
    written: list[SheetWritten] = []
    workbook = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "default_date_format": "yyyy-mm-dd", "strings_to_numbers": False},
    )
    header = workbook.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1})
    number = workbook.add_format({"num_format": "#,##0.00####"})
    about = workbook.add_worksheet("说明 about")
    with connection or duckdb.connect(str(database), read_only=True) as connection:
        connection.execute("set enable_progress_bar = false")
        for sheet in SHEETS:
            columns, select = _select(connection, sheet.table)
            names = [name for name, _ in columns]
            total = connection.execute(
                f"select count(*) from main.{sheet.table} where as_of_date = ?", [as_of]
            ).fetchall()[0][0]
            worksheet = workbook.add_worksheet(sheet.title)
            doc = docs.get(sheet.table, TableDoc())
            for column, name in enumerate(names):
                worksheet.write_string(0, column, name, header)
                if doc.columns.get(name):
                    worksheet.write_comment(0, column, doc.columns[name], {"x_scale": 2, "y_scale": 2})
                worksheet.set_column(column, column, max(10, min(40, len(name) + 2)))
            worksheet.freeze_panes(1, 0)
            cursor = connection.execute(
                f"select {select} from main.{sheet.table} where as_of_date = ? "
                f"order by {sheet.order_by} limit {max_rows}",
                [as_of],
            )
            writers = [_cell_writer(worksheet, data_type, number) for _, data_type in columns]
            row = 0
            while batch := cursor.fetchmany(50_000):
                for values in batch:
                    row += 1
                    for column, value in enumerate(values):
                        if value is not None:
                            writers[column](row, column, value)
            worksheet.autofilter(0, 0, max(row, 1), len(names) - 1)
            written.append(SheetWritten(sheet.table, row, total))
    about.set_column(0, 0, 28)
    about.set_column(1, 1, 100)
    about.write_row(0, 0, ["as_of_date", as_of], header)
    line = 2
    for sheet, result in zip(SHEETS, written, strict=True):
        description = docs.get(sheet.table, TableDoc()).description
        about.write_string(line, 0, sheet.table, header)
        note = f"{result.rows:,} rows"
        if result.rows < result.rows_in_table:
            note = (
                f"the first {result.rows:,} of {result.rows_in_table:,} rows: the sheet stops at "
                f"TIERING_EXCEL_MAX_ROWS; every row is in tiering.duckdb and parquet/{sheet.table}.parquet"
            )
        about.write_string(line, 1, f"{note}. {description}".strip())
        line += 1
    workbook.close()
    return written
