"""The real nightly job, end to end: extract files in, published tier tables out.

DuckDB, dbt, Dagster and Great Expectations all run for real; assertions are on the
published serving file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FIXTURES
from tests.crafted import seeds_edited
from tests.reference_scorer import score_customer
from tiering.demo.generate import generate_demo_extracts
from tiering.rubric.checks import load_rubric

AS_OF = "2026-06-30"
PUBLISHED = (
    "customer_tiers",
    "customer_indicator_scores",
    "tier_summary",
    "tier_summary_effective",
    "dimension_summary",
    "verification_sample",
)
# Published audit tables: the same every run, except dq_results, which every run appends to.
AUDIT = ("customer_crosswalk", "outlier_flags", "reconciliation", "quarantined_rows")


# --- worked examples (docs/method.md) through the whole pipeline -------------------------


@pytest.fixture(scope="module")
def worked_examples(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    from tests.conftest import run_nightly_job

    data_dir = tmp_path_factory.mktemp("worked_examples")
    run = run_nightly_job(monkeypatch, FIXTURES / "worked_examples", data_dir, AS_OF)
    monkeypatch.undo()
    assert run.success, "the nightly job failed on the worked examples"
    return run


@pytest.fixture(scope="module")
def worked_examples_value_only(tmp_path_factory):
    from tests.conftest import run_nightly_job

    monkeypatch = pytest.MonkeyPatch()
    data_dir = tmp_path_factory.mktemp("worked_examples_value_only")
    run = run_nightly_job(monkeypatch, FIXTURES / "worked_examples", data_dir, AS_OF, rubric="value_only")
    monkeypatch.undo()
    assert run.success, "the nightly job failed on the worked examples under the value_only rubric"
    return run


def test_worked_example_a_on_value_alone_is_94_5_and_strategic_through_the_pipeline(worked_examples_value_only):
    rows = worked_examples_value_only.query(
        "select value_score, composite_score, tier, tier_name_zh from customer_tiers where customer_id = 'C2024002'"
    )
    assert rows == [(Decimal("94.5"), Decimal("94.5"), "strategic", "战略级客户")]


def test_c2024001_on_value_alone_is_100_through_the_pipeline(worked_examples_value_only):
    rows = worked_examples_value_only.query(
        "select composite_score, tier from customer_tiers where customer_id = 'C2024001'"
    )
    assert rows == [(Decimal("100"), "strategic")]


def test_switching_presets_changes_the_rubric_version(worked_examples, worked_examples_value_only):
    version = "select distinct rubric_version from customer_tiers"
    assert worked_examples.query(version) != worked_examples_value_only.query(version)


def test_worked_example_a_scores_94_5_on_value_and_79_1_on_four_dimensions(worked_examples):
    # Under the four-dimension default the composite is no longer the value score: value 94.5,
    # potential 71, risk 60, strategic 80 -> 79.1, key (the fixture README works it out).
    rows = worked_examples.query(
        """
        select value_score, potential_score, risk_score, strategic_score, composite_score, tier, tier_name_zh
        from customer_tiers where customer_id = 'C2024002'
        """
    )
    assert rows == [
        (Decimal("94.5"), Decimal("71"), Decimal("60"), Decimal("80"), Decimal("79.1"), "key", "重点级客户")
    ]


def test_worked_example_a_indicator_scores_match_the_method(worked_examples):
    rows = worked_examples.query(
        """
        select indicator, raw_value, score, weight, weighted_score
        from customer_indicator_scores where customer_id = 'C2024002' and dimension = 'value' order by weight desc
        """
    )
    assert rows == [
        ("annual_spend", Decimal("1200"), Decimal("100"), Decimal("40"), Decimal("40")),
        ("profit_margin", Decimal("15"), Decimal("90"), Decimal("25"), Decimal("22.5")),
        ("cooperation_years", Decimal("5"), Decimal("100"), Decimal("20"), Decimal("20")),
        ("cross_purchase_rate", Decimal("30"), Decimal("80"), Decimal("15"), Decimal("12")),
    ]


def test_worked_example_c2024001_scores_100(worked_examples):
    rows = worked_examples.query(
        "select value_score, potential_score, risk_score, strategic_score, composite_score, tier"
        " from customer_tiers where customer_id = 'C2024001'"
    )
    assert rows == [(Decimal("100"), Decimal("100"), Decimal("100"), Decimal("100"), Decimal("100.0"), "strategic")]


def test_value_and_potential_combine_60_40_into_the_value_potential_score(worked_examples):
    # A: 0.6 x 94.5 + 0.4 x 71 = 85.1; C2024001: 100 on both
    rows = worked_examples.query(
        "select customer_id, value_potential_score, value_potential_class from customer_tiers order by customer_id"
    )
    assert rows == [("C2024001", Decimal("100"), "S"), ("C2024002", Decimal("85.1"), "S")]


def test_the_tier_summary_ends_with_a_total_row_and_weights_the_margin_by_spend(worked_examples):
    # C2024001 1500万 at 18 %, C2024002 1200万 at 15 %: together (270 + 180) / 2700 = 16.67 %
    # (the plain mean of the two margins would be 16.50)
    rows = worked_examples.query(
        """
        select tier, tier_name_zh, customer_count, customer_share_pct, total_spend_10k, spend_share_pct,
               avg_margin_pct, is_total_row, tier_basis
        from tier_summary order by sort_order
        """
    )
    assert rows == [
        (
            "strategic",
            "战略级客户",
            1,
            Decimal("50"),
            Decimal("1500"),
            Decimal("55.5556"),
            Decimal("18"),
            False,
            "computed",
        ),
        ("key", "重点级客户", 1, Decimal("50"), Decimal("1200"), Decimal("44.4444"), Decimal("15"), False, "computed"),
        ("ordinary", "普通级客户", 0, Decimal("0"), Decimal("0"), Decimal("0"), None, False, "computed"),
        ("potential", "潜在级客户", 0, Decimal("0"), Decimal("0"), Decimal("0"), None, False, "computed"),
        ("pending", "待评估", 0, None, Decimal("0"), None, None, False, "computed"),
        ("total", "合计", 2, Decimal("100"), Decimal("2700"), Decimal("100"), Decimal("16.67"), True, "computed"),
    ]


def test_the_effective_tier_has_its_own_summary_with_the_same_columns(worked_examples):
    # a first run tiers every customer: the effective tier is the computed one, and so is its summary
    columns = "tier, customer_count, customer_share_pct, total_spend_10k, spend_share_pct, avg_margin_pct, is_total_row"
    effective = worked_examples.query(f"select {columns}, tier_basis from tier_summary_effective order by sort_order")
    computed = worked_examples.query(f"select {columns} from tier_summary order by sort_order")
    assert effective == [(*row, "effective") for row in computed]
    assert [column[0] for column in worked_examples.query("describe tier_summary_effective")] == [
        column[0] for column in worked_examples.query("describe tier_summary")
    ]


def test_every_published_row_carries_the_rubric_version(worked_examples):
    versions = worked_examples.query(
        "select distinct rubric_version from customer_tiers union select distinct rubric_version from tier_summary"
    )
    assert len(versions) == 1 and len(versions[0][0]) == 12


def test_parquet_copies_match_the_duckdb_tables(worked_examples):
    parquet_dir = worked_examples.data_dir / "serving" / "parquet"
    for table in (*PUBLISHED, *AUDIT, "dq_results"):
        in_parquet = worked_examples.query(f"select count(*) from read_parquet('{parquet_dir / (table + '.parquet')}')")
        in_duckdb = worked_examples.query(f"select count(*) from {table}")
        assert in_parquet == in_duckdb


def test_the_reference_scorer_agrees_with_dbt_on_the_worked_examples(worked_examples):
    """The Python mirror of the scoring models gives the published scores, so its property
    tests (test_scoring.py) speak for the SQL."""
    rubric = load_rubric("default")
    rows = worked_examples.query(
        "select customer_id, indicator, raw_value, raw_category, score, weighted_score from customer_indicator_scores"
    )
    raw = {}
    for customer_id, indicator, raw_value, raw_category, _, _ in rows:
        raw.setdefault(customer_id, {})[indicator] = raw_category if raw_category is not None else raw_value
    populations = {name: [values.get(name) for values in raw.values()] for name in rubric.indicators}
    published = {(row[0], row[1]): (row[4], row[5]) for row in rows}
    tiers = dict(
        (customer_id, (composite, tier))
        for customer_id, composite, tier in worked_examples.query(
            "select customer_id, composite_score, tier from customer_tiers"
        )
    )
    for customer_id, values in raw.items():
        expected = score_customer(rubric, values, populations)
        for name, result in expected.indicators.items():
            assert published[(customer_id, name)] == (result.score, result.weighted_score), (customer_id, name)
        assert tiers[customer_id] == (expected.composite_score, expected.tier)


def test_the_evaluation_sheet_adds_up_to_the_composite(worked_examples):
    (total,) = worked_examples.query(
        "select sum(composite_contribution) from customer_indicator_scores where customer_id = 'C2024002'"
    )[0]
    assert total == Decimal("79.1")
    flags = worked_examples.query(
        """
        select indicator, is_imputed, is_pending, is_outlier_affected
        from customer_indicator_scores where customer_id = 'C2024002' and (is_imputed or is_pending or is_outlier_affected)
        """
    )
    assert flags == []


def test_the_sheet_command_prints_and_writes_html(worked_examples, monkeypatch, tmp_path, capsys):
    from tiering.cli import main

    monkeypatch.setenv("TIERING_DATA_DIR", str(worked_examples.data_dir))
    html_path = tmp_path / "C2024002.html"
    assert main(["sheet", "C2024002", "--html", str(html_path)]) == 0
    out = capsys.readouterr().out
    assert "客户信息评估表" in out and "79.10" in out and "重点级客户" in out and "profit_margin" in out
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "79.10" in page and "http" not in page
    assert main(["sheet", "NO_SUCH_CUSTOMER"]) == 1


def test_the_verification_sample_shows_source_figures_next_to_the_standard(worked_examples):
    rows = worked_examples.query(
        """
        select customer_id, strategic_customer_count, tier_min_score, composite_score, period_spend_cny,
               period_invoices_due_count, period_invoices_on_time_count
        from verification_sample
        """
    )
    assert rows == [("C2024001", 1, Decimal("90"), Decimal("100"), Decimal("15000000.00"), 1, 1)]


def test_the_dimension_summary_averages_each_dimension_per_tier(worked_examples):
    rows = worked_examples.query(
        "select tier, dimension, customer_count, avg_dimension_score from dimension_summary where customer_count > 0 order by all"
    )
    assert rows == [
        ("key", "potential", 1, Decimal("71")),
        ("key", "risk", 1, Decimal("60")),
        ("key", "strategic", 1, Decimal("80")),
        ("key", "value", 1, Decimal("94.5")),
        ("strategic", "potential", 1, Decimal("100")),
        ("strategic", "risk", 1, Decimal("100")),
        ("strategic", "strategic", 1, Decimal("100")),
        ("strategic", "value", 1, Decimal("100")),
    ]


def test_a_broken_seed_is_refused_with_its_row_named_and_nothing_is_published(worked_examples, run_pipeline, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(worked_examples.data_dir, data_dir)
    serving = data_dir / "serving" / "tiering.duckdb"
    published_before = serving.read_bytes()
    seeds = seeds_edited(
        tmp_path / "seeds",
        "rubric_dimensions.csv",
        {"客户战略,Strategic importance,10": "客户战略,Strategic importance,15"},
    )
    failed = run_pipeline(FIXTURES / "worked_examples", data_dir, AS_OF, seeds_dir=str(seeds))

    assert not failed.success
    assert serving.read_bytes() == published_before
    failures = [str(event.event_specific_data.error) for event in failed.result.all_events if event.is_step_failure]
    assert any(
        "seeds/rubric_dimensions.csv row 2 (rubric default): the dimension weights sum to 105" in f for f in failures
    )
    built = {event.asset_key.to_user_string() for event in failed.result.get_asset_materialization_events()}
    assert not any(key.startswith(("rubric/rubric_", "marts/", "serving/")) for key in built)


# --- generated demo data ---------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_generated(tmp_path_factory):
    landing = tmp_path_factory.mktemp("demo_landing")
    return generate_demo_extracts(landing, customers=400, seed=11, as_of=date.fromisoformat(AS_OF))


@pytest.fixture(scope="module")
def demo_landing(demo_generated) -> Path:
    return next(iter(demo_generated.files.values())).parent


@pytest.fixture(scope="module")
def demo_run(demo_landing, tmp_path_factory):
    from tests.conftest import run_nightly_job

    monkeypatch = pytest.MonkeyPatch()
    data_dir = tmp_path_factory.mktemp("demo_data")
    run = run_nightly_job(monkeypatch, demo_landing, data_dir, AS_OF)
    monkeypatch.undo()
    assert run.success, "the nightly job failed on generated demo data"
    return run


def test_every_customer_is_tiered_exactly_once(demo_run):
    golden = demo_run.warehouse_query("select count(distinct customer_id) from intermediate.int_customers_matched")[0][
        0
    ]
    rows, distinct_customers = demo_run.query(
        f"select count(*), count(distinct customer_id) from customer_tiers where as_of_date = '{AS_OF}'"
    )[0]
    assert rows == distinct_customers == golden > 300


def test_tier_summary_shares_sum_to_100(demo_run):
    for table in ("tier_summary", "tier_summary_effective"):
        customer_share, spend_share = demo_run.query(
            f"select sum(customer_share_pct), sum(spend_share_pct) from {table}"
            f" where as_of_date = '{AS_OF}' and not is_total_row"
        )[0]
        assert abs(customer_share - 100) <= Decimal("0.001")
        assert abs(spend_share - 100) <= Decimal("0.001")
        assert demo_run.query(
            f"select customer_share_pct, spend_share_pct from {table} where as_of_date = '{AS_OF}' and is_total_row"
        ) == [(Decimal("100"), Decimal("100"))]


@pytest.mark.parametrize(
    ("table", "tier_column"), [("tier_summary", "tier"), ("tier_summary_effective", "effective_tier")]
)
def test_tier_summary_counts_match_customer_tiers(demo_run, table, tier_column):
    summary = dict(
        demo_run.query(f"select tier, customer_count from {table} where as_of_date = '{AS_OF}' and not is_total_row")
    )
    tiers = dict(
        demo_run.query(
            f"select {tier_column}, count(*) from customer_tiers where as_of_date = '{AS_OF}' group by {tier_column}"
        )
    )
    assert {tier: count for tier, count in summary.items() if count} == tiers
    total = demo_run.query(f"select customer_count from {table} where as_of_date = '{AS_OF}' and is_total_row")
    assert total == [(sum(tiers.values()),)]


@pytest.mark.parametrize(
    ("table", "tier_column"), [("tier_summary", "tier"), ("tier_summary_effective", "effective_tier")]
)
def test_tier_summary_margin_is_weighted_by_spend(demo_run, table, tier_column):
    """Recomputed in Python from customer_tiers: Σ(margin × spend) / Σ spend over the customers
    with a margin, per tier and in total, rounded half up to 2 decimals at the end."""
    customers = demo_run.query(
        f"select {tier_column}, profit_margin_pct, period_spend_cny from customer_tiers"
        f" where as_of_date = '{AS_OF}' and profit_margin_pct is not null"
    )
    groups: dict[str, list[tuple[Decimal, Decimal]]] = {"total": []}
    for tier, margin, spend in customers:
        groups.setdefault(tier, []).append((margin, spend))
        groups["total"].append((margin, spend))
    expected = {
        tier: (sum(margin * spend for margin, spend in rows) / sum(spend for _, spend in rows)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        for tier, rows in groups.items()
    }
    published = dict(
        demo_run.query(
            f"select tier, avg_margin_pct from {table} where as_of_date = '{AS_OF}' and avg_margin_pct is not null"
        )
    )
    assert published == expected and "total" in published
    unweighted = sum(margin for _, margin, _ in customers) / len(customers)
    assert abs(published["total"] - unweighted) > Decimal("0.1")  # the demo data tells the two apart


def test_tier_summary_spend_equals_confirmed_order_spend(demo_run, demo_landing):
    """Recomputed from the extract files alone: confirmed lines in the trailing 12 months,
    tax-exclusive, rows that do not parse left out (they are quarantined), and the lines that
    the outlier rules excluded (published in outlier_flags) left out."""
    orders = sorted(demo_landing.glob("erp_orders*.csv"))[0]
    excluded = demo_run.query(
        f"select order_id, line_no from outlier_flags where as_of_date = '{AS_OF}' and is_applied and action = 'exclude'"
    )
    assert excluded, "the demo data plants extra-zero amounts; some line must be excluded"
    excluded_keys = ", ".join(f"('{order_id}', {line_no})" for order_id, line_no in excluded)
    expected = demo_run.query(
        f"""
        select sum(cast(round(try_cast(amount_incl_tax as decimal(18,2)) / (1 + try_cast(tax_rate as decimal(6,4))), 2) as decimal(18,2)))
        from read_csv('{orders}', all_varchar = true)
        where status = 'confirmed'
          and try_cast(order_date as date) between date '2025-07-01' and date '{AS_OF}'
          and try_cast(amount_incl_tax as decimal(18,2)) is not null
          and (order_id, cast(line_no as integer)) not in (values {excluded_keys})
        """
    )[0][0]
    published = demo_run.query(
        f"select total_spend_10k * 10000 from tier_summary where as_of_date = '{AS_OF}' and is_total_row"
    )[0][0]
    assert published == expected  # both DECIMAL: equal to the cent
    assert published > 0
    tier_rows = demo_run.query(
        f"select sum(total_spend_10k) * 10000 from tier_summary where as_of_date = '{AS_OF}' and not is_total_row"
    )[0][0]
    assert tier_rows == published


def test_the_demo_data_spreads_over_several_tiers(demo_run):
    populated = demo_run.query(
        f"select count(*) from tier_summary where as_of_date = '{AS_OF}' and customer_count > 0 and not is_total_row"
    )
    assert populated[0][0] >= 3


# --- every planted defect of the generator is caught, and counted exactly ---------------------


def test_spelling_duplicates_merge_and_every_crm_firm_meets_its_erp_record(demo_run, demo_generated):
    planted = demo_generated.planted
    crm_rows, erp_rows = demo_generated.row_counts["crm_customers"], demo_generated.row_counts["erp_customers"]
    counts = dict(
        demo_run.query(
            f"select match_rule, count(*) from customer_crosswalk where as_of_date = '{AS_OF}' group by match_rule"
        )
    )
    golden, merged = demo_run.query(
        f"select count(distinct customer_id), count(*) filter (where is_merged) from customer_crosswalk "
        f"where as_of_date = '{AS_OF}'"
    )[0]
    assert golden == erp_rows  # one golden customer per firm: each firm has exactly one ERP record
    assert merged == crm_rows  # every CRM record merged with its firm's ERP record (or the other way)
    # CRM records beyond one per golden customer are exactly the planted respelled duplicates
    extra_crm = demo_run.query(
        f"""select coalesce(sum(crm_records - 1), 0) from (
              select customer_id, count(*) as crm_records from customer_crosswalk
              where as_of_date = '{AS_OF}' and source_system = 'crm' group by customer_id)"""
    )[0][0]
    assert extra_crm == planted["crm_duplicate_spelling"]
    # records without a credit code could only be matched by their normalised name
    assert counts["name"] == planted["missing_credit_code"] + planted["crm_duplicate_without_credit_code"]
    assert counts.get("phone", 0) == 0
    assert counts["unmatched"] == planted["erp_only_customer"]
    erp_only = demo_run.query(
        f"""select count(*) from (select customer_id from customer_crosswalk where as_of_date = '{AS_OF}'
              group by customer_id having count(*) filter (where source_system = 'crm') = 0)"""
    )[0][0]
    assert erp_only == planted["erp_only_customer"]


def test_duplicates_with_another_phone_still_merge(demo_run, demo_generated):
    other_phone = demo_run.warehouse_query(
        """select count(*) from (
             select matched.customer_id
             from intermediate.int_customers_matched as matched
             join staging.stg_crm__customers as crm on matched.source_customer_id = crm.crm_customer_id
             where matched.source_system = 'crm'
             group by matched.customer_id
             having count(*) = 2 and count(distinct coalesce(crm.phone, '-')) = 2)"""
    )[0][0]
    assert other_phone == demo_generated.planted["crm_duplicate_other_phone"]


def test_missing_values_are_counted_by_the_expectations_exactly(demo_run, demo_generated):
    planted = demo_generated.planted
    nulls = dict(
        demo_run.query(
            """select "column", unexpected_count from dq_results
           where suite = 'crm_customers' and expectation = 'expect_column_values_to_not_be_null'"""
        )
    )
    assert nulls["credit_code"] == planted["missing_credit_code"] + planted["crm_duplicate_without_credit_code"]
    assert nulls["first_deal_date"] == planted["missing_first_deal_date"]
    assert nulls["industry_rank"] == planted["missing_industry_rank"]
    assert nulls["demand_match_pct"] == planted["missing_demand_match"]
    assert nulls["strategic_level"] == planted["missing_strategic_level"]
    assert nulls["phone"] == planted["missing_phone"]
    columns = [row[0] for row in demo_run.query("select column_name from (describe dq_results)")]
    assert columns == [
        "run_id",
        "as_of_date",
        "suite",
        "expectation",
        "column",
        "severity",
        "success",
        "element_count",
        "unexpected_count",
        "unexpected_percent",
        "unexpected_sample",
    ]


def test_unparseable_lines_are_quarantined_and_cancelled_and_draft_orders_are_not_spend(demo_run, demo_generated):
    planted = demo_generated.planted
    reasons = dict(
        demo_run.query(
            "select split_part(reason, ':', 1), count(*) from quarantined_rows where entity = 'erp_orders' group by 1"
        )
    )
    assert reasons == {
        "column amount_incl_tax": planted["unparseable_order_amount"],
        "column order_date": planted["unparseable_order_date"],
    }
    statuses = dict(demo_run.warehouse_query("select status, count(*) from raw.erp_orders group by status"))
    quarantined = demo_run.warehouse_query("select raw_record from raw._quarantine where entity = 'erp_orders'")
    for status in ("cancelled", "draft"):
        in_quarantine = sum(record.split(",")[4] == status for (record,) in quarantined)
        assert statuses[status] + in_quarantine == planted[f"order_{status}"]
    attributed = demo_run.warehouse_query(
        "select count(*) from intermediate.int_order_lines_attributed as lines "
        "join staging.stg_erp__order_lines as staged using (order_id, line_no) where staged.order_status <> 'confirmed'"
    )[0][0]
    assert attributed == 0


def test_extra_zero_amounts_are_excluded_and_only_they(demo_run, demo_generated):
    flagged = dict(
        demo_run.query(
            f"select rule, count(*) from outlier_flags where as_of_date = '{AS_OF}' and is_applied group by rule"
        )
    )
    assert flagged == {"amount_extra_zero": demo_generated.planted["outlier_extra_zero"]}
    affected = demo_run.query(
        f"""select count(distinct customer_id) from customer_indicator_scores
            where as_of_date = '{AS_OF}' and is_outlier_affected"""
    )[0][0]
    in_period = demo_run.query(
        f"""select count(distinct customer_id) from outlier_flags
            where as_of_date = '{AS_OF}' and is_applied and is_in_spend_period"""
    )[0][0]
    assert affected == in_period


def test_the_books_balance_and_every_audit_table_is_published(demo_run):
    assert demo_run.query(
        f"select count(*), bool_and(is_balanced) from reconciliation where as_of_date = '{AS_OF}'"
    ) == [(6 + 1 + 2, True)]
    published = {row[0] for row in demo_run.query("select table_name from _publication")}
    assert {*PUBLISHED, *AUDIT, "dq_results"} <= published
    assert (demo_run.data_dir / "serving" / "reports" / "latest.html").is_file()


def test_no_raw_phone_or_email_of_the_extracts_is_published(demo_run, demo_landing):
    crm = sorted(demo_landing.glob("crm_customers*.csv"))[0]
    serving = demo_run.data_dir / "serving"
    with duckdb.connect() as connection:
        connection.execute(
            f"create table contacts as select distinct value from (select unnest([phone, email]) as value "
            f"from read_csv('{crm}', all_varchar = true)) where value is not null"
        )
        assert connection.execute("select count(*) from contacts").fetchone()[0] > 700
        connection.execute(f"attach '{serving / 'tiering.duckdb'}' as published (read_only)")
        columns = connection.execute(
            "select table_name, column_name from duckdb_columns() where database_name = 'published' "
            "and data_type = 'VARCHAR'"
        ).fetchall()
        for table, column in columns:
            leaks = connection.execute(
                f"""select count(*) from published.main.{table} as published_rows
                    join contacts on contains(published_rows."{column}", contacts.value)"""
            ).fetchone()[0]
            assert leaks == 0, f"raw contact data in {table}.{column}"
        for parquet in (serving / "parquet").glob("*.parquet"):
            text_columns = [
                name
                for name, kind in connection.execute(
                    f"select column_name, column_type from (describe select * from read_parquet('{parquet}'))"
                ).fetchall()
                if kind == "VARCHAR"
            ]
            for column in text_columns:
                leaks = connection.execute(
                    f"""select count(*) from read_parquet('{parquet}') as rows_
                        join contacts on contains(rows_."{column}", contacts.value)"""
                ).fetchone()[0]
                assert leaks == 0, f"raw contact data in {parquet.name}, column {column}"
        report_text = (serving / "reports" / "latest.html").read_text(encoding="utf-8")
        for (value,) in connection.execute("select value from contacts").fetchall():
            assert value not in report_text


def test_the_warehouse_is_in_the_pinned_storage_format_and_the_serving_file_in_one_duckdb_1_0_reads(demo_run, tmp_path):
    def storage_version(path: Path, **config) -> str:
        with duckdb.connect(str(path), config=config) as connection:
            return connection.execute(
                "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
            ).fetchall()[0][0]

    newest = storage_version(tmp_path / "newest.duckdb", storage_compatibility_version="latest")
    assert newest != "v1.0.0+"
    assert storage_version(demo_run.data_dir / "warehouse.duckdb", access_mode="read_only") == newest
    # BI tools open the serving file with DuckDB drivers of their own, of any release since 1.0.
    assert storage_version(demo_run.data_dir / "serving" / "tiering.duckdb", access_mode="read_only") == "v1.0.0+"


def test_quarantined_rows_reconcile_with_the_files(demo_run):
    read, loaded, quarantined = demo_run.warehouse_query(
        "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from raw._ingested_files"
    )[0]
    assert read == loaded + quarantined
    assert demo_run.warehouse_query("select count(*) from raw._quarantine")[0][0] == quarantined


def test_every_customer_has_abc_rfm_classes(demo_run):
    rows = demo_run.query(
        f"""
        select count(*), count(abc_class), count(rfm_segment), min(rfm_r), max(rfm_r), min(rfm_m), max(rfm_m),
               count(distinct rfm_segment)
        from customer_tiers where as_of_date = '{AS_OF}'
        """
    )[0]
    customers = rows[0]
    assert rows[1:] == (customers, customers, 1, 5, 1, 5, rows[7]) and rows[7] >= 4


def test_abc_a_customers_make_about_the_first_80_percent_of_spend(demo_run):
    rows = demo_run.query(
        f"select abc_class, period_spend_cny from customer_tiers where as_of_date = '{AS_OF}' order by period_spend_cny desc, customer_id"
    )
    total = sum(spend for _, spend in rows)
    a_spend = [spend for cls, spend in rows if cls == "A"]
    assert [cls for cls, _ in rows] == sorted(cls for cls, _ in rows)  # A, then B, then C down the ranking
    assert sum(a_spend) >= Decimal("0.8") * total > sum(a_spend[:-1])


def test_the_verification_sample_is_a_tenth_of_the_strategic_customers_rounded_up(demo_run):
    strategic = demo_run.query(
        f"select count(*) from customer_tiers where as_of_date = '{AS_OF}' and tier = 'strategic'"
    )[0][0]
    sampled = demo_run.query(
        f"""
        select count(*), count(distinct customer_id), min(strategic_customer_count)
        from verification_sample join customer_tiers using (customer_id, as_of_date)
        where as_of_date = '{AS_OF}' and customer_tiers.tier = 'strategic'
        """
    )[0]
    expected = -(-strategic // 10)  # 10 %, rounded up: at least one whenever there is a strategic customer
    assert sampled[:2] == (expected, expected)
    # Reproducible: the rerun test below finds verification_sample identical on the same files.


def test_the_dimension_summary_has_every_tier_and_dimension(demo_run):
    rows = demo_run.query(
        f"select count(*), count(distinct dimension) from dimension_summary where as_of_date = '{AS_OF}'"
    )[0]
    assert rows == (5 * 4, 4)


def test_switching_the_preset_changes_rubric_version_and_the_tiers(demo_run, demo_landing, run_pipeline, tmp_path):
    retail = run_pipeline(demo_landing, tmp_path / "retail", AS_OF, rubric="retail")
    assert retail.success
    default_version = demo_run.query("select distinct rubric_version from customer_tiers")
    retail_version = retail.query("select distinct rubric_version, rubric from customer_tiers")
    assert len(retail_version) == 1 and retail_version[0][1] == "retail"
    assert retail_version[0][0] != default_version[0][0]
    dimensions = {row[0] for row in retail.query("select distinct dimension from customer_indicator_scores")}
    assert dimensions == {"frequency", "order_value", "activity"}
    default_tiers = dict(demo_run.query(f"select customer_id, tier from customer_tiers where as_of_date = '{AS_OF}'"))
    retail_tiers = dict(retail.query(f"select customer_id, tier from customer_tiers where as_of_date = '{AS_OF}'"))
    assert default_tiers.keys() == retail_tiers.keys()
    assert sum(default_tiers[c] != retail_tiers[c] for c in default_tiers) > len(default_tiers) // 10


# --- idempotency, readers, failures ------------------------------------------------------

HOLD_OPEN = textwrap.dedent(
    """
    import sys, time, duckdb
    connection = duckdb.connect(sys.argv[1], read_only=True)
    print(connection.execute("select count(*) from customer_tiers").fetchall()[0][0], flush=True)
    sys.stdin.readline()  # hold the file open until told to stop
    print(connection.execute("select count(*) from customer_tiers").fetchall()[0][0], flush=True)
    """
)


def _snapshot(run, table: str) -> list[tuple]:
    return run.query(f"select * from {table} order by all")


def test_rerun_on_the_same_files_gives_identical_tables_while_a_reader_holds_the_file(
    demo_run, demo_landing, run_pipeline
):
    before = {table: _snapshot(demo_run, table) for table in (*PUBLISHED, *AUDIT)}
    reader = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(demo_run.serving_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        rows_seen_by_reader = int(reader.stdout.readline())
        rerun = run_pipeline(demo_landing, demo_run.data_dir, AS_OF)
        assert rerun.success, "a reader holding the serving file open made the run fail"
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert int(reader.stdout.readline()) == rows_seen_by_reader  # its snapshot stayed whole
    finally:
        reader.kill()
        reader.wait()

    for table in (*PUBLISHED, *AUDIT):
        assert _snapshot(rerun, table) == before[table], f"{table} changed when the same files were run again"
    # the validation history is appended to, never overwritten: one set of results per run
    runs = rerun.query("select run_id, count(*) from dq_results group by run_id")
    assert len(runs) == 2 and runs[0][1] == runs[1][1]
    ledger = rerun.warehouse_query("select count(*), count(distinct file_checksum) from raw._ingested_files")[0]
    assert ledger[0] == ledger[1]  # each file loaded once


def test_a_failed_run_leaves_the_last_good_publication(worked_examples, run_pipeline, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "worked_examples", landing)
    data_dir = tmp_path / "data"
    shutil.copytree(worked_examples.data_dir, data_dir)
    serving = data_dir / "serving" / "tiering.duckdb"
    published_before = serving.read_bytes()

    # A delivery that breaks the contract: the customer master lost a column.
    (landing / "crm_customers_2026-07-01.csv").write_text(
        "crm_customer_id,customer_name\nC9,某公司\n", encoding="utf-8"
    )
    failed = run_pipeline(landing, data_dir, AS_OF)

    assert not failed.success
    assert serving.read_bytes() == published_before
    failures = [event for event in failed.result.all_events if event.is_step_failure]
    assert any("crm_customers_2026-07-01.csv" in str(event.event_specific_data.error) for event in failures)


def test_an_extract_delivered_whole_again_is_checked_on_its_own_rows(worked_examples, run_pipeline, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "worked_examples", landing)
    data_dir = tmp_path / "data"
    shutil.copytree(worked_examples.data_dir, data_dir, symlinks=True)  # serving/current stays a link
    # The next delivery of the invoices: every invoice again, one of them now paid.
    lines = (landing / "erp_receivables_2026-06-30.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].endswith(",")
    lines[1] += "2026-06-30"
    (landing / "erp_receivables_2026-07-01.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    again = run_pipeline(landing, data_dir, AS_OF)

    assert again.success
    results = again.query(
        """select suite, expectation, "column", success, element_count, unexpected_count from dq_results
           where run_id = ?""",
        [again.result.run_id],
    )
    # The run landed the invoices alone: their suite counts the new file's rows, each invoice once.
    checked = {suite: count for suite, _, _, _, count, _ in results}
    assert checked == {
        "erp_receivables": len(lines) - 1,
        "crm_customers": 0,
        "crm_complaints": 0,
        "erp_customers": 0,
        "erp_orders": 0,
        "erp_products": 0,
    }
    [unique] = [r for r in results if r[1] == "expect_column_values_to_be_unique" and r[0] == "erp_receivables"]
    assert unique[3:] == (True, len(lines) - 1, 0)
    assert again.warehouse_query("select count(*) from raw.erp_receivables")[0][0] == 2 * (len(lines) - 1)


def test_books_that_do_not_balance_stop_the_run_before_publishing(worked_examples, run_pipeline, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "worked_examples", landing)
    data_dir = tmp_path / "data"
    shutil.copytree(worked_examples.data_dir, data_dir)
    serving = data_dir / "serving" / "tiering.duckdb"
    published_before = serving.read_bytes()
    # The ledger claims a row that is neither loaded nor quarantined.
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as connection:
        connection.execute("update raw._ingested_files set rows_read = rows_read + 1 where entity = 'erp_orders'")

    failed = run_pipeline(landing, data_dir, AS_OF)

    assert not failed.success
    assert serving.read_bytes() == published_before
    unbalanced = failed.warehouse_query("select subject, difference from marts.reconciliation where not is_balanced")
    assert unbalanced == [("erp_orders_2026-06-30.csv", Decimal("-1.00"))]
    checks = [event for event in failed.result.all_events if event.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed_checks = [e.event_specific_data.check_name for e in checks if not e.event_specific_data.passed]
    assert any("reconciliation_is_balanced" in name for name in failed_checks)
