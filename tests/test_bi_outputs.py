"""What BI tools and people get: number types, descriptions in the files, the Excel workbook."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import pandas as pd
import pytest
from xlsxwriter.utility import xl_col_to_name

from tests.conftest import FIXTURES
from tiering.publish import catalog
from tiering.publish.serving import PUBLISHED_TABLES
from tiering.publish.workbook import SHEETS, write_workbook

AS_OF = "2026-06-30"
NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from tests.conftest import run_nightly_job

    monkeypatch = pytest.MonkeyPatch()
    run = run_nightly_job(monkeypatch, FIXTURES / "worked_examples", tmp_path_factory.mktemp("bi"), AS_OF)
    monkeypatch.undo()
    assert run.success
    return run


def read_workbook(path: Path) -> dict[str, list[list[str]]]:
    """Sheet title -> rows of cell texts (strings and numbers as written)."""
    with zipfile.ZipFile(path) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        titles = [sheet.get("name") for sheet in workbook.find("x:sheets", NS)]
        shared = []
        if "xl/sharedStrings.xml" in archive.namelist():
            strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in item.iter(f"{{{NS['x']}}}t")) for item in strings]
        sheets = {}
        for number, title in enumerate(titles, 1):
            root = ElementTree.fromstring(archive.read(f"xl/worksheets/sheet{number}.xml"))
            rows = []
            for row in root.iter(f"{{{NS['x']}}}row"):
                cells = []
                for cell in row.findall("x:c", NS):
                    if cell.get("t") == "s":
                        cells.append(shared[int(cell.find("x:v", NS).text)])
                    elif cell.get("t") == "inlineStr":
                        cells.append("".join(t.text or "" for t in cell.iter(f"{{{NS['x']}}}t")))
                    else:
                        value = cell.find("x:v", NS)
                        cells.append(value.text if value is not None else "")
                rows.append(cells)
            sheets[title] = rows
    return sheets


def test_parquet_numbers_are_doubles_that_pandas_reads_as_numbers(published):
    parquet = published.data_dir / "serving" / "parquet" / "customer_tiers.parquet"
    frame = pd.read_parquet(parquet)
    for column in ("composite_score", "value_score", "annual_spend_10k_cny", "period_spend_cny"):
        assert frame[column].dtype == "float64", column
    # The DuckDB file keeps the exact decimals, and the Parquet copy has the same values.
    exact = dict(published.query("select customer_id, composite_score from customer_tiers"))
    assert {row.customer_id: row.composite_score for row in frame.itertuples()} == {
        key: float(value) for key, value in exact.items()
    }
    assert published.query(
        "select data_type from duckdb_columns() where table_name = 'customer_tiers' and column_name = 'composite_score'"
    ) == [("DECIMAL(9,4)",)]


def test_every_published_table_and_column_is_described_in_the_serving_file(published):
    tables = dict(
        published.query("select table_name, comment from duckdb_tables() where database_name = current_database()")
    )
    for table in PUBLISHED_TABLES:
        assert tables.get(table), f"{table} has no description in the serving file"
    undescribed = published.query(
        "select table_name || '.' || column_name from duckdb_columns() "
        "where database_name = current_database() and table_name in (select unnest(?)) "
        "and (comment is null or comment = '') order by all",
        [list(PUBLISHED_TABLES)],
    )
    assert undescribed == [], "published columns without a description in dbt: " + ", ".join(
        row[0] for row in undescribed
    )
    tier = published.query(
        "select comment from duckdb_columns() where table_name = 'customer_tiers' and column_name = 'tier'"
    )[0][0]
    assert "strategic" in tier


def test_parquet_files_carry_the_descriptions(published):
    parquet = published.data_dir / "serving" / "parquet" / "tier_summary.parquet"
    with duckdb.connect() as connection:
        metadata = {
            key.decode(): value.decode()
            for key, value in connection.execute(f"select key, value from parquet_kv_metadata('{parquet}')").fetchall()
        }
    docs = catalog.load(PUBLISHED_TABLES)
    assert metadata["description"] == docs["tier_summary"].description != ""
    assert (
        json.loads(metadata["column_descriptions"])["avg_margin_pct"] == docs["tier_summary"].columns["avg_margin_pct"]
    )


def test_the_workbook_holds_the_days_tables_with_chinese_intact(published):
    workbook = published.data_dir / "serving" / "tiering.xlsx"
    assert workbook.is_file() and workbook.is_symlink()
    sheets = read_workbook(workbook)
    assert list(sheets) == ["说明 about", *(sheet.title for sheet in SHEETS)]
    for sheet in SHEETS:
        rows = sheets[sheet.title]
        columns = [
            row[0]
            for row in published.query(
                "select column_name from duckdb_columns() where table_name = ? order by column_index", [sheet.table]
            )
        ]
        assert rows[0] == columns, sheet.table
        count = published.query(f"select count(*) from {sheet.table} where as_of_date = ?", [AS_OF])[0][0]
        assert len(rows) - 1 == count, sheet.table
    tiers = sheets["客户分级 customer_tiers"]
    header = tiers[0]
    by_id = {row[header.index("customer_id")]: row for row in tiers[1:]}
    expected = published.query("select customer_id, tier_name_zh, composite_score from customer_tiers")
    for customer_id, name_zh, composite in expected:
        assert by_id[customer_id][header.index("tier_name_zh")] == name_zh
        assert float(by_id[customer_id][header.index("composite_score")]) == float(composite)
    assert "战略级客户" in {row[header.index("tier_name_zh")] for row in tiers[1:]}
    # Highest composite first.
    composites = [float(row[header.index("composite_score")]) for row in tiers[1:]]
    assert composites == sorted(composites, reverse=True)


def header_notes(path: Path, sheet_number: int) -> dict[str, str]:
    """Column letter of a header cell -> its note's text (the bold author line, then the text)."""
    relations = {"r": "http://schemas.openxmlformats.org/package/2006/relationships"}
    with zipfile.ZipFile(path) as archive:
        links = ElementTree.fromstring(archive.read(f"xl/worksheets/_rels/sheet{sheet_number}.xml.rels"))
        (target,) = [
            link.get("Target") for link in links.findall("r:Relationship", relations) if "comments" in link.get("Type")
        ]
        comments = ElementTree.fromstring(archive.read("xl/" + target.split("/")[-1]))
    return {
        comment.get("ref").rstrip("1"): "".join(t.text or "" for t in comment.iter(f"{{{NS['x']}}}t"))
        for comment in comments.iter(f"{{{NS['x']}}}comment")
    }


