"""Tests of the GX data-quality suites and of tiering.quality, with real GX and real DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from tiering.ingest.contract import ENTITIES
from tiering.quality import masking, suites, validate, views

EXPECTATIONS_DIR = suites.repo_root() / "expectations"

# Two clean rows per entity, in contract column order.
CLEAN_ROWS: dict[str, list[tuple]] = {
    "crm_customers": [
        (
            "CRM001",
            "华东精密机械有限公司",
            "91310000MA1FL4XX3F",
            "machinery",
            "east",
            "13812341234",
            "buyer@huadong.example",
            "li.wei",
            date(2021, 3, 1),
            12,
            85.5,
            "national_key",
            datetime(2025, 1, 2, 9),
        ),
        (
            "CRM002",
            "Northwind Trading",
            "91110108MA01ABCD1E",
            None,
            None,
            "13912345678",
            None,
            None,
            date(2022, 5, 1),
            300,
            10.0,
            "non_core",
            None,
        ),
    ],
    "erp_customers": [
        ("ERP001", "华东精密机械有限公司", "91310000MA1FL4XX3F", datetime(2020, 5, 6, 10)),
        ("ERP002", "Northwind Trading", "91110108MA01ABCD1E", None),
    ],
    "erp_products": [
        ("P001", "Spindle", "machinery", True),
        ("P002", None, "service", False),
    ],
    "erp_orders": [
        ("SO001", 1, "ERP001", date(2025, 1, 3), "confirmed", "P001", 2, 2260.00, 0.13, 1500.00, "CNY"),
        ("SO001", 2, "ERP001", date(2025, 1, 3), "draft", None, None, 0.00, 0.0, None, None),
    ],
    "erp_receivables": [
        ("INV001", "ERP001", date(2025, 1, 5), date(2025, 2, 4), 2260.00, date(2025, 1, 30)),
        ("INV002", "ERP002", date(2025, 1, 6), date(2025, 2, 5), 0.00, None),
    ],
    "crm_complaints": [
        ("T001", "CRM001", datetime(2025, 2, 1, 8, 30), "high", "open"),
        ("T002", "CRM002", datetime(2025, 2, 2, 9, 0), None, None),
    ],
}


def create_table(
    connection: duckdb.DuckDBPyConnection, entity: str, rows: list[tuple], drop: tuple[str, ...] = ()
) -> str:
    """Create and fill a table with the contract's DuckDB types, leaving out the ``drop`` columns."""
    columns = [c for c in ENTITIES[entity].columns if c.name not in drop]
    connection.execute(f"CREATE TABLE {entity} ({', '.join(f'{c.name} {c.sql_type}' for c in columns)})")
    keep = [i for i, c in enumerate(ENTITIES[entity].columns) if c.name not in drop]
    if rows:
        placeholders = ", ".join("?" for _ in columns)
        connection.executemany(
            f"INSERT INTO {entity} VALUES ({placeholders})", [[row[i] for i in keep] for row in rows]
        )
    return entity


def outcome(result: validate.SuiteOutcome, expectation: str, column: str) -> validate.ExpectationOutcome:
    matches = [o for o in result.outcomes if o.expectation == expectation and o.column == column]
    assert len(matches) == 1, f"expected one {expectation} on {column}, got {matches}"
    return matches[0]


@pytest.fixture
def connection():
    with duckdb.connect() as connection:
        yield connection


