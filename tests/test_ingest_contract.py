"""The contract at the door: a corpus of defective deliveries, one case each.

Each case is a delivery of one entity, landed by the real ingest into a real DuckDB warehouse.
A case asserts its exact outcome: the quarantine rows with file, row and reason (column named),
what loaded, and that rows reconcile (read = loaded + quarantined); or, for a file that cannot
be read as its entity, the error naming file, row and column, with nothing loaded.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tiering.ingest.checks import plain_row
from tiering.ingest.contract import ENTITIES
from tiering.ingest.load import ContractError, ingest_entity

HEADERS = {name: ",".join(entity.column_names) for name, entity in ENTITIES.items()}
ORDER = "SO1,1,E1,2026-03-01,confirmed,P1,2,1130.00,0.13,800.00,CNY"
INVOICE = "INV1,E1,2026-03-01,2026-03-31,1130.00,2026-03-20"
CRM = "C1,华东精密机械有限公司,91310000MA1FL4XX3F,制造业,上海,13812341234,a@b.cn,李伟,2020-01-01,12,85.50,ordinary,2026-01-02 09:00:00"
PRODUCT = "P1,螺丝,五金,true"


@dataclass(frozen=True)
class Case:
    entity: str
    rows: list[str]  # data rows after the header
    loaded: int  # rows that must load
    reasons: list[tuple[int, str]]  # (row, exact reason) of every quarantined row

    def text(self) -> str:
        return HEADERS[self.entity] + "\n" + "".join(row + "\n" for row in self.rows)


def order(**values: str) -> str:
    fields = dict(zip(ENTITIES["erp_orders"].column_names, ORDER.split(","), strict=True))
    fields.update(values)
    return ",".join(fields.values())


def invoice(**values: str) -> str:
    fields = dict(zip(ENTITIES["erp_receivables"].column_names, INVOICE.split(","), strict=True))
    fields.update(values)
    return ",".join(fields.values())


def crm(**values: str) -> str:
    fields = dict(zip(ENTITIES["crm_customers"].column_names, CRM.split(","), strict=True))
    fields.update(values)
    return ",".join(fields.values())


CASES: dict[str, Case] = {
    "an order date of infinity": Case(
        "erp_orders",
        [order(order_date="infinity")],
        0,
        [(1, "column order_date: 'infinity' is outside 1900-01-01 to 2099-12-31")],
    ),
    "an order date of minus infinity": Case(
        "erp_orders",
        [order(order_date="-infinity")],
        0,
        [(1, "column order_date: '-infinity' is outside 1900-01-01 to 2099-12-31")],
    ),
    "an order date before 1900": Case(
        "erp_orders",
        [order(order_date="1899-12-31")],
        0,
        [(1, "column order_date: '1899-12-31' is outside 1900-01-01 to 2099-12-31")],
    ),
    "an impossible order date": Case(
        "erp_orders", [order(order_date="2026-02-30")], 0, [(1, "column order_date: '2026-02-30' is not a valid DATE")]
    ),
    "a paid date of infinity": Case(
        "erp_receivables",
        [invoice(paid_date="infinity")],
        0,
        [(1, "column paid_date: 'infinity' is outside 1900-01-01 to 2099-12-31")],
    ),
    "an amount in exponent notation": Case(
        "erp_orders",
        [order(amount_incl_tax="1e15")],
        0,
        [(1, "column amount_incl_tax: '1e15' is not a valid DECIMAL(18,2)")],
    ),
    "an amount beyond the plausible bound": Case(
        "erp_orders",
        [order(amount_incl_tax="1000000000000.01")],
        0,
        [(1, "column amount_incl_tax: '1000000000000.01' is above the maximum 1000000000000")],
    ),
    "an amount with a digit separator": Case(
        "erp_orders",
        [order(amount_incl_tax="1_000")],
        0,
        [(1, "column amount_incl_tax: '1_000' is not a valid DECIMAL(18,2)")],
    ),
    "an amount with a thousands comma": Case(
        "erp_orders",
        [order(amount_incl_tax='"1,000.00"')],
        0,
        [(1, "column amount_incl_tax: '1,000.00' is not a valid DECIMAL(18,2)")],
    ),
    "an amount with three decimals": Case(
        "erp_orders",
        [order(amount_incl_tax="1200.005")],
        0,
        [(1, "column amount_incl_tax: '1200.005' has more than 2 decimal places")],
    ),
    "an amount with trailing zeros loads": Case("erp_orders", [order(amount_incl_tax="1200.000")], 1, []),
    "an amount with trailing zeros and a third decimal": Case(
        "erp_orders",
        [order(amount_incl_tax="1200.0050")],
        0,
        [(1, "column amount_incl_tax: '1200.0050' has more than 2 decimal places")],
    ),
    "an amount ending in its point loads": Case("erp_orders", [order(amount_incl_tax="1200.")], 1, []),
    "a padded amount with three decimals": Case(
        "erp_orders",
        [order(amount_incl_tax=" +1200.125 ")],
        0,
        [(1, "column amount_incl_tax: '+1200.125' has more than 2 decimal places")],
    ),
    "numbers padded with spaces load": Case("erp_orders", [order(amount_incl_tax=" 1200.50 ", line_no=" 2")], 1, []),
    "a tab before an amount": Case(
        "erp_orders",
        [order(amount_incl_tax="\t1200.50")],
        0,
        [(1, "column amount_incl_tax: '\t1200.50' is not a valid DECIMAL(18,2)")],
    ),
    "an exponent in a padded amount": Case(
        "erp_orders",
        [order(amount_incl_tax=" 1e3 ")],
        0,
        [(1, "column amount_incl_tax: '1e3' is not a valid DECIMAL(18,2)")],
    ),
    "a line number written as a decimal": Case(
        "erp_orders", [order(line_no="1.6")], 0, [(1, "column line_no: '1.6' is not a whole number")]
    ),
    "a line number of zero": Case(
        "erp_orders", [order(line_no="0")], 0, [(1, "column line_no: '0' is below the minimum 1")]
    ),
    "a line number in hexadecimal": Case(
        "erp_orders", [order(line_no="0x10")], 0, [(1, "column line_no: '0x10' is not a valid INTEGER")]
    ),
    "a tax rate written as a percentage": Case(
        "erp_orders", [order(tax_rate="13")], 0, [(1, "column tax_rate: '13' is not below 1")]
    ),
    "a negative tax rate": Case(
        "erp_orders", [order(tax_rate="-0.13")], 0, [(1, "column tax_rate: '-0.13' is below the minimum 0")]
    ),
    "an unknown status": Case(
        "erp_orders",
        [order(status="shipped")],
        0,
        [(1, "column status: 'shipped' is not one of confirmed, cancelled, draft")],
    ),
    "a status in capitals loads": Case("erp_orders", [order(status="Confirmed")], 1, []),
    "a currency without a rate": Case(
        "erp_orders",
        [order(currency="JPY")],
        0,
        [(1, "column currency: no CNY rate for 'JPY' on 2026-03-01 in seeds/currency_rates.csv")],
    ),
    "a currency with a rate, but not on the order date": Case(
        "erp_orders",
        [order(currency="USD", order_date="2023-06-01")],
        0,
        [(1, "column currency: no CNY rate for 'USD' on 2023-06-01 in seeds/currency_rates.csv")],
    ),
    "a USD amount with a rate loads": Case("erp_orders", [order(currency="USD")], 1, []),
    "an empty currency loads as CNY": Case("erp_orders", [order(currency="")], 1, []),
    "one key with two different amounts": Case(
        "erp_orders",
        [order(amount_incl_tax="100.00"), order(order_id="SO2"), order(amount_incl_tax="900000.00")],
        1,
        [
            (1, "key (order_id=SO1, line_no=1) appears in rows 1, 3 with different values; none of them is loaded"),
            (3, "key (order_id=SO1, line_no=1) appears in rows 1, 3 with different values; none of them is loaded"),
        ],
    ),
    "one key twice with identical values": Case(
        "erp_orders",
        [order(), order()],
        1,
        [(2, "duplicate of row 1 (key order_id=SO1, line_no=1, identical values)")],
    ),
    "a required value missing": Case(
        "erp_orders", [order(order_id="")], 0, [(1, "column order_id: required value is missing")]
    ),
    "an invoice due before it was issued": Case(
        "erp_receivables",
        [invoice(due_date="2026-02-01")],
        0,
        [(1, "column due_date: 2026-02-01 is before invoice_date 2026-03-01")],
    ),
    "an invoice paid before it was issued": Case(
        "erp_receivables",
        [invoice(paid_date="2026-02-15")],
        0,
        [(1, "column paid_date: 2026-02-15 is before invoice_date 2026-03-01")],
    ),
    "a negative invoice": Case(
        "erp_receivables", [invoice(amount="-5.00")], 0, [(1, "column amount: '-5.00' is below the minimum 0")]
    ),
    "a demand match of 150 percent": Case(
        "crm_customers",
        [crm(demand_match_pct="150")],
        0,
        [(1, "column demand_match_pct: '150' is above the maximum 100")],
    ),
    "an industry rank written as a decimal": Case(
        "crm_customers", [crm(industry_rank="2.7")], 0, [(1, "column industry_rank: '2.7' is not a whole number")]
    ),
    "an unknown strategic level": Case(
        "crm_customers",
        [crm(strategic_level="VIP")],
        0,
        [(1, "column strategic_level: 'VIP' is not one of national_key, regional_leader, ordinary, non_core")],
    ),
    "a NUL byte in a name": Case(
        "crm_customers",
        [crm(customer_name="华东\x00精密")],
        0,
        [(1, "column customer_name: contains a control character")],
    ),
    "a tab in an id": Case(
        "crm_customers", [crm(crm_customer_id="C\t1")], 0, [(1, "column crm_customer_id: contains a control character")]
    ),
    "an impossible timestamp": Case(
        "crm_customers",
        [crm(updated_at="2026-02-30 09:00:00")],
        0,
        [(1, "column updated_at: '2026-02-30 09:00:00' is not a valid TIMESTAMP")],
    ),
    "a boolean that is not one": Case(
        "erp_products", ["P1,螺丝,五金,maybe"], 0, [(1, "column is_active: 'maybe' is not a valid BOOLEAN")]
    ),
}


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_defective_delivery_has_exactly_its_outcome(tmp_path, name):
    case = CASES[name]
    landing = tmp_path / "landing"
    landing.mkdir()
    file_name = f"{case.entity}_2026-03-31.csv"
    (landing / file_name).write_bytes(case.text().encode("utf-8"))
    warehouse = tmp_path / "warehouse.duckdb"

    result = ingest_entity(warehouse, landing, case.entity, batch_id="corpus")

    quarantined = query(
        warehouse, "select source_file, source_row, reason, entity from raw._quarantine order by source_row"
    )
    assert [(row, reason) for _, row, reason, _ in quarantined] == case.reasons
    assert {(source_file, entity) for source_file, _, _, entity in quarantined} <= {(file_name, case.entity)}
    assert query(warehouse, f"select count(*) from raw.{case.entity}") == [(case.loaded,)]
    assert result.reconciles
    assert (result.total("rows_read"), result.total("rows_loaded"), result.total("rows_quarantined")) == (
        len(case.rows),
        case.loaded,
        len(case.reasons),
    )
    assert query(warehouse, "select rows_read, rows_loaded, rows_quarantined, status from raw._ingested_files") == [
        (len(case.rows), case.loaded, len(case.reasons), "pending")
    ]


def test_a_quarantined_row_keeps_its_raw_record(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "erp_orders_2026-03-31.csv").write_text(
        HEADERS["erp_orders"] + "\n" + order(amount_incl_tax="1200.005") + "\n", encoding="utf-8"
    )
    warehouse = tmp_path / "warehouse.duckdb"
    ingest_entity(warehouse, landing, "erp_orders", batch_id="corpus")
    assert query(warehouse, "select raw_record from raw._quarantine") == [(order(amount_incl_tax="1200.005"),)]


def _refused(tmp_path: Path, entity: str, content: bytes, file_name: str | None = None) -> str:
    landing = tmp_path / "landing"
    landing.mkdir(exist_ok=True)
    (landing / (file_name or f"{entity}_2026-03-31.csv")).write_bytes(content)
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(ContractError) as refused:
        ingest_entity(warehouse, landing, entity, batch_id="corpus")
    assert query(warehouse, f"select count(*) from raw.{entity}") == [(0,)]
    assert query(warehouse, "select count(*) from raw._quarantine") == [(0,)]
    assert query(warehouse, "select count(*) from raw._ingested_files") == [(0,)]
    return str(refused.value)


def test_a_gb18030_file_is_refused_naming_the_first_row_in_another_encoding(tmp_path):
    text = HEADERS["erp_products"] + "\nP1,bolt,parts,true\nP2,螺丝,五金,true\n"
    message = _refused(tmp_path, "erp_products", text.encode("gb18030"))
    assert message.startswith("erp_products_2026-03-31.csv, row 2: not UTF-8 text; the file reads as GB18030.")


def test_a_file_without_a_required_column_is_refused_naming_the_column(tmp_path):
    content = "product_id,product_name,is_active\nP1,螺丝,true\n".encode()
    message = _refused(tmp_path, "erp_products", content)
    assert message == (
        "erp_products_2026-03-31.csv, row 1 (header): missing column(s) product_category required for "
        "erp_products; found product_id, product_name, is_active"
    )


def test_a_header_naming_a_column_twice_is_refused(tmp_path):
    content = b"product_id,product_name,product_category,is_active,product_id\nP1,a,b,true,P1\n"
    message = _refused(tmp_path, "erp_products", content)
    assert message == "erp_products_2026-03-31.csv, row 1 (header): column(s) product_id appear more than once"


def test_an_empty_file_is_refused(tmp_path):
    message = _refused(tmp_path, "erp_products", b"")
    assert message == "erp_products_2026-03-31.csv, row 1 (header): the file is empty; expected a header line"


def test_a_row_with_too_few_fields_is_quarantined_by_the_reader(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "erp_products_2026-03-31.csv").write_text(
        HEADERS["erp_products"] + f"\n{PRODUCT}\nP2,short\nP3,螺母,五金,false\n", encoding="utf-8"
    )
    warehouse = tmp_path / "warehouse.duckdb"
    result = ingest_entity(warehouse, landing, "erp_products", batch_id="corpus")
    reasons = query(warehouse, "select source_row, reason from raw._quarantine")
    assert [row for row, _ in reasons] == [2] and reasons[0][1].startswith("MISSING COLUMNS")
    assert query(warehouse, "select product_id, _source_row from raw.erp_products order by 1") == [("P1", 1), ("P3", 3)]
    assert result.reconciles


def test_a_compressed_delivery_is_read(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    text = HEADERS["erp_products"] + f"\n{PRODUCT}\nP2,螺母,五金,false\n"
    (landing / "erp_products_2026-03-31.csv.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    warehouse = tmp_path / "warehouse.duckdb"
    result = ingest_entity(warehouse, landing, "erp_products", batch_id="corpus")
    assert [(f.source_file, f.status, f.rows_loaded) for f in result.files] == [
        ("erp_products_2026-03-31.csv.gz", "loaded", 2)
    ]


def test_windows_line_endings_and_a_byte_order_mark_load(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    text = HEADERS["erp_products"] + f"\r\n{PRODUCT}\r\nP2,螺母,五金,false\r\n"
    (landing / "erp_products_2026-03-31.csv").write_bytes(text.encode("utf-8-sig"))
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest_entity(warehouse, landing, "erp_products", batch_id="corpus").total("rows_loaded") == 2
    assert query(warehouse, "select product_name from raw.erp_products order by 1") == [("螺丝",), ("螺母",)]


def test_padding_of_any_unicode_space_is_trimmed_and_a_unit_separator_is_refused(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    rows = [
        order(order_id="\u3000SO1\u00a0", product_id="P1\u2009"),
        order(order_id="SO2", product_id="P 1", amount_incl_tax="\u00a01200.50\u3000"),
        order(order_id="SO3", product_id="P\x1f1"),
    ]
    (landing / "erp_orders_2026-03-31.csv").write_text(HEADERS["erp_orders"] + "\n" + "\n".join(rows) + "\n")
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest_entity(warehouse, landing, "erp_orders", batch_id="corpus").reconciles
    assert query(warehouse, "select order_id, product_id, amount_incl_tax::varchar from raw.erp_orders order by 1") == [
        ("SO1", "P1", "1130.00"),
        ("SO2", "P 1", "1200.50"),
    ]
    assert query(warehouse, "select source_row, reason from raw._quarantine") == [
        (3, "column product_id: contains a control character")
    ]


def test_a_row_is_plain_only_when_trimming_and_the_character_checks_would_find_nothing():
    """The fast path (``plain_row``) against its definition, for every Unicode code point at
    either edge of a text field and of a number, alone and between other characters."""
    entity = ENTITIES["erp_orders"]
    defaults = dict(zip(entity.column_names, ORDER.split(","), strict=True))

    def row(**values: str) -> str:
        return ", ".join(f"{values.get(name, repr(value))} as {name}" for name, value in defaults.items())

    shapes = "c, c || 'x', 'x' || c, 'x' || c || 'x'"
    numbers = "c, c || '1', '1' || c, '1' || c || '1'"
    with duckdb.connect() as connection:
        connection.execute(
            f"""
            create table points as
            select chr(i::integer) as c from range(0, 1114112) as t(i) where i not between 55296 and 57343;
            create table src as
            select 'text' as kind, {row(status="v")} from points, unnest([{shapes}]) as t(v)
            union all
            select 'number' as kind, {row(amount_incl_tax="v")} from points, unnest([{numbers}]) as t(v);
            """
        )
        plain = connection.execute(
            f"""
            select
                count(*) filter (where _plain),
                count(*) filter (where kind = 'text' and _plain <> (trim(status) = status
                    and not regexp_matches(status, '[\\x00-\\x1F\\x7F]'))),
                count(*) filter (where _plain and (trim(amount_incl_tax) <> amount_incl_tax
                    or regexp_matches(amount_incl_tax, '[^0-9.+-]')))
            from (select *, {plain_row(entity)} from src as src) as src
            """
        ).fetchall()
    # Text: plain exactly when trim leaves it and it holds no control character. Numbers: plain
    # only then and only with nothing but digits, sign and point.
    assert plain[0][1:] == (0, 0)
    assert plain[0][0] > 4_000_000


def test_every_case_of_the_corpus_is_distinct():
    assert len(CASES) >= 30
    assert len({case.text() for case in CASES.values()}) == len(CASES)
