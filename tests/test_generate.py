"""The demo extract generator: contract-exact files, determinism, exact planted defects, realism."""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import pytest

from tiering.credit_code import check_char as credit_code_check_char
from tiering.credit_code import is_valid as is_valid_credit_code
from tiering.demo.generate import (
    CITIES,
    DEFECT_BASIS,
    DEFECT_RATES,
    FIRM_PREFIXES,
    INDUSTRIES,
    INDUSTRY_WORDS,
    PRODUCT_CATEGORIES,
    generate_demo_extracts,
    main,
)
from tiering.ingest.contract import ENTITIES

AS_OF = date(2025, 6, 30)
CUSTOMERS = 2000


def normalised_name(name: str) -> str:
    """The spelling-insensitive form of a firm name that a dedupe step would compare."""
    name = unicodedata.normalize("NFKC", name).replace(" ", "")
    return name.replace("有限责任公司", "有限公司")


def read_rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def as_decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One ~2,000-customer run shared by the read-only tests, with its files parsed."""
    result = generate_demo_extracts(tmp_path_factory.mktemp("landing"), customers=CUSTOMERS, seed=42, as_of=AS_OF)
    rows = {entity: read_rows(path) for entity, path in result.files.items()}
    return result, rows


@pytest.fixture(scope="module")
def pairs(demo):
    """CRM rows grouped by firm (normalised name), and the ERP row of each firm."""
    _, rows = demo
    crm_by_firm = defaultdict(list)
    for row in rows["crm_customers"]:
        crm_by_firm[normalised_name(row["customer_name"])].append(row)
    erp_by_firm = {normalised_name(row["customer_name"]): row for row in rows["erp_customers"]}
    return crm_by_firm, erp_by_firm


def duplicates(crm_by_firm) -> list[tuple[dict, dict]]:
    """(original, respelled duplicate) pairs: the original's name is already in normal form."""
    found = []
    for group in crm_by_firm.values():
        if len(group) == 2:
            original, duplicate = sorted(group, key=lambda r: normalised_name(r["customer_name"]) != r["customer_name"])
            found.append((original, duplicate))
    return found


def test_same_seed_gives_byte_identical_files(tmp_path):
    first = generate_demo_extracts(tmp_path / "a", customers=500, seed=7, as_of=AS_OF)
    second = generate_demo_extracts(tmp_path / "b", customers=500, seed=7, as_of=AS_OF)
    for entity, path in first.files.items():
        assert path.read_bytes() == second.files[entity].read_bytes(), entity
    assert first.planted == second.planted
    assert first.row_counts == second.row_counts


def test_different_seed_gives_different_files(tmp_path):
    first = generate_demo_extracts(tmp_path / "a", customers=500, seed=7, as_of=AS_OF)
    second = generate_demo_extracts(tmp_path / "b", customers=500, seed=8, as_of=AS_OF)
    for entity in ("crm_customers", "erp_customers", "erp_orders", "erp_receivables"):
        assert first.files[entity].read_bytes() != second.files[entity].read_bytes(), entity


def test_every_contract_entity_gets_one_file_named_by_entity_and_as_of(demo):
    result, _ = demo
    assert set(result.files) == set(ENTITIES)
    for entity, path in result.files.items():
        assert path.name == f"{entity}_2025-06-30.csv"


def test_every_file_has_exactly_the_contract_header_and_only_crm_customers_has_a_bom(demo):
    result, _ = demo
    for entity, path in result.files.items():
        raw = path.read_bytes()
        has_bom = raw.startswith(b"\xef\xbb\xbf")
        assert has_bom == (entity == "crm_customers"), entity
        header = raw.decode("utf-8-sig").split("\n", 1)[0]
        assert header == ",".join(ENTITIES[entity].column_names), entity


def test_row_counts_match_the_files(demo):
    result, rows = demo
    assert result.row_counts == {entity: len(entity_rows) for entity, entity_rows in rows.items()}
    assert result.row_counts["erp_orders"] == pytest.approx(CUSTOMERS * 20, rel=0.15)