def test_planted_defects_in_order_lines_are_counted_exactly(connection):
    rows = [
        (f"SO{i // 2:05d}", i % 2 + 1, "ERP001", date(2025, 1, 3), "confirmed", "P001", 1, 113.0, 0.13, 80.0, "CNY")
        for i in range(1000)
    ]
    for i in range(7):  # 7 missing order ids
        rows[i] = (None, *rows[i][1:])
    for i, source in zip((900, 902, 904), (100, 200, 300), strict=True):  # 3 lines repeat another line's key
        rows[i] = (rows[source][0], rows[source][1], *rows[i][2:])
    for i in range(500, 505):  # 5 statuses outside the allowed set
        rows[i] = (*rows[i][:4], "shipped", *rows[i][5:])
    create_table(connection, "erp_orders", rows)
    create_table(connection, "erp_customers", CLEAN_ROWS["erp_customers"])
    create_table(connection, "erp_products", CLEAN_ROWS["erp_products"])

    result = validate.validate_table(connection, "erp_orders", "erp_orders")

    nulls = outcome(result, "expect_column_values_to_not_be_null", "order_id")
    assert (nulls.element_count, nulls.unexpected_count) == (1000, 7)
    assert nulls.unexpected_percent == pytest.approx(0.7)
    assert nulls.sample_values == ["null"]
    # GX counts every row of a duplicate group: 3 duplicated keys are 6 rows. The rows whose
    # order_id is null are skipped (ignore_row_if any_value_is_missing), not duplicates of each other.
    duplicates = outcome(result, "expect_compound_columns_to_be_unique", "order_id, line_no")
    assert (duplicates.element_count, duplicates.unexpected_count) == (1000, 6)
    assert duplicates.sample_values == [
        "order_id=SO00050, line_no=1",
        "order_id=SO00100, line_no=1",
        "order_id=SO00150, line_no=1",
    ]
    statuses = outcome(result, "expect_column_values_to_be_in_set", "status")
    assert (statuses.element_count, statuses.unexpected_count, statuses.sample_values) == (1000, 5, ["shipped"])
    failed = {(o.expectation, o.column) for o in result.outcomes if not o.success}
    assert failed == {
        ("expect_column_values_to_not_be_null", "order_id"),
        ("expect_compound_columns_to_be_unique", "order_id, line_no"),
        ("expect_column_values_to_be_in_set", "status"),
    }
    assert all(o.severity == "warn" for o in result.outcomes if not o.success)
    assert result.success and result.blocking_failures == []


def test_a_run_checks_the_rows_it_landed_and_a_key_delivered_again_is_no_duplicate(connection):
    # Extracts are often delivered whole every night, and raw keeps every delivery: the second
    # night's file sends every key of the first again. Checked as that run's delivery, it is judged
    # on its own rows: its one missing order id and its one key repeated within it are counted.
    first = [
        (f"SO{i:05d}", 1, "ERP001", date(2025, 1, 3), "confirmed", "P001", 1, 113.0, 0.13, 80.0, "CNY")
        for i in range(300)
    ]
    create_table(connection, "erp_orders", first)
    connection.execute("alter table erp_orders add column _load_seq bigint default 1")
    connection.execute("insert into erp_orders select * exclude (_load_seq), 2 from erp_orders")
    connection.execute("update erp_orders set order_id = null where _load_seq = 2 and order_id = 'SO00007'")
    connection.execute("update erp_orders set order_id = 'SO00011' where _load_seq = 2 and order_id = 'SO00010'")
    create_table(connection, "erp_customers", CLEAN_ROWS["erp_customers"])
    create_table(connection, "erp_products", CLEAN_ROWS["erp_products"])

    second = validate.validate_table(connection, "erp_orders", "erp_orders", deliveries=[2])

    nulls = outcome(second, "expect_column_values_to_not_be_null", "order_id")
    assert (nulls.element_count, nulls.unexpected_count) == (300, 1)
    duplicates = outcome(second, "expect_compound_columns_to_be_unique", "order_id, line_no")
    assert (duplicates.element_count, duplicates.unexpected_count) == (300, 2)
    assert duplicates.sample_values == ["order_id=SO00011, line_no=1"]
    # Over every delivery, nearly every row would be a duplicate: all but SO00007 and SO00010
    # of the first night, and every keyed row of the second.
    every_delivery = validate.validate_table(connection, "erp_orders", "erp_orders")
    duplicates = outcome(every_delivery, "expect_compound_columns_to_be_unique", "order_id, line_no")
    assert (duplicates.element_count, duplicates.unexpected_count) == (600, 298 + 299)
    # Both deliveries, named, are every row (the view then reads the table unfiltered).
    both = validate.validate_table(connection, "erp_orders", "erp_orders", deliveries=[1, 2])
    duplicates = outcome(both, "expect_compound_columns_to_be_unique", "order_id, line_no")
    assert (duplicates.element_count, duplicates.unexpected_count) == (600, 298 + 299)
    # A run that landed nothing is checked over no rows.
    nothing = validate.validate_table(connection, "erp_orders", "erp_orders", deliveries=[])
    assert {(o.element_count, o.unexpected_count, o.success) for o in nothing.outcomes} == {(0, 0, True)}


class CountingLock:
    """A lock that counts how often it was taken."""

    def __init__(self) -> None:
        self.taken = 0

    def __enter__(self) -> None:
        self.taken += 1

    def __exit__(self, *exc) -> None:
        return None


