"""The checked view of each raw table: its columns plus the derived columns that GX lacks.

GX has no expectation for a credit-code check character, for "not after the run's as-of
date" or for "references a known customer". So each raw table gets a view in the
``quality`` schema, ``quality.<entity>``, with every column of the table plus one derived
column per such rule. A derived column holds the offending value where the rule is broken and
is null otherwise (an empty source value breaks no rule); the suites expect it to be null, so
GX counts the offenders and samples their real values, all inside DuckDB.

The view is recreated at each validation, with the run's as-of date written into it. In a
run it holds only the rows that run landed (its deliveries, by ``_load_seq``): each delivery
is checked once, when it arrives. Raw tables keep every delivery, and extracts are often
delivered whole every night, so over the whole table every key of a re-delivered extract would
count as a duplicate, and the checks would read a growing history each night.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import duckdb

from tiering import credit_code
from tiering.ingest.contract import ENTITIES
from tiering.sql import literal

QUALITY_SCHEMA = "quality"
# The lineage column naming the delivery that landed a row (tiering.ingest.ledger).
DELIVERY_COLUMN = "_load_seq"
# A reference check names up to this many breaking values in the view; past it, the view
# looks each row up in the referenced table (see ``_named_references``).
MAX_NAMED_VALUES = 1000


def _after_as_of(column: str) -> str:
    return f"case when cast({column} as date) > {{as_of}} then cast({column} as varchar) end"


def _unknown(column: str, entity: str, key: str) -> str:
    return f"case when {column} not in (select {key} from {{{entity}}}) then {column} end"


# The reference checks per suite: name -> (the column, the entity its value must be found in,
# that entity's key). Each is a derived column (below) that holds the column's value.
REFERENCES: dict[str, dict[str, tuple[str, str, str]]] = {
    "erp_orders": {
        "erp_customer_id_not_in_erp_customers": ("erp_customer_id", "erp_customers", "erp_customer_id"),
        "product_id_not_in_erp_products": ("product_id", "erp_products", "product_id"),
    },
    "erp_receivables": {
        "erp_customer_id_not_in_erp_customers": ("erp_customer_id", "erp_customers", "erp_customer_id"),
    },
    "crm_complaints": {
        "crm_customer_id_not_in_crm_customers": ("crm_customer_id", "crm_customers", "crm_customer_id"),
    },
}


def _references(entity: str) -> dict[str, str]:
    return {name: _unknown(*reference) for name, reference in REFERENCES[entity].items()}


_HALF_WIDTH = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# The same characters typed full width (U+FF10..): what a Chinese input method produces.
_FULL_WIDTH = "".join(chr(ord(char) + 0xFEE0) for char in _HALF_WIDTH)


def normalized_credit_code_sql(column: str) -> str:
    """The code as matching reads it (dbt macro normalize_credit_code): full-width characters
    as half-width, spaces removed, upper case."""
    half_widthed = (
        f"case when regexp_matches({column}, '[{_FULL_WIDTH}]') "
        f"then translate({column}, '{_FULL_WIDTH}', '{_HALF_WIDTH}') else {column} end"
    )
    return f"nullif(upper(regexp_replace({half_widthed}, '\\s', '', 'g')), '')"


def _invalid_credit_code(column: str) -> str:
    # A code that is valid as delivered is settled by string positions alone; only the others
    # are normalised (regular expressions) and checked again. GX's queries filter on this
    # column, and DuckDB repeats the expression in a filter once per use of the code in the
    # check, so the cheap test first keeps them fast (8 s to 0.6 s over a million customers).
    code = normalized_credit_code_sql(column)
    return (
        f"case when {credit_code.is_valid_sql(column)} then null "
        f"when not ({credit_code.is_valid_sql(code)}) then {column} end"
    )


# Derived columns per suite: name -> SQL over the raw table, the offending value or null.
# {as_of} is the run's as-of date; {<entity>} is that entity's raw table beside the one validated.
DERIVED_COLUMNS: dict[str, dict[str, str]] = {
    "crm_customers": {
        "credit_code_with_invalid_check_char": _invalid_credit_code("credit_code"),
        "first_deal_date_after_as_of": _after_as_of("first_deal_date"),
        "updated_at_after_as_of": _after_as_of("updated_at"),
    },
    "erp_customers": {
        "credit_code_with_invalid_check_char": _invalid_credit_code("credit_code"),
        "created_at_after_as_of": _after_as_of("created_at"),
    },
    "erp_orders": {
        "order_date_after_as_of": _after_as_of("order_date"),
        **_references("erp_orders"),
    },
    "erp_receivables": {
        "invoice_date_after_as_of": _after_as_of("invoice_date"),
        "paid_date_after_as_of": _after_as_of("paid_date"),
        **_references("erp_receivables"),
    },
    "crm_complaints": {
        "opened_at_after_as_of": _after_as_of("opened_at"),
        **_references("crm_complaints"),
    },
}


def referenced_entities(entity: str) -> list[str]:
    """The raw entities a suite's derived columns read, which must be landed first."""
    templates = DERIVED_COLUMNS.get(entity, {}).values()
    return sorted({name for sql in templates for name in ENTITIES if f"{{{name}}}" in sql})


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _relation_exists(connection: duckdb.DuckDBPyConnection, relation: str) -> bool:
    try:
        connection.table(relation)
    except duckdb.Error:
        return False
    return True