def test_planted_keys_are_the_documented_defects(demo):
    result, _ = demo
    assert set(result.planted) == set(DEFECT_RATES) == set(DEFECT_BASIS)


def test_planted_crm_counts_match_a_recount_from_the_files(demo, pairs):
    result, rows = demo
    crm_by_firm, _ = pairs
    crm = rows["crm_customers"]
    dups = duplicates(crm_by_firm)
    assert all(len(group) <= 2 for group in crm_by_firm.values())
    planted = result.planted
    assert len(dups) == planted["crm_duplicate_spelling"] == len(crm) - CUSTOMERS
    assert sum(d["credit_code"] == "" for _, d in dups) == planted["crm_duplicate_without_credit_code"]
    assert sum(o["phone"] != d["phone"] for o, d in dups) == planted["crm_duplicate_other_phone"]
    empty_codes = sum(row["credit_code"] == "" for row in crm)
    assert empty_codes == planted["missing_credit_code"] + planted["crm_duplicate_without_credit_code"]
    for column, defect in [
        ("first_deal_date", "missing_first_deal_date"),
        ("industry_rank", "missing_industry_rank"),
        ("demand_match_pct", "missing_demand_match"),
        ("strategic_level", "missing_strategic_level"),
        ("phone", "missing_phone"),
    ]:
        assert sum(row[column] == "" for row in crm) == planted[defect], column


def test_planted_erp_counts_match_a_recount_from_the_files(demo, pairs):
    result, rows = demo
    crm_by_firm, erp_by_firm = pairs
    planted = result.planted
    assert sum(name not in crm_by_firm for name in erp_by_firm) == planted["erp_only_customer"]
    assert len(erp_by_firm) == len(rows["erp_customers"])  # ERP names are unique too

    lines = rows["erp_orders"]
    assert sum(line["status"] == "cancelled" for line in lines) == planted["order_cancelled"]
    assert sum(line["status"] == "draft" for line in lines) == planted["order_draft"]
    assert sum(line["amount_incl_tax"] == "N/A" for line in lines) == planted["unparseable_order_amount"]
    assert sum(as_date(line["order_date"]) is None for line in lines) == planted["unparseable_order_date"]
    # an extra zero: cost was left alone, so cost is a tenth of revenue or less
    outliers = [
        line
        for line in lines
        if (amount := as_decimal(line["amount_incl_tax"])) is not None
        and Decimal(line["cost_excl_tax"]) < Decimal("0.2") * amount / (1 + Decimal(line["tax_rate"]))
    ]
    assert len(outliers) == planted["outlier_extra_zero"]
    assert all(line["status"] == "confirmed" for line in outliers)


def test_planted_counts_are_near_the_documented_rates(demo):
    result, rows = demo
    planted = result.planted
    n_dups = planted["crm_duplicate_spelling"]
    lines = len(rows["erp_orders"])
    confirmed = sum(line["status"] == "confirmed" for line in rows["erp_orders"])
    bases = {
        "crm_duplicate_spelling": CUSTOMERS,
        "crm_duplicate_without_credit_code": n_dups,
        "crm_duplicate_other_phone": n_dups,
        "erp_only_customer": CUSTOMERS,
        "missing_credit_code": CUSTOMERS,
        "missing_first_deal_date": len(rows["crm_customers"]),
        "missing_industry_rank": len(rows["crm_customers"]),
        "missing_demand_match": len(rows["crm_customers"]),
        "missing_strategic_level": len(rows["crm_customers"]),
        "missing_phone": len(rows["crm_customers"]),
        "order_cancelled": lines,
        "order_draft": lines,
        "outlier_extra_zero": confirmed,
        "unparseable_order_amount": lines,
        "unparseable_order_date": lines,
    }
    for defect, rate in DEFECT_RATES.items():
        expected = rate * bases[defect]
        # binomial spread; cancelled/draft are drawn per order of ~3 lines, so allow 3x the variance
        tolerance = 5 * math.sqrt(3 * expected) + 2
        assert abs(planted[defect] - expected) <= tolerance, (defect, planted[defect], expected)
        assert planted[defect] > 0, defect