def test_the_samples_lock_is_taken_only_to_sample_failing_rows(connection):
    # The ingest's loader copies rows without insertion order (a setting of the whole
    # database) while a step validates: only the samples of failing rows follow the rows'
    # order, so only they wait for it.
    create_table(connection, "erp_products", CLEAN_ROWS["erp_products"])
    held = threading.Lock()
    with held:  # as if the loader were copying rows: a clean table's verdicts need no turn
        clean = []
        worker = threading.Thread(
            target=lambda: clean.append(
                validate.validate_table(connection.cursor(), "erp_products", "erp_products", samples_lock=held)
            )
        )
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive() and clean[0].success
    assert all(o.success for o in clean[0].outcomes)

    rows = [
        (f"SO{i:05d}", 1, "ERP001", date(2025, 1, 3), "confirmed", "P001", 1, 113.0, 0.13, 80.0, "CNY")
        for i in range(1000)
    ]
    for i in range(500, 505):  # 5 statuses outside the allowed set
        rows[i] = (*rows[i][:4], "shipped", *rows[i][5:])
    create_table(connection, "erp_orders", rows)
    create_table(connection, "erp_customers", CLEAN_ROWS["erp_customers"])
    lock = CountingLock()
    result = validate.validate_table(connection, "erp_orders", "erp_orders", samples_lock=lock)
    statuses = outcome(result, "expect_column_values_to_be_in_set", "status")
    assert (statuses.element_count, statuses.unexpected_count, statuses.sample_values) == (1000, 5, ["shipped"])
    assert lock.taken == 1


def test_a_delivery_cannot_be_checked_in_a_table_without_lineage(connection):
    create_table(connection, "erp_products", CLEAN_ROWS["erp_products"])
    with pytest.raises(ValueError, match="erp_products has no _load_seq column"):
        validate.validate_table(connection, "erp_products", "erp_products", deliveries=[1])


def test_a_check_that_passes_only_by_mostly_still_reports_its_failing_rows(connection):
    # Checks are validated for their verdict first, and only failures are asked for counts and
    # samples; a pass means "no row failed" only without a `mostly` below 1.
    rows = [
        (f"SO{i:05d}", 1, "ERP001", date(2025, 1, 3), "confirmed", "P001", 1, 113.0, 0.13, 80.0, "CNY")
        for i in range(1000)
    ]
    for i in range(7):
        rows[i] = (*rows[i][:4], "shipped", *rows[i][5:])
    create_table(connection, "erp_orders", rows)
    _, columns = views.create_checked_view(connection, "erp_orders", "erp_orders")
    in_set = {"column": "status", "value_set": ["confirmed", "cancelled", "draft"]}
    suite = {
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {**in_set, "mostly": 0.99},
                "meta": {"severity": "warn"},
            },
            {"type": "expect_column_values_to_be_in_set", "kwargs": in_set, "meta": {"severity": "warn"}},
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "order_id"},
                "meta": {"severity": "warn"},
            },
        ]
    }

    result = validate._validate_view(connection, "erp_orders", suite, rows=1000, present=set(columns))

    mostly, strict, not_null = result.outcomes
    assert mostly.success and (mostly.unexpected_count, mostly.sample_values) == (7, ["shipped"])
    assert not strict.success and (strict.unexpected_count, strict.sample_values) == (7, ["shipped"])
    assert not_null.success and (not_null.element_count, not_null.unexpected_count, not_null.sample_values) == (
        1000,
        0,
        [],
    )


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_a_clean_table_passes_every_expectation(connection, entity):
    create_table(connection, entity, CLEAN_ROWS[entity])
    for referenced in views.referenced_entities(entity):  # known customers and products
        create_table(connection, referenced, CLEAN_ROWS[referenced])

    result = validate.validate_table(connection, entity, entity)

    assert [o for o in result.outcomes if not o.success] == []
    assert len(result.outcomes) == len(suites.load_suite(suites.suite_path(entity))["expectations"])
    assert all(o.element_count == 2 and o.unexpected_count == 0 for o in result.outcomes)
    assert result.success


