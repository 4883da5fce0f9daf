"""Source profiles: crafted export files of every format and failure, loaded by the real loader
into a real DuckDB warehouse; every shipped profile read back against the canonical demo."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from tiering.cli import main
from tiering.demo.generate import generate_demo_extracts
from tiering.ingest.contract import ENTITIES
from tiering.ingest.load import ContractError, ingest_entity
from tiering.sources import read
from tiering.sources.export import export_extracts
from tiering.sources.profiles import ProfileError, load_profile, load_profiles, shipped_profiles
from tiering.sources.read import detect_encoding

AS_OF = date(2026, 1, 5)
SHIPPED = [name for name in shipped_profiles() if name != "canonical"]


def ingest(landing: Path, entity: str, sources: tuple[str, ...], warehouse: Path | None = None):
    warehouse = warehouse or landing.parent / "warehouse.duckdb"
    return ingest_entity(
        warehouse, landing, entity, batch_id="test", loaded_at=datetime(2026, 1, 5), sources=sources,
        duckdb_config={"memory_limit": "1GB"},
    )  # fmt: skip


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def write_profile(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- CSV: GBK, title rows, CRLF, 合计 ------------------------------------------------------


def test_gbk_csv_with_title_rows_crlf_and_a_total_row_loads_every_data_row(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    text = (
        "销售发票汇总表\r\n制表日期：2026-01-05\r\n"
        "发票号,客户编码,开票日期,到期日,价税合计,核销日期\r\n"
        'INV1,E01,2025/12/01,2025-12-31,"￥1,200.50",2025-12-20\r\n'
        "INV2,E02,2025-12-02,2026-01-01,300,\r\n"
        '合计,,,,"1,500.50",\r\n'
    )
    (landing / "销售发票_2026-01-05.csv").write_bytes(text.encode("gbk"))
    result = ingest(landing, "erp_receivables", ("yonyou",))
    [file] = result.files
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (3, 2, 1)
    assert result.reconciles
    warehouse = landing.parent / "warehouse.duckdb"
    assert query(warehouse, "select invoice_id, erp_customer_id, invoice_date, amount, paid_date, _source_row "
                 "from raw.erp_receivables order by invoice_id") == [
        ("INV1", "E01", date(2025, 12, 1), Decimal("1200.50"), date(2025, 12, 20), 4),
        ("INV2", "E02", date(2025, 12, 2), Decimal("300.00"), None, 5),
    ]  # fmt: skip
    [(row, reason)] = query(warehouse, "select source_row, reason from raw._quarantine")
    assert row == 6 and reason == "excluded: a total row (合计), not data"


def test_gbk_short_text_is_detected_as_gb18030_not_a_korean_code_page(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("发票号,客户编码,开票日期\nINV1,E01,2025-12-01\n".encode("gbk"))
    assert detect_encoding(path) == "gb18030"
    bom = tmp_path / "b.csv"
    bom.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert detect_encoding(bom) == "utf-8-sig"


def test_utf16_tab_text_with_sap_numbers_loads(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    lines = [
        "Sales Document\tItem\tSold-To Party\tDocument Date\tIncompletion Status\tReason for Rejection\tMaterial"
        "\tOrder Quantity\tNet Value\tTax Amount\tTax Rate\tCost\tDoc. Currency",
        "4711\t000010\t100001\t05.01.2026\tC\t\tM-1\t2\t1,000.00\t130.00\t13.000\t700.00\tCNY",
        "4711\t000020\t100001\t05.01.2026\tC\t02\tM-2\t1\t100.00-\t13.00-\t13.000\t\tCNY",
        "4712\t000010\t100002\t06.01.2026\tB\t\tM-1\t1\t50.00\t6.50\t13\t\t",
    ]
    (landing / "VA05_2026-01-05.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16"))
    result = ingest(landing, "erp_orders", ("sap",))
    assert result.files[0].rows_loaded == 3
    assert query(landing.parent / "warehouse.duckdb",
                 "select order_id, line_no, order_date, status, amount_incl_tax, tax_rate, cost_excl_tax "
                 "from raw.erp_orders order by order_id, line_no") == [
        ("4711", 1, date(2026, 1, 5), "confirmed", Decimal("1130.00"), Decimal("0.1300"), Decimal("700.00")),
        ("4711", 2, date(2026, 1, 5), "cancelled", Decimal("-113.00"), Decimal("0.1300"), None),
        ("4712", 1, date(2026, 1, 6), "draft", Decimal("56.50"), Decimal("0.1300"), None),
    ]  # fmt: skip


def test_utf8_bom_csv_and_prefixed_ids_load(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    text = (
        "Case Number,Account Id,Created Time,Priority,Status\n"
        "00001026,zcrm_4150868000000224005,01/05/2026 14:05:00,High,Closed\n"
    )
    (landing / "Cases_2026.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    ingest(landing, "crm_complaints", ("zoho",))
    assert query(landing.parent / "warehouse.duckdb", "select * exclude (_load_seq) from raw.crm_complaints") == [
        ("00001026", "4150868000000224005", datetime(2026, 1, 5, 14, 5), "high", "closed", 2)
    ]  # fmt: skip


# --- XLSX: merged header cells, title rows, 合计, fill-down, 万元 ---------------------------


MERGED_PROFILE = """
system: test
title: a report with a two-row header
kind: erp
entities:
  erp_orders:
    files: ["订单报表*"]
    header_rows: 2
    fill_down: [单据编号, 日期, 客户]
    columns:
      order_id: 单据编号
      line_no: {sequence_within: order_id}
      erp_customer_id: 客户
      order_date: {header: 日期, formats: ["%Y年%m月%d日", "%Y/%m/%d"]}
      status: {value: confirmed}
      product_id: 物料编码
      quantity: 数量
      amount_incl_tax: {header: 金额(万元), unit: 万元, includes_tax: false}
      tax_rate: {header: 税率, scale: 0.01}
