"""Re-tier triggers over a daily backfill, through the real backfill command (default rubric).

Backfilled 2026-03-29..04-02, one run a day (a new quarter starts on 04-01):
- C910's last order was 2025-12-31. It becomes inactive (no order for 3 months) on 03-31: the
  inactivity trigger fires that day, once; 04-01 is the cycle; on 04-02 nothing fires, though it
  is still inactive (it fired every night before).
- C920 is strategic when first tiered on 03-29. On 03-30 an order of 2025-03-30 leaves its
  trailing 12 months: spend 1000万 → 900万 (−10 %, no spend trigger), computed key, effective
  still strategic. On 03-31 it turns inactive too and is re-tiered to key. tier_changes compares
  with the tiering that set strategic (03-29), not with the day before: composite_before is the
  composite of 03-29 and the annual-spend step shows among the indicators that moved.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.crafted import valid_code, write_extracts

DATES = ("2026-03-29", "2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02")


def _extracts() -> dict[str, list[tuple]]:
    crm, erp = [], []
    firms = {
        # crm id: (erp id, name, industry rank, demand match, strategic level)
        "C910": ("E910", "静默物流有限公司", "40", "50.00", "ordinary"),
        "C920": ("E920", "锦程信息技术有限公司", "5", "50.00", "regional_leader"),
    }
    for number, (crm_id, (erp_id, name, rank, demand, level)) in enumerate(firms.items(), start=1):
        code = valid_code(f"91110000MA{number + 910:07d}")
        crm.append(
            (
                crm_id,
                name,
                code,
                "信息技术",
                "北京",
                "",
                "",
                "张伟",
                "2015-01-01",
                rank,
                demand,
                level,
                "2026-01-01 00:00:00",
            )
        )
        erp.append((erp_id, name, code, "2015-01-01 00:00:00"))
    orders = [
        ("SO1", "1", "E910", "2025-12-31", "confirmed", "P1", "1", "100000.00", "0", "90000.00", "CNY"),
        # 100万 that leaves C920's trailing 12 months on 2026-03-30, then 900万; margin 18 %
        ("SO2", "1", "E920", "2025-03-30", "confirmed", "P1", "1", "1000000.00", "0", "820000.00", "CNY"),
        ("SO3", "1", "E920", "2025-12-31", "confirmed", "P1", "1", "4500000.00", "0", "3690000.00", "CNY"),
        ("SO3", "2", "E920", "2025-12-31", "confirmed", "P2", "1", "4500000.00", "0", "3690000.00", "CNY"),
    ]
    return {
        "crm_customers": crm,
        "erp_customers": erp,
        "erp_products": [("P1", "产品1", "类目1", "true"), ("P2", "产品2", "类目2", "true")],
        "erp_orders": orders,
        "erp_receivables": [("INV1", "E920", "2026-01-10", "2026-02-10", "100000.00", "2026-02-01")],
    }


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    """The job run for each date in order, one partition per run, as a backfill runs them."""
    from orchestration.backfill import as_of_dates
    from tests.conftest import PipelineRun, run_nightly_job

    landing = write_extracts(tmp_path_factory.mktemp("trigger_landing"), DATES[-1], _extracts())
    data_dir = tmp_path_factory.mktemp("trigger_data")
    monkeypatch = pytest.MonkeyPatch()
    dates = as_of_dates(date.fromisoformat(DATES[0]), date.fromisoformat(DATES[-1]))
    outcomes = [(day, run_nightly_job(monkeypatch, landing, data_dir, day.isoformat()).success) for day in dates]
    monkeypatch.undo()
    assert outcomes == [(day, True) for day in dates], "a run of the history failed"
    return PipelineRun(True, None, data_dir)


def history_of(run, customer_id: str) -> list[tuple]:
    return run.query(
        "select cast(as_of_date as varchar), tier, effective_tier, retier_reason from customer_tiers "
        "where customer_id = ? order by as_of_date",
        [customer_id],
    )


def test_the_inactivity_trigger_fires_once_when_the_customer_becomes_inactive(backfilled):
    assert [(day, reason) for day, _, _, reason in history_of(backfilled, "C910")] == [
        ("2026-03-29", "initial"),
        ("2026-03-30", None),
        ("2026-03-31", "inactivity_trigger"),
        ("2026-04-01", "cycle"),
        ("2026-04-02", None),
    ]


def test_a_tier_change_compares_with_the_tiering_that_set_the_old_tier(backfilled):
    assert history_of(backfilled, "C920") == [
        ("2026-03-29", "strategic", "strategic", "initial"),
        ("2026-03-30", "key", "strategic", None),
        ("2026-03-31", "key", "key", "inactivity_trigger"),
        ("2026-04-01", "key", "key", "cycle"),
        ("2026-04-02", "key", "key", None),
    ]
    composites = dict(
        backfilled.query(
            "select cast(as_of_date as varchar), composite_score from customer_tiers where customer_id = 'C920'"
        )
    )
    [change] = backfilled.query(
        "select cast(as_of_date as varchar), from_tier, to_tier, reason, composite_before, composite_after, "
        "cast(composite_before_date as varchar), indicators_moved_most from tier_changes where customer_id = 'C920'"
    )
    assert change[:6] == (
        "2026-03-31",
        "strategic",
        "key",
        "inactivity_trigger",
        composites["2026-03-29"],
        composites["2026-03-31"],
    )
    assert composites["2026-03-29"] != composites["2026-03-30"]
    assert change[6] == "2026-03-29"
    assert change[7].startswith("annual_spend -8.00")
    assert composites["2026-03-29"] > Decimal(90) > composites["2026-03-31"]