def test_a_missing_required_column_is_a_blocking_failure_naming_the_column(connection):
    connection.execute("CREATE SCHEMA raw")
    connection.execute("USE raw")
    create_table(connection, "erp_orders", CLEAN_ROWS["erp_orders"], drop=("tax_rate",))
    connection.execute("USE memory.main")

    result = validate.validate_table(connection, "raw.erp_orders", "erp_orders")

    assert not result.success
    [blocking] = result.blocking_failures
    assert (blocking.expectation, blocking.column, blocking.severity) == ("expect_column_to_exist", "tax_rate", "error")
    assert (blocking.element_count, blocking.unexpected_count, blocking.unexpected_percent) == (2, 2, 100.0)
    # the range check on the missing column is not run, and says why
    range_check = outcome(result, "expect_column_values_to_be_between", "tax_rate")
    assert not range_check.success and range_check.severity == "warn"
    assert range_check.message == "not evaluated: column 'tax_rate' is missing"


def test_an_expectation_that_gx_cannot_evaluate_fails_as_blocking_rather_than_passing(connection):
    # The suite compares amount with a number; text in the column makes DuckDB raise.
    create_table(connection, "erp_receivables", CLEAN_ROWS["erp_receivables"], drop=("amount",))
    connection.execute("alter table erp_receivables add column amount varchar default 'n/a'")

    result = validate.validate_table(connection, "erp_receivables", "erp_receivables")

    failure = outcome(result, "expect_column_values_to_be_between", "amount")
    assert failure.severity == "error" and not failure.success
    assert failure.message.startswith("GX raised while evaluating this expectation: ")
    assert failure in result.blocking_failures


def test_sample_values_are_masked(connection):
    phones = ["12812345678", "+86 199 8765 4321", "1381234567"]  # bad prefix, formatted, too short
    emails = ["zhang san@example.com", "li.si@example", "wang"]
    rows = [
        (f"CRM{i}", "Acme", None, None, None, phone, email, None, None, None, None, None, None)
        for i, (phone, email) in enumerate(zip(phones, emails, strict=True))
    ]
    create_table(connection, "crm_customers", rows)

    result = validate.validate_table(connection, "crm_customers", "crm_customers")

    phone_check = outcome(result, "expect_column_values_to_match_regex", "phone")
    assert phone_check.unexpected_count == 3
    assert phone_check.sample_values == ["128****5678", "+86 199 **** 4321", "1***"]
    email_check = outcome(result, "expect_column_values_to_match_regex", "email")
    assert email_check.sample_values == ["z***", "l***@example", "w***"]
    samples = " ".join(v for o in result.outcomes for v in o.sample_values)
    assert "12812345678" not in samples and "8765" not in samples and "1381234567" not in samples
    assert "zhang" not in samples and "li.si" not in samples


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812341234", "138****1234"),
        ("138-1234-1234", "138-****-1234"),
        ("8613812341234", "86138****1234"),
        ("zhang.san@example.com", "z***@example.com"),
        ("SO2024-0001", "SO2024-0001"),
        ("91310000MA1FL4XX3D", "91310000MA1FL4XX3D"),
        ("", ""),
    ],
)
def test_mask_value_hides_phones_and_emails_and_leaves_other_values_alone(value, masked):
    assert masking.mask_value(value) == masked


def test_an_empty_table_has_zero_unexpected_percent(connection):
    create_table(connection, "erp_orders", [])

    result = validate.validate_table(connection, "erp_orders", "erp_orders")

    assert result.success
    assert all((o.element_count, o.unexpected_count, o.unexpected_percent) == (0, 0, 0.0) for o in result.outcomes)


def test_every_contract_entity_has_a_suite_file_and_no_file_is_without_an_entity():
    assert sorted(path.stem for path in EXPECTATIONS_DIR.glob("*.json")) == sorted(ENTITIES)
    assert all(suites.suite_path(entity).is_file() for entity in ENTITIES)