"""


def _merged_workbook(path: Path, second_date: str = "2026年1月6日") -> None:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("订单")
    sheet.merge_range(0, 0, 0, 6, "销售订单报表 2026年1月")
    for column, caption in enumerate(["单据编号", "日期", "客户"]):
        sheet.merge_range(1, column, 2, column, caption)  # merged down over the two header rows
    sheet.merge_range(1, 3, 1, 6, "订单明细")  # merged across over the detail captions
    sheet.write_row(2, 3, ["物料编码", "数量", "金额(万元)", "税率"])
    sheet.write_row(3, 0, ["SO1", "2026年1月5日", "E01", "P1", 2, 1.5, 13])
    sheet.write_row(4, 0, ["", "", "", "P2", 1, 0.25, 13])  # continuation line
    sheet.write_row(5, 0, ["SO2", second_date, "E02", "P1", 1, "1,0", 9])
    sheet.write_row(6, 0, ["合计", "", "", "", 4, 1.75])
    workbook.close()


@pytest.fixture(params=["calamine", "streamed"])
def workbook_reader(request, monkeypatch):
    """Each workbook test twice: loaded whole by calamine, and streamed by openpyxl (the path a
    large .xlsx takes), the threshold lowered so a small crafted workbook takes it."""
    if request.param == "streamed":
        monkeypatch.setattr(read, "STREAM_XLSX_BYTES", 0)
    return request.param


def test_workbook_with_title_and_merged_two_row_header_continuation_lines_and_wan_yuan(tmp_path, workbook_reader):
    landing = tmp_path / "landing"
    landing.mkdir()
    profile = write_profile(tmp_path / "report.yaml", MERGED_PROFILE)
    _merged_workbook(landing / "订单报表_2026-01-06.xlsx")
    result = ingest(landing, "erp_orders", (str(profile),))
    [file] = result.files
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (4, 2, 2)
    warehouse = landing.parent / "warehouse.duckdb"
    assert query(warehouse, "select order_id, line_no, erp_customer_id, order_date, product_id, amount_incl_tax, "
                 "tax_rate, _source_row from raw.erp_orders order by all") == [
        ("SO1", 1, "E01", date(2026, 1, 5), "P1", Decimal("16950.00"), Decimal("0.1300"), 4),
        ("SO1", 2, "E01", date(2026, 1, 5), "P2", Decimal("2825.00"), Decimal("0.1300"), 5),
    ]  # fmt: skip
    # A value that does not parse: quarantined with file, sheet, row, column and the value.
    assert query(warehouse, "select source_file, source_row, reason from raw._quarantine order by source_row") == [
        ("订单报表_2026-01-06.xlsx", 6, "sheet 订单: column amount_incl_tax: '1,0' is not a valid DECIMAL(18,2)"),
        ("订单报表_2026-01-06.xlsx", 7, "sheet 订单: excluded: a total row (合计), not data"),
    ]  # fmt: skip


def test_an_unparseable_date_is_quarantined_with_the_value_as_exported(tmp_path, workbook_reader):
    landing = tmp_path / "landing"
    landing.mkdir()
    profile = write_profile(tmp_path / "report.yaml", MERGED_PROFILE)
    _merged_workbook(landing / "订单报表_2026-01-06.xlsx", second_date="2026年13月6日")
    ingest(landing, "erp_orders", (str(profile),))
    reasons = query(landing.parent / "warehouse.duckdb", "select reason from raw._quarantine where source_row = 6")
    assert reasons == [
        ("sheet 订单: column order_date: '2026年13月6日' is not a valid DATE; "
         "column amount_incl_tax: '1,0' is not a valid DECIMAL(18,2)",)
    ]  # fmt: skip


def _mixed_workbook(path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("封面")
    sheet = workbook.add_worksheet("数据")
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    grey = workbook.add_format({"bg_color": "#DDDDDD"})
    sheet.write_row(1, 1, ["编号", "数量", "金额", "日期", "时间", "有效", "备注"])  # from B2: row 1 and column A empty
    sheet.write_row(2, 1, ["A1", 3, 1.25, None, None, True, "x"])
    sheet.write_datetime(2, 4, datetime(2026, 1, 5), day)
    sheet.write_datetime(2, 5, datetime(2026, 1, 5, 14, 5, 6), stamp)
    sheet.write_row(3, 1, ["A2", 1e16, 0.1, None, None, False])
    sheet.write_number(3, 4, 46027, day)
    # row 5 blank between data rows; row 7 only formatted (no value) after the last data row
    sheet.write_row(5, 1, ["A3", -2, 12345678.9, "2026/1/6", "", None, "尾行"])
    sheet.write_blank(6, 3, None, grey)
    sheet.merge_range(9, 1, 9, 3, None, grey)  # an empty merged range far below: still no data
    workbook.close()


def _read_rows(path: Path, spec_fields: dict) -> tuple[read.RawFile, list[tuple]]:
    from tiering.sources.profiles import EntitySpec

    spec = EntitySpec.model_validate({"files": ["*"], **spec_fields})
    with duckdb.connect() as connection:
        raw = read.read_raw(connection, path, spec)
        return raw, connection.execute(f"select * from {read.RAW_TABLE} order by _row").fetchall()


def test_a_workbook_above_the_threshold_is_streamed_with_the_same_rows_as_calamine_reads(tmp_path, monkeypatch):
    path = tmp_path / "export.xlsx"
    _mixed_workbook(path)
    spec = {"sheet": "数据", "columns": {"order_id": "编号", "quantity": "数量"}}
    whole = _read_rows(path, spec)

    streamed_calls = []
    streamed = read._streamed_workbook_rows
    monkeypatch.setattr(read, "_streamed_workbook_rows", lambda *a: streamed_calls.append(a) or streamed(*a))
    assert read._workbook_rows(path, read.EntitySpec.model_validate({"files": ["*"], **spec}))[0] == "数据"
    assert streamed_calls == []  # below the threshold: calamine
    monkeypatch.setattr(read, "STREAM_XLSX_BYTES", path.stat().st_size - 1)
    streaming = _read_rows(path, spec)
    assert len(streamed_calls) == 1

    assert streaming == whole
    raw, rows = streaming
    assert (raw.headers, raw.header_row, raw.sheet, raw.rows) == (
        ["", "编号", "数量", "金额", "日期", "时间", "有效", "备注"],
        2,
        "数据",
        4,
    )
    assert rows == [
        (3, 8, None, "A1", "3", "1.25", "2026-01-05", "2026-01-05 14:05:06", "true", "x"),
        (4, 7, None, "A2", "10000000000000000", "0.1", "2026-01-05", None, "false", None),
        (5, 0, None, None, None, None, None, None, None, None),
        (6, 8, None, "A3", "-2", "12345678.9", "2026/1/6", None, None, "尾行"),
    ]  # fmt: skip


def test_an_xls_or_a_small_xlsx_is_never_streamed(tmp_path):
    small = tmp_path / "small.xlsx"
    _mixed_workbook(small)
    assert not read._streams(small)
    legacy = tmp_path / "big.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * (read.STREAM_XLSX_BYTES + 1))
    assert not read._streams(legacy)


# --- failures that stop before anything loads -------------------------------------------


def test_a_missing_header_names_the_file_the_expected_header_and_the_closest_present(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "销售发票_2026-01-05.csv").write_text(
        "发票号,客户编码,开票日期,到期日,价税合计(本位币)\nINV1,E01,2025-12-01,2025-12-31,10\n", encoding="utf-8"
    )
    with pytest.raises(ContractError) as raised:
        ingest(landing, "erp_receivables", ("yonyou",))
    message = str(raised.value)
    assert message.startswith("销售发票_2026-01-05.csv: row 1 (header): expected header '价税合计' or 'sum' for amount")
    assert "the closest header present is '价税合计(本位币)'" in message
    assert query(landing.parent / "warehouse.duckdb", "select count(*) from raw.erp_receivables") == [(0,)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("system: x\ntitle: x\nkind: erp\nentities:\n  erp_orderz: {files: [a], columns: {}}\n",
         "bad.yaml: entities.erp_orderz: not an entity of the contract"),
        ("system: x\ntitle: x\nkind: erp\nentities:\n  erp_receivables:\n    files: [a]\n    columns:\n"
         "      invoice_id: a\n      erp_customer_id: b\n      invoice_date: c\n      due_date: d\n"
         "      amount: {header: e, unit: 千元}\n",
         "bad.yaml: entities.erp_receivables.columns.amount.unit: Input should be '元' or '万元'"),
        ("system: x\ntitle: x\nkind: erp\nentities:\n  erp_products:\n    files: [a]\n    colums: {}\n",
         "bad.yaml: entities.erp_products.colums: unknown key"),
        ("system: x\ntitle: x\nkind: erp\nentities:\n  erp_products:\n    files: [a]\n    columns: {product_id: a}\n",
         "bad.yaml: entities.erp_products.columns: required column(s) product_category, is_active not mapped"),
        ("system: x\ntitle: [x\n", "bad.yaml: line 3 not valid YAML"),
    ],
)  # fmt: skip
def test_a_profile_error_names_the_file_and_the_key(tmp_path, text, message):
    path = write_profile(tmp_path / "bad.yaml", text)
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    assert str(raised.value).startswith(message), str(raised.value)


def test_an_unknown_profile_name_lists_the_shipped_ones():
    with pytest.raises(ProfileError, match=r"no profile 'kingde': no kingde.yaml in sources/; shipped"):
        load_profiles(["kingde"])


def test_every_shipped_profile_is_valid_and_has_a_demo_for_each_entity():
    assert set(SHIPPED) == {"kingdee", "yonyou", "sap", "salesforce", "zoho", "jiandaoyun", "qidian", "fxiaoke",
                            "xiaoshouyi"}  # fmt: skip
    for profile in load_profiles(SHIPPED):
        assert profile.spec.entities and all(spec.demo for spec in profile.spec.entities.values())


# --- every shipped profile reads back what the canonical files hold -------------------------


@pytest.fixture(scope="module")
def canonical_demo(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("canonical") / "landing"
    generate_demo_extracts(landing, customers=60, seed=5, as_of=AS_OF)
    return landing


def _raw_rows(warehouse: Path, entity: str) -> list[tuple]:
    columns = ", ".join(ENTITIES[entity].column_names)
    return query(warehouse, f"select {columns} from raw.{entity} order by all")


@pytest.mark.parametrize("profile", SHIPPED)
def test_a_profile_export_of_the_demo_loads_the_same_raw_rows_as_the_canonical_files(tmp_path, canonical_demo, profile):
    exported = tmp_path / "landing"
    export_extracts(canonical_demo, exported, load_profiles([profile]), AS_OF)
    covered = load_profiles([profile])[0].spec.entities
    assert covered and not any((exported / f).name.startswith(tuple(covered)) for f in exported.iterdir())
    canonical_wh, profile_wh = tmp_path / "canonical.duckdb", tmp_path / "profile.duckdb"
    for entity in covered:
        expected = ingest(canonical_demo, entity, ("canonical",), canonical_wh)
        got = ingest(exported, entity, (profile,), profile_wh)
        assert got.reconciles
        assert got.total("rows_loaded") == expected.total("rows_loaded") > 0
        assert _raw_rows(profile_wh, entity) == _raw_rows(canonical_wh, entity), entity


# --- the preview command -------------------------------------------------------------------


def test_sources_check_shows_match_mapping_rows_and_problems_and_loads_nothing(tmp_path, capsys):
    landing = tmp_path / "landing"
    landing.mkdir()
    profile = write_profile(tmp_path / "report.yaml", MERGED_PROFILE)
    _merged_workbook(landing / "订单报表_2026-01-06.xlsx")
    (landing / "unknown.pdf").write_bytes(b"%PDF")
    code = main(["sources", "check", str(landing), "--profile", str(profile)])
    out = capsys.readouterr().out
    assert code == 1  # the PDF matches nothing
    assert "订单报表_2026-01-06.xlsx: report.yaml (erp_orders)" in out
    assert "sheet 订单, header row 3" in out
    assert "amount_incl_tax ← '金额(万元)', 万元 × 10000, net of VAT × (1 + tax_rate)" in out
    assert "  4: SO1 | 1 | E01 | 2026-01-05 | confirmed | P1 | 2 | 16950.00" in out
    assert "rows: 4 read, 2 would load, 1 would be quarantined, 1 excluded (totals, footers)" in out
    assert "row 6: sheet 订单: column amount_incl_tax: '1,0' is not a valid DECIMAL(18,2)" in out
    assert "unknown.pdf: not readable\n  problem: matches no profile's file patterns" in out
    assert not list(tmp_path.glob("**/*.duckdb"))


def test_generate_profile_writes_the_demo_as_the_systems_export_it(tmp_path, capsys):
    landing = tmp_path / "landing"
    assert main(["generate", "--customers", "5", "--as-of", "2026-01-05", "--landing-dir", str(landing),
                 "--profile", "kingdee,salesforce"]) == 0  # fmt: skip
    names = sorted(path.name for path in landing.iterdir())
    assert names == sorted(["Account_2026-01-05.csv", "Case_2026-01-05.csv", "客户列表_2026-01-05.xlsx",
                            "物料列表_2026-01-05.xlsx", "销售订单列表_2026-01-05.xlsx", "应收单列表_2026-01-05.xlsx"])  # fmt: skip
    assert "Load them with TIERING_SOURCES=kingdee,salesforce" in capsys.readouterr().out
