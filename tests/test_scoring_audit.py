"""Scoring cases an independent audit re-computed, on crafted extracts through the real job.

One landing folder holds a customer per case; the job runs once (default rubric, as of
2026-06-30, spend period the trailing 12 months 2025-07-01..2026-06-30) and each test asserts on
the published tables. Tax rate 0: revenue is the amount, so every figure is exact.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.crafted import valid_code, write_extracts

AS_OF = "2026-06-30"

# crm id: (erp id or None, name, first deal date)
CUSTOMERS = {
    "C100": ("E100", "新辰科技有限公司", "2026-01-01"),  # first deal six months ago
    "C200": ("E200", "恒远制造有限公司", "2018-01-01"),  # margin 14.99996 %
    "C300": ("E300", "微澜贸易有限公司", "2018-01-01"),  # margin exactly 15 %, a float quotient below it
    "C400": (None, "云上咨询有限公司", "2019-01-01"),  # in the CRM only: no ERP record
    "C500": ("E500", "静水物流有限公司", "2019-01-01"),  # an ERP record, never ordered
    "C700": ("E700", "旧约化工有限公司", "2019-01-01"),  # ordered only before the period
    "C800": ("E800", "广厦建设有限公司", "2017-01-01"),  # a 30 % margin
}
# erp id, order date, amount (= revenue), cost
ORDERS = [
    ("E100", "2026-02-10", "800000.00", "720000.00"),
    ("E200", "2026-03-01", "10000000.00", "8500004.00"),
    ("E300", "2026-03-02", "2.20", "1.87"),
    ("E700", "2024-05-01", "50000.00", "40000.00"),
    ("E800", "2026-05-01", "3000000.00", "2100000.00"),
]


def _extracts() -> dict[str, list[tuple]]:
    crm, erp = [], []
    for number, (crm_id, (erp_id, name, first_deal)) in enumerate(CUSTOMERS.items(), start=1):
        code = valid_code(f"91110000MA{number:07d}")
        crm.append(
            (
                crm_id,
                name,
                code,
                "制造业",
                "上海",
                "",
                "",
                "王芳",
                first_deal,
                "30",
                "50.00",
                "ordinary",
                "2026-01-01 00:00:00",
            )
        )
        if erp_id:
            erp.append((erp_id, name, code, f"{first_deal} 00:00:00"))
    orders = [
        (f"SO{number:04d}", "1", erp_id, day, "confirmed", "P1", "1", amount, "0", cost, "CNY")
        for number, (erp_id, day, amount, cost) in enumerate(ORDERS, start=1)
    ]
    products = [(f"P{n}", f"产品{n}", f"类目{n}", "true") for n in range(1, 5)]
    return {"crm_customers": crm, "erp_customers": erp, "erp_products": products, "erp_orders": orders}


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    from tests.conftest import run_nightly_job

    landing = write_extracts(tmp_path_factory.mktemp("audit_landing"), AS_OF, _extracts())
    monkeypatch = pytest.MonkeyPatch()
    run = run_nightly_job(monkeypatch, landing, tmp_path_factory.mktemp("audit_data"), AS_OF)
    monkeypatch.undo()
    assert run.success, "the nightly job failed on the audit extracts"
    return run


def indicator(run, customer_id: str, name: str) -> dict:
    cursor_rows = run.query(
        "select * from customer_indicator_scores where customer_id = ? and indicator = ?", [customer_id, name]
    )
    columns = [row[0] for row in run.query("select column_name from (describe customer_indicator_scores)")]
    [row] = cursor_rows
    return dict(zip(columns, row, strict=True))


# --- 1. annual spend is the confirmed orders in the period, as they are -----------------------


def test_a_customer_who_started_six_months_ago_with_80_wan_has_spent_80_wan_and_scores_40(audited):
    spend = indicator(audited, "C100", "annual_spend")
    assert (spend["raw_value"], spend["score"]) == (Decimal("80"), Decimal("40"))
    assert (spend["is_imputed"], spend["imputation_rule"], spend["is_missing"]) == (False, None, False)


# --- 4. bands compare exact values --------------------------------------------------------------


def test_a_margin_of_14_99996_percent_is_published_as_such_and_scores_75_not_90(audited):
    margin = indicator(audited, "C200", "profit_margin")
    assert (margin["raw_value"], margin["score"]) == (Decimal("14.99996"), Decimal("75"))
    [(published,)] = audited.query("select profit_margin_pct from customer_tiers where customer_id = 'C200'")
    assert published == Decimal("14.99996")


def test_a_margin_of_exactly_15_percent_scores_90_though_its_float_quotient_falls_below(audited):
    # (2.20 - 1.87) / 2.20 in floating point is 14.999999999999998
    margin = indicator(audited, "C300", "profit_margin")
    assert (margin["raw_value"], margin["score"]) == (Decimal("15"), Decimal("90"))


# --- 7. missing is not zero -----------------------------------------------------------------------


def test_a_customer_without_an_erp_record_has_no_spend_figure_and_is_pending_not_scored_as_zero(audited):
    spend = indicator(audited, "C400", "annual_spend")
    assert (spend["raw_value"], spend["score"], spend["missing_reason"]) == (None, None, "no_erp_record")
    assert (spend["is_missing"], spend["is_pending"], spend["is_imputed"]) == (True, True, False)
    for name in ("profit_margin", "cross_purchase_rate", "on_time_payment_rate", "days_since_last_order"):
        assert indicator(audited, "C400", name)["missing_reason"] == "no_erp_record", name
    [(tier, spend_10k)] = audited.query(
        "select tier, annual_spend_10k_cny from customer_tiers where customer_id = 'C400'"
    )
    assert (tier, spend_10k) == ("pending", None)


def test_a_customer_with_an_erp_record_and_no_order_in_the_period_has_spent_zero(audited):
    for customer_id in ("C500", "C700"):
        spend = indicator(audited, customer_id, "annual_spend")
        assert (spend["raw_value"], spend["score"], spend["is_missing"]) == (Decimal("0"), Decimal("40"), False)
        assert spend["missing_reason"] is None
        margin = indicator(audited, customer_id, "profit_margin")
        assert (margin["raw_value"], margin["missing_reason"]) == (None, "no_revenue_in_period")


def test_never_ordered_is_the_worst_recency_not_a_missing_value(audited):
    never = indicator(audited, "C500", "days_since_last_order")
    assert (never["raw_value"], never["score"], never["missing_reason"]) == (None, Decimal("0"), "never_ordered")
    assert (never["is_missing"], never["is_imputed"], never["is_pending"]) == (False, False, False)
    # ordered two years ago: measured, and past the end of the linear scale
    old = indicator(audited, "C700", "days_since_last_order")
    assert (old["raw_value"], old["score"], old["missing_reason"]) == (Decimal("790"), Decimal("0"), None)


def test_the_evaluation_sheet_says_why_a_value_is_missing(audited):
    from tiering.publish.sheet import format_sheet, read_sheet

    pending = format_sheet(read_sheet(audited.serving_path, "C400"))
    assert "annual_spend (no ERP record: no order or invoice figure exists)" in pending
    never = format_sheet(read_sheet(audited.serving_path, "C500"))
    assert "(never ordered)" in never
    assert "never ordered, scored as the worst value: days_since_last_order" in never
    assert "profit_margin (no revenue in the period)" in never