@pytest.mark.parametrize("path", sorted(EXPECTATIONS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_suite_file_parses_and_names_only_columns_of_its_contract_entity(path: Path):
    suite = suites.load_suite(path)
    entity = ENTITIES[path.stem]

    assert suite["name"] == entity.name
    derived = set(views.DERIVED_COLUMNS.get(entity.name, {}))
    assert set(suites.suite_columns(suite)) <= set(entity.column_names) | derived
    existence = [e for e in suite["expectations"] if e["type"] == "expect_column_to_exist"]
    assert [e["kwargs"]["column"] for e in existence] == entity.column_names
    assert all(e["meta"]["severity"] == "error" for e in existence)
    assert all(e["meta"]["severity"] == "warn" for e in suite["expectations"] if e not in existence)


@pytest.mark.parametrize("path", sorted(EXPECTATIONS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_suite_file_is_in_gx_own_serialisation(path: Path):
    """GX reads each file without dropping or changing an expectation."""
    gx = validate._gx()  # imports GX with analytics off
    suite = suites.load_suite(path)
    as_gx = gx.ExpectationSuite(**suite).to_json_dict()

    assert len(as_gx["expectations"]) == len(suite["expectations"])
    for ours, theirs in zip(suite["expectations"], as_gx["expectations"], strict=True):
        assert {k: theirs.get(k) for k in ours} == ours


def test_a_suite_whose_severity_is_unknown_is_rejected(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "name": "bad",
                "expectations": [
                    {"type": "expect_column_to_exist", "kwargs": {"column": "a"}, "meta": {"severity": "fatal"}},
                ],
            }
        )
    )

    with pytest.raises(suites.SuiteError, match="meta.severity"):
        suites.load_suite(path)


def test_an_invalid_credit_code_check_character_is_reported_with_the_code(connection):
    valid, wrong_check_char = "91310000MA1FL4XX3F", "91310000MA1FL4XX3D"
    # As typed by a Chinese input method (full width) or by hand (lower case, spaced): valid once
    # normalised as matching reads it.
    full_width = "".join(chr(ord(char) + 0xFEE0) for char in valid)
    spaced = "9131 0000 ma1f l4xx 3f"
    rows = [
        (f"CRM{i}", "Acme", code, None, None, None, None, None, None, None, None, None, None)
        for i, code in enumerate([valid, wrong_check_char, None, valid, full_width, spaced])
    ]
    create_table(connection, "crm_customers", rows)

    result = validate.validate_table(connection, "crm_customers", "crm_customers")

    check = outcome(result, "expect_column_values_to_be_null", "credit_code_with_invalid_check_char")
    assert (check.element_count, check.unexpected_count, check.sample_values) == (6, 1, [wrong_check_char])
    assert not check.success and check.severity == "warn"
    # its format is right, so only the check character gives it away; the format check flags
    # the two codes as delivered, not normalised
    assert outcome(result, "expect_column_values_to_match_regex", "credit_code").unexpected_count == 2


def test_orders_of_unknown_customers_or_products_and_after_the_as_of_date_are_counted(connection):
    line = ("SO1", 1, "ERP001", date(2025, 1, 3), "confirmed", "P001", 1, 113.0, 0.13, 80.0, "CNY")
    rows = [
        line,
        ("SO2", 1, "ERP404", *line[3:]),
        ("SO3", 1, "ERP001", date(2025, 1, 3), "confirmed", "P404", *line[6:]),
        ("SO4", 1, "ERP001", date(2025, 7, 1), *line[4:]),
    ]
    create_table(connection, "erp_orders", rows)
    create_table(connection, "erp_customers", CLEAN_ROWS["erp_customers"])
    create_table(connection, "erp_products", CLEAN_ROWS["erp_products"])

    result = validate.validate_table(connection, "erp_orders", "erp_orders", as_of=date(2025, 6, 30))

    unknown_customer = outcome(result, "expect_column_values_to_be_null", "erp_customer_id_not_in_erp_customers")
    unknown_product = outcome(result, "expect_column_values_to_be_null", "product_id_not_in_erp_products")
    future = outcome(result, "expect_column_values_to_be_null", "order_date_after_as_of")
    assert (unknown_customer.unexpected_count, unknown_customer.sample_values) == (1, ["ERP404"])
    assert (unknown_product.unexpected_count, unknown_product.sample_values) == (1, ["P404"])
    assert (future.unexpected_count, future.sample_values) == (1, ["2025-07-01"])


@pytest.mark.parametrize("named", [views.MAX_NAMED_VALUES, 1])
def test_unknown_references_count_alike_whether_the_view_names_them_or_looks_them_up(connection, monkeypatch, named):
    """The view names the values that break a reference (up to MAX_NAMED_VALUES) instead of
    looking every row up; past that it looks them up. Both count and sample alike."""
    monkeypatch.setattr(views, "MAX_NAMED_VALUES", named)
    line = ("SO1", 1, "ERP001", date(2025, 1, 3), "confirmed", "P001", 1, 113.0, 0.13, 80.0, "CNY")
    rows = [
        line,
        *[(f"SO{n}", 1, customer, *line[3:]) for n, customer in enumerate(["ERP'404", "ERP404", "ERP404"], 2)],
    ]
    create_table(connection, "erp_orders", rows)
    create_table(connection, "erp_customers", CLEAN_ROWS["erp_customers"])
    create_table(connection, "erp_products", CLEAN_ROWS["erp_products"])

    result = validate.validate_table(connection, "erp_orders", "erp_orders", as_of=date(2025, 6, 30))

    unknown_customer = outcome(result, "expect_column_values_to_be_null", "erp_customer_id_not_in_erp_customers")
    assert (unknown_customer.unexpected_count, sorted(unknown_customer.sample_values)) == (3, ["ERP'404", "ERP404"])
    assert outcome(result, "expect_column_values_to_be_null", "product_id_not_in_erp_products").unexpected_count == 0
    (view_sql,) = connection.execute("select sql from duckdb_views() where view_name = 'erp_orders'").fetchall()[0]
    assert ("select erp_customer_id from" in view_sql.lower()) == (named == 1)


def test_the_demo_generators_planted_defects_are_counted_exactly_by_the_gx_path(tmp_path):
    """Generated files, landed by the real ingest, validated by the GX SQL path we run."""
    from tiering.demo.generate import generate_demo_extracts
    from tiering.ingest.load import ingest_entity

    as_of = date(2025, 6, 30)
    generated = generate_demo_extracts(tmp_path / "landing", customers=600, seed=5, as_of=as_of)
    warehouse = tmp_path / "warehouse.duckdb"
    for entity in ENTITIES:
        ingest_entity(warehouse, tmp_path / "landing", entity, batch_id="test")
    with duckdb.connect(str(warehouse)) as connection:
        crm = validate.validate_table(connection, "raw.crm_customers", "crm_customers", as_of=as_of)
        orders = validate.validate_table(connection, "raw.erp_orders", "erp_orders", as_of=as_of)
    planted = generated.planted

    def nulls(column: str) -> int:
        return outcome(crm, "expect_column_values_to_not_be_null", column).unexpected_count

    assert nulls("credit_code") == planted["missing_credit_code"] + planted["crm_duplicate_without_credit_code"]
    assert nulls("first_deal_date") == planted["missing_first_deal_date"]
    assert nulls("industry_rank") == planted["missing_industry_rank"]
    assert nulls("demand_match_pct") == planted["missing_demand_match"]
    assert nulls("strategic_level") == planted["missing_strategic_level"]
    assert nulls("phone") == planted["missing_phone"]
    assert all(o.success for o in crm.outcomes if o.expectation != "expect_column_values_to_not_be_null")
    # order lines: all generator defects are quarantined or left for the cleaning rules; none
    # references an unknown customer or product, none is dated after the as-of date
    assert orders.success and orders.warnings == []
    assert crm.outcomes[0].element_count == generated.row_counts["crm_customers"]


def test_the_dbt_macro_spells_the_same_credit_code_rule_as_the_python_home():
    """One rule: the dbt macro's charset and weights are tiering.credit_code's."""
    from tests.conftest import REPO_ROOT
    from tiering import credit_code

    macro = (REPO_ROOT / "dbt_project" / "macros" / "cleaning.sql").read_text(encoding="utf-8")
    body = macro[macro.index("{% macro credit_code_is_valid") :]
    assert f'set charset = "{credit_code.CHARSET}"' in body
    assert f"set weights = {list(credit_code.WEIGHTS)}" in body


def test_the_sql_and_python_credit_code_rules_agree(connection):
    from tiering import credit_code

    codes = ["91310000MA1FL3QX2K", "91310000MA1FL3QX2L", "9131000O", "", None, "91350100M000100Y43"]
    codes.append(codes[0][:17] + credit_code.check_char(codes[0][:17]))
    rows = connection.execute(
        f"select code, {credit_code.is_valid_sql('code')} from (select unnest(?) as code)", [codes]
    ).fetchall()
    for code, valid in rows:
        expected = None if not code else credit_code.is_valid(code)
        assert valid == expected, code


def test_gx_is_imported_with_scipy_stats_left_to_its_first_use():
    # A process of its own: the test session may have imported scipy.stats already.
    code = (
        "import sys; from tiering.quality import validate; validate._gx(); "
        "print(type(sys.modules['scipy.stats']).__name__); "
        "from scipy import stats; print(stats.norm.cdf(0.0)); print(type(sys.modules['scipy.stats']).__name__)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["_LazyModule", "0.5", "module"], completed.stderr[-2000:]