def test_credit_code_check_char_matches_the_published_example():
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert is_valid_credit_code("91350100M000100Y43")


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y433", "91350100I000100Y43", "", None],
)
def test_is_valid_credit_code_rejects_wrong_check_digit_length_or_charset(code):
    assert not is_valid_credit_code(code)


def test_every_present_credit_code_is_18_characters_with_a_valid_check_digit(demo):
    _, rows = demo
    codes = [row["credit_code"] for entity in ("crm_customers", "erp_customers") for row in rows[entity]]
    present = [code for code in codes if code]
    assert len(present) > 0.9 * len(codes)
    assert all(is_valid_credit_code(code) and code.startswith("91") for code in present)


def test_each_crm_firm_has_one_erp_record_with_its_credit_code_and_a_similar_name(demo, pairs):
    _, rows = demo
    crm_by_firm, erp_by_firm = pairs
    erp_by_code = Counter(row["credit_code"] for row in rows["erp_customers"])
    assert all(row["credit_code"] for row in rows["erp_customers"])
    assert max(erp_by_code.values()) == 1
    for firm, group in crm_by_firm.items():
        erp = erp_by_firm[firm]
        for row in group:
            assert row["credit_code"] in ("", erp["credit_code"])


def test_firm_names_are_unique_across_all_name_combinations():
    words = [word for group in INDUSTRY_WORDS.values() for word in group]
    plain = {city + prefix + word for city in CITIES for prefix in FIRM_PREFIXES for word in words}
    bracketed = {prefix + word + "(" + city + ")" for city in CITIES for prefix in FIRM_PREFIXES for word in words}
    combinations = len(CITIES) * len(FIRM_PREFIXES) * len(words)
    assert len(plain) == len(bracketed) == combinations > 300_000
    assert len(INDUSTRIES) == 12


