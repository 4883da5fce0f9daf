"""Year periods are the last complete year, through the real job (the period rules for every
setting are dbt unit tests of int_scoring_periods_resolved).

The audit's case: spend_period fiscal_year, fiscal year from April, as of 2026-06-30. A customer
with 1000万 of orders on 2026-03-01 was scored on 2026-04-01..06-30 (spend 0, composite 52,
potential); its fiscal year is April 2025 to March 2026: 1000万, strategic. Its prior period,
for the churn signals, is the fiscal year before: April 2024 to March 2025.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.crafted import seeds_edited, valid_code, write_extracts

AS_OF = "2026-06-30"


def _extracts() -> dict[str, list[tuple]]:
    code = valid_code("91110000MA0000901")
    name = "远望信息技术有限公司"
    return {
        "crm_customers": [
            (
                "C901",
                name,
                code,
                "信息技术",
                "北京",
                "",
                "",
                "张伟",
                "2015-01-01",
                "5",
                "90.00",
                "national_key",
                "2026-01-01 00:00:00",
            )
        ],
        "erp_customers": [("E901", name, code, "2015-01-01 00:00:00")],
        "erp_products": [("P1", "产品1", "类目1", "true"), ("P2", "产品2", "类目2", "true")],
        "erp_orders": [
            # the fiscal year April 2025 - March 2026: 1000万 at a 20 % margin, both categories
            ("SO1", "1", "E901", "2026-03-01", "confirmed", "P1", "1", "5000000.00", "0", "4000000.00", "CNY"),
            ("SO1", "2", "E901", "2026-03-01", "confirmed", "P2", "1", "5000000.00", "0", "4000000.00", "CNY"),
            # the fiscal year before: 500万
            ("SO2", "1", "E901", "2025-03-15", "confirmed", "P1", "1", "5000000.00", "0", "4000000.00", "CNY"),
        ],
        "erp_receivables": [("INV1", "E901", "2026-03-01", "2026-03-31", "10000000.00", "2026-03-20")],
    }


@pytest.fixture(scope="module")
def fiscal_year_run(tmp_path_factory):
    from tests.conftest import run_nightly_job

    landing = write_extracts(tmp_path_factory.mktemp("fiscal_landing"), AS_OF, _extracts())
    settings = {
        "spend_period,trailing_12_months,": "spend_period,fiscal_year,",
        "fiscal_year_start_month,1,": "fiscal_year_start_month,4,",
    }
    monkeypatch = pytest.MonkeyPatch()
    seeds = seeds_edited(tmp_path_factory.mktemp("fiscal_seeds") / "seeds", "rubric_settings.csv", settings)
    run = run_nightly_job(monkeypatch, landing, tmp_path_factory.mktemp("fiscal_data"), AS_OF, seeds_dir=str(seeds))
    monkeypatch.undo()
    assert run.success, "the nightly job failed with spend_period fiscal_year"
    return run


def test_a_fiscal_year_period_is_the_last_complete_fiscal_year_before_the_as_of_date(fiscal_year_run):
    rows = fiscal_year_run.query(
        "select cast(spend_period_start as varchar), cast(spend_period_end as varchar), annual_spend_10k_cny, tier "
        "from customer_tiers where customer_id = 'C901'"
    )
    assert rows == [("2025-04-01", "2026-03-31", Decimal("1000"), "strategic")]


def test_the_prior_period_of_a_fiscal_year_is_the_fiscal_year_before(fiscal_year_run):
    rows = fiscal_year_run.warehouse_query(
        "select cast(prior_period_start as varchar), cast(prior_period_end as varchar) "
        "from intermediate.int_scoring_periods_resolved"
    )
    assert rows == [("2024-04-01", "2025-03-31")]
    kpis = fiscal_year_run.query(
        "select period_spend_10k, prior_period_spend_10k from tier_kpis where tier = 'strategic'"
    )
    assert kpis == [(Decimal("1000"), Decimal("500"))]
