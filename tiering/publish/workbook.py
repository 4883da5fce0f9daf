"""The Excel workbook beside the Parquet files: the tables a sales or service manager opens.

One sheet per table, the as-of date's rows only: the tier summaries (of the computed and of the
effective tier, each with its total row), the customer tiers (highest composite first), the
churn-risk list (highest risk first) and the day's tier changes. Headers
are the published column names (the same names as in the DuckDB file and the Parquet files, so a
formula written against one works against the others), each with its description as a note;
Chinese names and labels are written as text, untouched.

Each sheet's rows stream from DuckDB to the writer in Arrow batches, and the writer
(rustpy-xlsxwriter, Python's binding of rust_xlsxwriter, the Rust port of XlsxWriter) writes
the cells in compiled code: about 0.45 s for the 550,000 cells of 10,000 customers, where
writing them one by one from Python took 2.9 s. Text is always text: a name that starts with
= or http:// is not made a formula or a link.

Excel holds at most 1,048,576 rows a sheet and a person reads the top of a list, so a sheet
stops at ``max_rows`` rows (``TIERING_EXCEL_MAX_ROWS``, 10,000 by default): the rows written
are the first in the sheet's order (highest composite, highest risk first), and the workbook's
first sheet says how many were left out and where the whole table is. Nothing is dropped from
the DuckDB file or the Parquet files.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb
import rustpy_xlsxwriter as xlsx

from tiering.publish.catalog import TableDoc, table_columns

WORKBOOK_FILE = "tiering.xlsx"
EXCEL_ROW_LIMIT = 1_048_575  # rows under the header
EXCEL_CELL_CHARACTERS = 32_767
ABOUT_TITLE = "说明 about"
# A header note's box: twice Excel's default size (128 x 74 pixels), room for a description.
NOTE_SIZE = {"width": 256, "height": 148}
# Excel shows a note's author in bold above its text: there, the column's name, within
# Excel's limit for an author.
AUTHOR_LIMIT = 52
ARROW_BATCH_ROWS = 50_000


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


# Column types as the workbook writes them. Excel has one number type: exact decimals go as
# doubles (the exact values stay in the DuckDB file) with a number format; text, and any other
# type than these as its text, goes cut to what a cell holds.
_FRACTIONAL = ("DECIMAL", "HUGEINT", "DOUBLE", "FLOAT", "REAL")
_AS_WRITTEN = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_AS_WRITTEN += ("BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")


def _cell_value(name: str, data_type: str) -> str:
    """The select expression of one column, as the workbook writes it. Text longer than an Excel
    cell holds (32,767 characters) is cut at that length: the whole value is in the DuckDB file
    and the Parquet files."""
    if data_type.startswith(_FRACTIONAL):
        return f'cast("{name}" as double) as "{name}"'
    if data_type in _AS_WRITTEN:
        return f'"{name}"'
    return f'left(cast("{name}" as varchar), {EXCEL_CELL_CHARACTERS}) as "{name}"'


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
    header = xlsx.Format().set_bold().set_background_color("#DDE4EE").set_border("thin")
    number = xlsx.Format().set_num_format("#,##0.00####")
    written: list[SheetWritten] = []
    sheets, widths, formats, notes = [], {}, {}, {}
    with connection or duckdb.connect(str(database), read_only=True) as connection, ExitStack() as cursors:
        connection.execute("set enable_progress_bar = false")
        for sheet in SHEETS:
            columns = table_columns(connection, sheet.table)
            total = connection.execute(
                f"select count(*) from main.{sheet.table} where as_of_date = ?", [as_of]
            ).fetchall()[0][0]
            # Each sheet's rows come from a cursor of their own, in Arrow batches that the writer
            # takes one at a time; DuckDB holds each sheet's first rows, sorted, until then.
            rows = (
                cursors.enter_context(connection.cursor())
                .sql(
                    f"select {', '.join(_cell_value(name, data_type) for name, data_type in columns)} "
                    f"from main.{sheet.table} where as_of_date = ? order by {sheet.order_by} limit {max_rows}",
                    params=[as_of],
                )
                .to_arrow_reader(ARROW_BATCH_ROWS)
            )
            sheets.append((sheet.title, rows))
            widths[sheet.title] = [max(10, min(40, len(name) + 2)) for name, _ in columns]
            formats[sheet.title] = {name: number for name, data_type in columns if data_type.startswith(_FRACTIONAL)}
            described = docs.get(sheet.table, TableDoc()).columns
            notes[sheet.title] = {
                name: {"text": described[name], "author": name[:AUTHOR_LIMIT], **NOTE_SIZE}
                for name, _ in columns
                if described.get(name)
            }
            written.append(SheetWritten(sheet.table, min(total, max_rows), total))
        # The first sheet: the as-of date as its header, a blank row, then a line per sheet with
        # its rows and what it holds.
        about = [{"as_of_date": None, as_of: None}]  # the blank row
        for sheet, result in zip(SHEETS, written, strict=True):
            note = f"{result.rows:,} rows"
            if result.rows < result.rows_in_table:
                note = (
                    f"the first {result.rows:,} of {result.rows_in_table:,} rows: the sheet stops at "
                    f"TIERING_EXCEL_MAX_ROWS; every row is in tiering.duckdb and parquet/{sheet.table}.parquet"
                )
            description = docs.get(sheet.table, TableDoc()).description
            about.append({"as_of_date": sheet.table, as_of: f"{note}. {description}".strip()})
        data_sheets = [sheet.title for sheet in SHEETS]
        xlsx.write_worksheets(
            [(ABOUT_TITLE, about), *sheets],
            str(path),
            header_format={"general": header},
            datetime_format="yyyy-mm-dd",
            column_widths={ABOUT_TITLE: [28, 100], **widths},
            column_formats=formats,
            notes=notes,
            freeze_panes={title: {"row": 1, "col": 0} for title in data_sheets},
            autofilter={title: True for title in data_sheets},
        )
    return written