def test_top_10_percent_of_customers_make_at_least_60_percent_of_confirmed_spend(demo):
    _, rows = demo
    spend = Counter()
    for line in rows["erp_orders"]:
        amount = as_decimal(line["amount_incl_tax"])
        if line["status"] == "confirmed" and amount is not None:
            spend[line["erp_customer_id"]] += float(amount) / (1 + float(line["tax_rate"]))
    ranked = sorted(spend.values(), reverse=True)
    top = ranked[: len(rows["erp_customers"]) // 10]
    assert sum(top) >= 0.6 * sum(ranked)


def test_no_dates_after_as_of_except_the_documented_impossible_order_dates(demo):
    _, rows = demo
    earliest_order = AS_OF - timedelta(days=3 * 365 + 1)
    for line in rows["erp_orders"]:
        day = as_date(line["order_date"])
        if day is None:
            assert re.fullmatch(r"\d{4}-(13-\d{2}|\d{2}-32)", line["order_date"])
        else:
            assert earliest_order <= day <= AS_OF
    for row in rows["erp_receivables"]:
        assert date.fromisoformat(row["invoice_date"]) <= AS_OF
        assert row["paid_date"] == "" or date.fromisoformat(row["paid_date"]) <= AS_OF
    for row in rows["crm_customers"]:
        assert row["updated_at"][:10] <= AS_OF.isoformat()
        first_deal = as_date(row["first_deal_date"]) if row["first_deal_date"] else AS_OF
        assert AS_OF - timedelta(days=15 * 366) <= first_deal <= AS_OF
    for row in rows["crm_complaints"]:
        assert AS_OF - timedelta(days=3 * 366) <= date.fromisoformat(row["opened_at"][:10]) <= AS_OF


def test_values_have_the_documented_formats(demo):
    _, rows = demo
    patterns = {
        "crm_customers": {
            "crm_customer_id": r"C\d{7}",
            "phone": r"(1[3-9]\d{9})?",
            "email": r"[a-z]+\d+@example\.com",
            "first_deal_date": r"(\d{4}-\d{2}-\d{2})?",
            "industry_rank": r"(\d{1,3})?",
            "demand_match_pct": r"(\d{1,2}\.\d{2})?",
            "strategic_level": r"(national_key|regional_leader|ordinary|non_core)?",
            "updated_at": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
        },
        "erp_customers": {"erp_customer_id": r"E\d{7}", "created_at": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"},
        "erp_products": {"product_id": r"P\d{5}", "is_active": r"true|false"},
        "erp_orders": {
            "order_id": r"SO\d{9}",
            "line_no": r"[1-5]",
            "erp_customer_id": r"E\d{7}",
            "status": r"confirmed|cancelled|draft",
            "product_id": r"P\d{5}",
            "quantity": r"\d+",
            "amount_incl_tax": r"\d+\.\d{2}|N/A",
            "tax_rate": r"0\.13|0\.09|0\.06",
            "cost_excl_tax": r"-?\d+\.\d{2}",
            "currency": r"CNY",
        },
        "erp_receivables": {"invoice_id": r"INV\d{9}", "amount": r"\d+\.\d{2}", "paid_date": r"(\d{4}-\d{2}-\d{2})?"},
        "crm_complaints": {
            "ticket_id": r"T\d{8}",
            "crm_customer_id": r"C\d{7}",
            "opened_at": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
            "severity": r"low|medium|high",
            "status": r"open|closed",
        },
    }
    for entity, columns in patterns.items():
        for row in rows[entity]:
            for column, pattern in columns.items():
                assert re.fullmatch(pattern, row[column]), (entity, column, row[column])
    for row in rows["crm_customers"]:
        assert row["industry"] in INDUSTRIES
        assert row["owner"] and row["region"]
        assert row["industry_rank"] == "" or 1 <= int(row["industry_rank"]) <= 500
    for entity in ("crm_customers", "erp_customers", "erp_orders", "erp_receivables", "crm_complaints"):
        keys = ENTITIES[entity].key
        assert len({tuple(row[k] for k in keys) for row in rows[entity]}) == len(rows[entity]), entity


def test_every_product_category_has_an_active_product(demo):
    _, rows = demo
    products = rows["erp_products"]
    assert len(products) == 200
    assert {p["product_category"] for p in products} == set(PRODUCT_CATEGORIES)
    assert {p["product_category"] for p in products if p["is_active"] == "true"} == set(PRODUCT_CATEGORIES)
    assert 0.8 <= sum(p["is_active"] == "true" for p in products) / len(products) <= 0.97


def test_orders_have_one_to_five_lines_mostly_13_percent_vat_and_margins_between_0_and_30_percent(demo):
    _, rows = demo
    lines = rows["erp_orders"]
    per_order = Counter(line["order_id"] for line in lines)
    assert set(per_order.values()) <= {1, 2, 3, 4, 5}
    assert sum(line["tax_rate"] == "0.13" for line in lines) / len(lines) > 0.7
    margins = []
    for line in lines:
        amount = as_decimal(line["amount_incl_tax"])
        if amount is None:
            continue
        revenue = float(amount) / (1 + float(line["tax_rate"]))
        margins.append(1 - float(line["cost_excl_tax"]) / revenue)
    inside = sum(0 <= m <= 0.30 for m in margins) / len(margins)
    assert inside > 0.85


def test_invoices_fall_due_after_30_60_or_90_days_and_most_are_paid_on_time(demo):
    _, rows = demo
    invoices = rows["erp_receivables"]
    confirmed_orders = {line["order_id"] for line in rows["erp_orders"] if line["status"] == "confirmed"}
    assert 0.9 * len(confirmed_orders) <= len(invoices) <= len(confirmed_orders)
    on_time = late = unpaid = 0
    for row in invoices:
        invoiced, due = date.fromisoformat(row["invoice_date"]), date.fromisoformat(row["due_date"])
        assert (due - invoiced).days in (30, 60, 90)
        assert Decimal(row["amount"]) > 0
        if row["paid_date"] == "":
            unpaid += 1
        elif date.fromisoformat(row["paid_date"]) <= due:
            assert date.fromisoformat(row["paid_date"]) >= invoiced
            on_time += 1
        else:
            late += 1
    assert on_time > late > 0 and unpaid > 0


def test_complaints_are_for_a_minority_of_crm_customers(demo):
    _, rows = demo
    crm_ids = {row["crm_customer_id"] for row in rows["crm_customers"]}
    complaining = {row["crm_customer_id"] for row in rows["crm_complaints"]}
    assert complaining <= crm_ids
    assert 0.05 * len(crm_ids) <= len(complaining) <= 0.3 * len(crm_ids)


def test_tier_spread_under_the_default_rubric_is_in_the_target_ranges(demo, pairs):
    """Value dimension only, trailing 12 months to as-of, tax-exclusive confirmed spend."""
    _, rows = demo
    crm_by_firm, erp_by_firm = pairs
    categories = {p["product_id"]: p["product_category"] for p in rows["erp_products"]}
    active_categories = len({p["product_category"] for p in rows["erp_products"] if p["is_active"] == "true"})
    revenue, cost, bought = Counter(), Counter(), defaultdict(set)
    window_start = AS_OF - timedelta(days=365)
    for line in rows["erp_orders"]:
        amount, day = as_decimal(line["amount_incl_tax"]), as_date(line["order_date"])
        if line["status"] != "confirmed" or amount is None or day is None or not window_start < day <= AS_OF:
            continue
        customer = line["erp_customer_id"]
        revenue[customer] += float(amount) / (1 + float(line["tax_rate"]))
        cost[customer] += float(line["cost_excl_tax"])
        bought[customer].add(categories[line["product_id"]])

    def band(value, bounds, scores):
        return next((score for bound, score in zip(bounds, scores, strict=False) if value >= bound), scores[-1])

    tiers = Counter()
    for firm, group in crm_by_firm.items():
        dates = [as_date(row["first_deal_date"]) for row in group if row["first_deal_date"]]
        if not dates:
            continue  # pending evaluation
        customer = erp_by_firm[firm]["erp_customer_id"]
        spend = revenue[customer] / 10_000
        margin = 100 * (revenue[customer] - cost[customer]) / revenue[customer] if revenue[customer] else 0
        years = (AS_OF - min(dates)).days / 365.25
        cross = 100 * len(bought[customer]) / active_categories
        composite = (
            0.40 * band(spend, (1000, 500, 100), (100, 80, 60, 40))
            + 0.25 * band(margin, (18, 15, 10, 5), (100, 90, 75, 60, 40))
            + 0.20 * band(years, (5, 3, 1), (100, 80, 60, 40))
            + 0.15 * band(cross, (35, 20, 10), (100, 80, 60, 40))
        )
        tiers[band(composite, (90, 75, 60), ("strategic", "key", "ordinary", "potential"))] += 1
    total = sum(tiers.values())
    share = {tier: count / total for tier, count in tiers.items()}
    assert 0.03 <= share["strategic"] <= 0.06, share
    assert 0.10 <= share["key"] <= 0.20, share
    assert 0.30 <= share["ordinary"] <= 0.50, share


def test_command_line_writes_the_files_and_prints_the_counts(tmp_path, capsys):
    assert main(["--landing-dir", str(tmp_path), "--customers", "50", "--seed", "3", "--as-of", "2025-06-30"]) == 0
    out = capsys.readouterr().out
    assert "erp_orders" in out and "outlier_extra_zero" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{e}_2025-06-30.csv" for e in ENTITIES)
