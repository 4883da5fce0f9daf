"""The cleaning rules on crafted extracts, through the real nightly job: dedup, outliers,
missing values, reconciliation, masking and the auditor report.

One small landing folder holds a case for each rule; the job runs once (module fixture) and
each test asserts on the published tables, as a BI user or an auditor would see them.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from tiering.credit_code import check_char as credit_code_check_char
from tiering.ingest.contract import ENTITIES
from tiering.publish.serving import PUBLISHED_TABLES

AS_OF = "2026-06-30"
PERIOD_START = "2025-07-01"


def valid_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


HETAI = valid_code("91110108MA01HT001")
MBP = valid_code("91310000MA1MBP001")
HUAXING_1 = valid_code("91440300MA5F00001")
HUAXING_2 = valid_code("91440300MA5F00002")
YUNFAN = valid_code("91330100MA2YF0001")
XINRUI = valid_code("91440100MA9XR0001")
XINRUI_WRONG_CHECK_CHAR = XINRUI[:17] + ("0" if XINRUI[17] != "0" else "1")

# crm_customer_id, customer_name, credit_code, phone, email, updated_at
CRM = [
    ("C001", "北京和泰科技有限公司", HETAI, "13800000001", "zhang.wei@hetai.example", "2026-01-01 09:00:00"),
    ("C002", "北京 和泰科技 有限公司", "", "13800000001", "zhang.wei@hetai.example", "2026-03-01 09:00:00"),
    ("C003", "北京和泰科技有限责任公司", "", "13900000002", "wang.fang@hetai.example", "2025-06-01 09:00:00"),
    ("C004", "ＭＢＰ（上海）科技有限公司", "", "13500000004", "chen.jie@mbp.example", "2026-02-01 09:00:00"),
    ("C005", "深圳华星贸易有限公司", HUAXING_1, "13500000005", "liu.yang@huaxing.example", "2026-02-01 09:00:00"),
    ("C006", "深圳华星贸易有限公司", HUAXING_2, "13500000006", "zhao.lei@huaxing2.example", "2026-02-01 09:00:00"),
    ("C007", "深圳华星贸易有限公司", "", "13500000007", "sun.li@huaxing3.example", "2026-02-01 09:00:00"),
    ("C008", "杭州云帆网络有限公司", "", "13700000007", "zhou.min@yunfan.example", "2026-02-01 09:00:00"),
    ("C009", "杭州云帆网络科技有限公司", YUNFAN, "13700000007", "wu.gang@yunfan.example", "2026-02-01 09:00:00"),
    (
        "C010",
        "广州新锐股份有限公司",
        XINRUI_WRONG_CHECK_CHAR,
        "13600000010",
        "he.jun@xinrui.example",
        "2026-02-01 09:00:00",
    ),
]
# a row whose first_deal_date does not parse: quarantined, with contact data in its raw record
QUARANTINED_CRM = ("C011", "成都天府物流有限公司", "", "13600000011", "li.si@tianfu.example", "2026-02-01 09:00:00")

ERP = [
    ("E001", "北京和泰科技有限公司", HETAI),
    ("E002", "MBP(上海)科技有限公司", MBP),
    ("E005", "深圳华星贸易有限公司", HUAXING_1),
    ("E006", "深圳华星贸易有限公司", HUAXING_2),
    ("E009", "杭州云帆网络科技有限公司", YUNFAN),
    ("E010", "广州新锐有限公司", XINRUI),
]

# order_id, line_no, erp_customer_id, order_date, status, product_id, amount_incl_tax, cost_excl_tax
ORDERS = [
    ("SO01", 1, "E001", "2025-09-10", "confirmed", "P1", "1130.01", "800.00"),
    ("SO02", 1, "E001", "2025-11-10", "confirmed", "P2", "2260.05", "1600.00"),
    ("SO03", 1, "E001", "2026-01-10", "confirmed", "P1", "565.03", "400.00"),
    ("SO04", 1, "E001", "2026-03-10", "confirmed", "P3", "3390.07", "2400.00"),
    ("SO05", 1, "E001", "2026-04-10", "confirmed", "P1", "11300.10", "800.00"),  # an extra zero
    ("SO06", 1, "E001", "2026-04-11", "confirmed", "P2", "0.00", "0.00"),  # not a sale
    ("SO07", 1, "E001", "2026-07-05", "confirmed", "P2", "2260.00", "1600.00"),  # after the as-of date
    ("SO08", 1, "E001", "2026-05-10", "cancelled", "P1", "99999.00", "1.00"),
    ("SO09", 1, "E002", "2025-12-01", "confirmed", "P3", "5650.00", "4000.00"),
    ("SO09", 2, "E002", "2025-12-01", "confirmed", "P1", "1130.00", "900.00"),
    ("SO10", 1, "E005", "2024-03-01", "confirmed", "P1", "1130.00", "900.00"),  # nothing in the period
    ("SO11", 1, "E006", "2026-02-01", "confirmed", "P2", "2260.00", "1800.00"),
    ("SO12", 1, "E009", "2026-02-02", "confirmed", "P3", "3390.00", "3000.00"),
    ("SO13", 1, "E010", "2026-02-03", "confirmed", "P1", "1130.00", "1000.00"),
]
EXCLUDED = {("SO05", 1), ("SO06", 1), ("SO07", 1)}


def _write(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_crafted_extracts(landing: Path) -> None:
    landing.mkdir(parents=True, exist_ok=True)
    day = f"_{AS_OF}.csv"
    crm_rows = [
        (cid, name, code, "信息技术", "北京市", phone, email, "张三", "2019-05-01", "10", "50.00", "ordinary", updated)
        for cid, name, code, phone, email, updated in CRM
    ]
    cid, name, code, phone, email, updated = QUARANTINED_CRM
    crm_rows.append((cid, name, code, "交通物流", "四川省", phone, email, "李四", "2019-13-01", "", "", "", updated))
    _write(landing / f"crm_customers{day}", ENTITIES["crm_customers"].column_names, crm_rows)
    _write(
        landing / f"erp_customers{day}",
        ENTITIES["erp_customers"].column_names,
        [(eid, name, code, "2019-05-02 08:00:00") for eid, name, code in ERP],
    )
    _write(
        landing / f"erp_products{day}",
        ENTITIES["erp_products"].column_names,
        [
            ("P1", "轴承", "机械配件", "true"),
            ("P2", "断路器", "电气设备", "true"),
            ("P3", "软件实施", "技术服务", "true"),
        ],
    )
    _write(
        landing / f"erp_orders{day}",
        ENTITIES["erp_orders"].column_names,
        [
            (oid, line, eid, day_, status, pid, "1", amount, "0.13", cost, "CNY")
            for oid, line, eid, day_, status, pid, amount, cost in ORDERS
        ],
    )
    _write(
        landing / f"erp_receivables{day}",
        ENTITIES["erp_receivables"].column_names,
        [("INV01", "E001", "2025-09-12", "2025-10-12", "1130.01", "2025-10-01")],
    )
    _write(
        landing / f"crm_complaints{day}",
        ENTITIES["crm_complaints"].column_names,
        [("T01", "C002", "2026-03-02 10:00:00", "low", "closed")],
    )


def spend(amount: str) -> Decimal:
    """Tax-exclusive spend of a line, to the cent."""
    return (Decimal(amount) / Decimal("1.13")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    from tests.conftest import run_nightly_job

    landing = tmp_path_factory.mktemp("crafted_landing")
    write_crafted_extracts(landing)
    monkeypatch = pytest.MonkeyPatch()
    run = run_nightly_job(monkeypatch, landing, tmp_path_factory.mktemp("crafted_data"), AS_OF)
    monkeypatch.undo()
    assert run.success, "the nightly job failed on the crafted extracts"
    return run


def golden_of(run, *source_ids: str) -> set[str]:
    placeholders = ", ".join("?" for _ in source_ids)
    rows = run.query(
        f"select customer_id from customer_crosswalk where source_customer_id in ({placeholders})", list(source_ids)
    )
    return {row[0] for row in rows}


def rule_of(run, source_id: str) -> str:
    return run.query("select match_rule from customer_crosswalk where source_customer_id = ?", [source_id])[0][0]


# --- dedup ----------------------------------------------------------------------------------


def test_spelling_variants_of_one_firm_merge_into_one_golden_customer(crafted):
    # spaces, 有限责任公司, and the ERP record; the survivor is the CRM record with the valid code
    assert golden_of(crafted, "C001", "C002", "C003", "E001") == {"C001"}
    assert [rule_of(crafted, record) for record in ("C001", "C002", "C003", "E001")] == [
        "credit_code",
        "name",
        "name",
        "credit_code",
    ]
    # full-width letters and brackets in the CRM, half-width in the ERP
    assert golden_of(crafted, "C004", "E002") == {"C004"}


def test_a_different_legal_form_is_a_different_firm_without_a_valid_code_to_join_them(crafted):
    # 广州新锐股份有限公司 (CRM, its code's check character is wrong) and 广州新锐有限公司 (ERP)
    assert golden_of(crafted, "C010") == {"C010"} and rule_of(crafted, "C010") == "unmatched"
    assert golden_of(crafted, "E010") == {"E010"} and rule_of(crafted, "E010") == "unmatched"


def test_two_different_valid_credit_codes_never_merge_even_with_the_same_name(crafted):
    assert golden_of(crafted, "C005", "E005") == {"C005"}
    assert golden_of(crafted, "C006", "E006") == {"C006"}
    # a third record of that name, without a code, cannot tell which firm it is
    assert golden_of(crafted, "C007") == {"C007"} and rule_of(crafted, "C007") == "unmatched"


def test_a_record_without_a_code_joins_by_phone_when_the_names_are_alike(crafted):
    assert golden_of(crafted, "C008", "C009", "E009") == {"C009"}
    assert rule_of(crafted, "C008") == "phone"


def test_the_golden_customer_takes_the_valid_credit_code_and_the_newest_attributes(crafted):
    # C004 has no code; its ERP record E002 has a valid one
    [(credit_code, customer_name)] = crafted.warehouse_query(
        "select credit_code, customer_name from intermediate.int_customers_unified where customer_id = 'C004'"
    )
    assert (credit_code, customer_name) == (MBP, "ＭＢＰ（上海）科技有限公司")
    [(phone,)] = crafted.warehouse_query(
        "select phone from intermediate.int_customers_unified where customer_id = 'C001'"
    )
    assert phone == "13800000001"  # C002 is newer and has a phone


def test_customer_counts_reconcile_records_with_golden_customers_and_merges(crafted):
    assert crafted.query(
        "select count(*), count(distinct customer_id), count(*) filter (where is_merged) from customer_crosswalk"
    ) == [(16, 8, 8)]  # C010 and E010 differ in legal form: two firms
    [(expected, actual, balanced)] = crafted.query(
        "select expected_value, actual_value, is_balanced from reconciliation where check_name = 'customer_records'"
    )
    assert (expected, actual, balanced) == (16, 16, True)


# --- outliers, missing values, reconciliation --------------------------------------------------


def test_an_extra_zero_amount_is_flagged_and_excluded_from_spend(crafted):
    flags = crafted.query(
        "select order_id, rule, reason_code, action, is_applied, original_value, corrected_value "
        "from outlier_flags order by order_id, rule"
    )
    assert flags == [
        ("SO05", "amount_extra_zero", "OUT02", "exclude", True, Decimal("11300.10"), None),
        ("SO06", "non_positive_amount", "OUT01", "exclude", True, Decimal("0.00"), None),
        ("SO07", "order_date_in_future", "OUT03", "exclude", True, Decimal("2260.00"), None),
    ]
    kept = [
        spend(amount)
        for oid, _, eid, day, status, _, amount, _ in ORDERS
        if eid == "E001" and status == "confirmed" and PERIOD_START <= day <= AS_OF and oid not in {"SO05", "SO06"}
    ]
    assert crafted.query("select period_spend_cny from customer_tiers where customer_id = 'C001'") == [(sum(kept),)]
    affected = crafted.query(
        "select indicator from customer_indicator_scores where customer_id = 'C001' and is_outlier_affected order by 1"
    )
    assert affected == [("annual_spend",), ("cross_purchase_rate",), ("profit_margin",)]
    assert crafted.query(
        "select count(*) from customer_indicator_scores where customer_id <> 'C001' and is_outlier_affected"
    ) == [(0,)]


def test_confirmed_spend_reconciles_to_the_cent(crafted):
    rows = {
        name: (expected, actual, balanced)
        for name, expected, actual, balanced in crafted.query(
            "select check_name, expected_value, actual_value, is_balanced from reconciliation "
            "where check_name like 'confirmed_spend%'"
        )
    }
    confirmed = [
        (oid, line, day, spend(amount)) for oid, line, _, day, status, _, amount, _ in ORDERS if status == "confirmed"
    ]
    everything = sum(value for *_, value in confirmed)
    in_period = sum(value for _, _, day, value in confirmed if PERIOD_START <= day <= AS_OF)
    assert rows["confirmed_spend"] == (everything, everything, True)
    assert rows["confirmed_spend_in_period"] == (in_period, in_period, True)
    kept_in_period = sum(
        value for oid, line, day, value in confirmed if PERIOD_START <= day <= AS_OF and (oid, line) not in EXCLUDED
    )
    published = crafted.query("select total_spend_10k * 10000 from tier_summary where is_total_row")[0][0]
    assert published == kept_in_period
    assert crafted.query("select bool_and(is_balanced) from reconciliation") == [(True,)]


def test_a_missing_margin_is_scored_by_the_configured_policy_and_never_as_zero(crafted):
    # E005 bought nothing in the period: no revenue, so no margin; the default rubric scores it
    # at the lowest band and says so (the other configurations are dbt unit tests)
    [(raw_value, score, is_imputed, rule, is_pending)] = crafted.query(
        "select raw_value, score, is_imputed, imputation_rule, is_pending from customer_indicator_scores "
        "where customer_id = 'C005' and indicator = 'profit_margin'"
    )
    assert (raw_value, score, is_imputed, rule, is_pending) == (None, Decimal("40"), True, "lowest_band", False)


# --- data quality, masking, the report --------------------------------------------------------


def test_an_invalid_credit_code_check_character_is_reported(crafted):
    rows = crafted.query(
        """select unexpected_count, unexpected_sample, severity from dq_results
           where suite = 'crm_customers' and "column" = 'credit_code_with_invalid_check_char'"""
    )
    assert rows == [(1, XINRUI_WRONG_CHECK_CHAR, "warn")]
    assert crafted.query("select is_credit_code_valid from customer_crosswalk where source_customer_id = 'C010'") == [
        (False,)
    ]


def test_quarantined_rows_are_published_with_contacts_masked(crafted):
    [(reason, record)] = crafted.query("select reason, raw_record_masked from quarantined_rows")
    assert reason.startswith("column first_deal_date")
    assert "136****0011" in record and "l***@tianfu.example" in record
    assert "13600000011" not in record and "li.si@" not in record


def raw_contacts() -> list[str]:
    return [value for *_, phone, email, _ in [*CRM, QUARANTINED_CRM] for value in (phone, email)]


def test_no_raw_phone_or_email_appears_in_anything_published(crafted):
    serving = crafted.data_dir / "serving"
    contacts = raw_contacts()
    with duckdb.connect() as connection:
        connection.execute(f"attach '{serving / 'tiering.duckdb'}' as published (read_only)")
        for table in [*PUBLISHED_TABLES, "_publication"]:
            columns = [
                row[0]
                for row in connection.execute(
                    "select column_name from duckdb_columns() where database_name = 'published' and table_name = ?",
                    [table],
                ).fetchall()
            ]
            text = " || '|' || ".join(f"""coalesce(cast("{column}" as varchar), '')""" for column in columns)
            blob = "\n".join(row[0] for row in connection.execute(f"select {text} from published.{table}").fetchall())
            for value in contacts:
                assert value not in blob, f"{value} appears in published table {table}"
        for parquet in (serving / "parquet").glob("*.parquet"):
            blob = "\n".join(str(row) for row in connection.execute(f"from read_parquet('{parquet}')").fetchall())
            for value in contacts:
                assert value not in blob, f"{value} appears in {parquet.name}"
    for report in (serving / "reports").glob("*.html"):
        text = report.read_text(encoding="utf-8")
        for value in contacts:
            assert value not in text, f"{value} appears in {report.name}"


def test_every_run_keeps_its_report_and_latest_points_to_the_newest(crafted):
    reports = sorted(path.name for path in (crafted.data_dir / "serving" / "reports").glob("*.html"))
    run_id = crafted.result.run_id
    assert reports == sorted([f"{AS_OF}_{run_id}.html", "latest.html"])
    text = (crafted.data_dir / "serving" / "reports" / "latest.html").read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "<link" not in text
    # The failed checks come first: the invalid check character's expectation heads the report.
    failed = text.index('<table class="failed">')
    assert failed < text.index("<h2>1. Inputs</h2>")
    assert "credit_code" in text[failed : text.index("</table>", failed)]


def test_the_report_renders_offline_in_headless_chromium_with_its_key_figures(crafted, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (make test installs Debian's chromium when run as root)")
    report = crafted.data_dir / "serving" / "reports" / "latest.html"
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for element_id, figure in [
        ("golden-customers", "8"),
        ("merged-records", "8"),
        ("outlier-lines", "3"),
        ("quarantined-rows", "1"),
        ("reconciliation-status", "balanced"),
        ("as-of", AS_OF),
    ]:
        assert f'id="{element_id}">{figure}<' in dom, f"{element_id} does not show {figure}"
    assert "<svg" in dom and "Tier shares" in dom and XINRUI_WRONG_CHECK_CHAR in dom


def test_the_run_records_its_dedup_counts_by_rule(crafted):
    [materialization] = crafted.result.asset_materializations_for_node("serving__tiering")
    counts = {
        key: value.value
        for key, value in materialization.metadata.items()
        if key.startswith(("source_customer_records", "golden_customers", "merged_", "outlier_lines"))
    }
    assert counts == {
        "source_customer_records": 16,
        "golden_customers": 8,
        "merged_records": 8,
        "merged_by_credit_code": 5,
        "merged_by_name": 2,
        "merged_by_phone": 1,
        "outlier_lines_excluded_or_capped": 3,
    }