def derived_columns(
    connection: duckdb.DuckDBPyConnection, table: str, entity: str, present: set[str], as_of: date | None
) -> dict[str, str]:
    """The derived columns of a suite whose inputs exist, as SQL ready to select.

    A derived column whose input column or referenced table is missing is left out: its
    expectation is then reported as not evaluated (and the missing column itself fails its
    blocking ``expect_column_to_exist``).
    """
    prefix = table.rsplit(".", 1)[0] + "." if "." in table else ""
    as_of_sql = f"DATE '{as_of.isoformat()}'" if as_of else "current_date"
    derived = {}
    for name, template in DERIVED_COLUMNS.get(entity, {}).items():
        referenced = [other for other in ENTITIES if f"{{{other}}}" in template]
        if not all(_relation_exists(connection, prefix + other) for other in referenced):
            continue
        needed = {c for c in ENTITIES[entity].column_names if re.search(rf"\b{c}\b", template)}
        if needed <= present:
            tables = {other: ".".join(quote(part) for part in (prefix + other).split(".")) for other in referenced}
            derived[name] = template.replace("{as_of}", as_of_sql).format(**tables)
    return derived


def _named_references(
    connection: duckdb.DuckDBPyConnection, entity: str, derived: dict[str, str], source: str, where: str
) -> dict[str, str]:
    """The reference checks of ``derived`` with the values that break them named in the SQL.

    DuckDB keeps the join of a subquery in a view even for a query that does not read its
    column: every query GX sends over the view (a row count, a key's uniqueness) looked each
    row up in the referenced table, at a million customers 0.9 s a query over the order lines.
    So the check's own SQL is run once over the rows the view holds, and the view holds the
    column where its value is one of those found (none: never), which DuckDB leaves out of a
    query that does not read it. The result is the same column. A reference check that more
    than MAX_NAMED_VALUES values break keeps the lookup.
    """
    named = dict(derived)
    for name, (column, _, _) in REFERENCES.get(entity, {}).items():
        if name not in derived:  # its input or the referenced table is missing
            continue
        sql = derived[name]
        values = [
            value
            for (value,) in connection.execute(
                f"select distinct value from (select ({sql}) as value from {source}{where}) "
                f"where value is not null limit {MAX_NAMED_VALUES + 1}"
            ).fetchall()
        ]
        if len(values) > MAX_NAMED_VALUES:
            continue
        listed = ", ".join(literal(str(value)) for value in values)
        named[name] = (
            f"case when {column} in ({listed}) then {column} end" if values else f"case when false then {column} end"
        )
    return named


def create_checked_view(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    entity: str,
    as_of: date | None = None,
    deliveries: Sequence[int] | None = None,
) -> tuple[str, list[str]]:
    """Create (or replace) ``quality.<entity>`` over ``table``; returns its name and columns.

    ``table`` may be qualified (``raw.erp_orders``); referenced tables are looked up in the
    same schema, whole: a reference is known if any delivery has it. ``deliveries``: only the
    rows of these deliveries (their load sequences: a run's) are checked; None checks every row.
    """
    if "." not in table:  # the view lives in another schema: name the table's own in full
        catalog, schema = connection.execute("select current_database(), current_schema()").fetchall()[0]
        table = f"{catalog}.{schema}.{table}"
    present = set(connection.table(table).columns)
    derived = derived_columns(connection, table, entity, present, as_of)
    source = ".".join(quote(part) for part in table.split("."))
    where = ""
    if deliveries is not None:
        if DELIVERY_COLUMN not in present:
            raise ValueError(f"{table} has no {DELIVERY_COLUMN} column: its rows cannot be told apart by delivery")
        if not deliveries:  # the run landed nothing: nothing to check
            where = " where false"
        else:
            chosen = f"({', '.join(str(int(seq)) for seq in deliveries)})"
            # On a first night every row is the run's: the view then reads the table unfiltered.
            # A filter that keeps every row cost a third more memory at a million customers.
            (others,) = connection.execute(
                f"select count(*) from {source} where {DELIVERY_COLUMN} is null or {DELIVERY_COLUMN} not in {chosen}"
            ).fetchall()[0]
            if others:
                where = f" where {DELIVERY_COLUMN} in {chosen}"
    derived = _named_references(connection, entity, derived, source, where)
    selects = ["*", *(f"({sql}) as {quote(name)}" for name, sql in derived.items())]
    connection.execute(f"create schema if not exists {QUALITY_SCHEMA}")
    view = f"{QUALITY_SCHEMA}.{quote(entity)}"
    connection.execute(f"create or replace view {view} as select {', '.join(selects)} from {source}{where}")
    return f"{QUALITY_SCHEMA}.{entity}", [*connection.table(table).columns, *derived]