def test_each_header_of_the_workbook_carries_its_columns_description_as_a_note(published):
    docs = catalog.load(PUBLISHED_TABLES)
    workbook = published.data_dir / "serving" / "tiering.xlsx"
    for number, sheet in enumerate(SHEETS, start=2):  # the about sheet is the first
        header = read_workbook(workbook)[sheet.title][0]
        notes = header_notes(workbook, number)
        described = [name for name in header if docs[sheet.table].columns.get(name)]
        assert len(notes) == len(described) > 0, sheet.table
        for index, name in enumerate(header):
            if name in described:
                assert notes[xl_col_to_name(index)] == f"{name}:\n{docs[sheet.table].columns[name]}", (
                    sheet.table,
                    name,
                )


def test_a_sheet_that_stops_short_says_so_and_where_the_rest_is(published, tmp_path):
    path = tmp_path / "capped.xlsx"
    written = write_workbook(published.serving_path, path, as_of=AS_OF, docs=catalog.load(PUBLISHED_TABLES), max_rows=1)
    tiers = next(result for result in written if result.table == "customer_tiers")
    assert tiers.rows == 1 and tiers.rows_in_table == 2
    sheets = read_workbook(path)
    assert len(sheets["客户分级 customer_tiers"]) == 1 + 1
    about = {row[0]: row[1] for row in sheets["说明 about"] if len(row) == 2}
    assert re.match(
        rf"the first 1 of {tiers.rows_in_table:,} rows: the sheet stops at TIERING_EXCEL_MAX_ROWS",
        about["customer_tiers"],
    )
    assert "parquet/customer_tiers.parquet" in about["customer_tiers"]


def _workbook_with_names(published, tmp_path, customer_name_sql: str) -> Path:
    """The workbook of a copy of the serving file whose customer names, as of AS_OF, are set by
    ``customer_name_sql``."""
    serving = tmp_path / "serving.duckdb"
    shutil.copyfile(published.serving_path, serving)
    with duckdb.connect(str(serving)) as connection:
        connection.execute(
            f"update customer_tiers set customer_name = {customer_name_sql} where as_of_date = ?", [AS_OF]
        )
    path = tmp_path / "workbook.xlsx"
    write_workbook(serving, path, as_of=AS_OF, docs=catalog.load(PUBLISHED_TABLES))
    return path


def test_text_that_looks_like_a_formula_or_a_link_stays_text_in_the_workbook(published, tmp_path):
    path = _workbook_with_names(
        published,
        tmp_path,
        "case customer_id when 'C2024001' then '=HYPERLINK(\"x\")' else 'http://example.com' end",
    )

    with zipfile.ZipFile(path) as archive:
        sheet = archive.read(f"xl/worksheets/sheet{1 + 1 + [s.table for s in SHEETS].index('customer_tiers')}.xml")
    assert b"<f>" not in sheet and b"<hyperlink" not in sheet
    tiers = read_workbook(path)["客户分级 customer_tiers"]
    names = {row[tiers[0].index("customer_name")] for row in tiers[1:]}
    assert names == {'=HYPERLINK("x")', "http://example.com"}


def test_text_longer_than_a_cell_holds_is_cut_at_excels_limit(published, tmp_path):
    path = _workbook_with_names(
        published, tmp_path, "case customer_id when 'C2024001' then repeat('客', 40000) else customer_name end"
    )
    tiers = read_workbook(path)["客户分级 customer_tiers"]
    names = {row[tiers[0].index("customer_id")]: row[tiers[0].index("customer_name")] for row in tiers[1:]}
    assert names["C2024001"] == "客" * 32_767


def test_the_report_formats_numbers_for_people(published):
    text = (published.data_dir / "serving" / "reports" / "latest.html").read_text(encoding="utf-8")
    numbers = re.findall(r'<td class="num">([^<]*)</td>', text)
    assert numbers, "the report has no numeric cells"
    for value in numbers:
        assert re.fullmatch(r"–|-?\d{1,3}(,\d{3})*(\.\d{2})?( %)?", value), f"{value!r} is not formatted for people"
    assert text.index("<h2>Failed checks</h2>") < text.index("<h2>1. Inputs</h2>")
