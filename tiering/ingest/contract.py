"""The canonical extract contract: which entities we accept, the columns of each, and what a
value must look like to be loaded.

Every source-system profile maps to this contract, the demo generator writes it, and
ingestion checks files against it. Types are DuckDB SQL types. A value that is not exactly what
its column allows sends its row to quarantine with the file, row, column and reason: a value
that does not parse, a number with more decimals than the column holds, an integer written
as a decimal, digit separators or exponents, a date outside 1900-2099 (``infinity`` included),
a value outside the column's bounds, a code outside its set, a control character in text.
``docs/extract-contract.md`` says the same for people; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

# No order line, invoice or cost in CNY is as large as 1万亿 (10^12): such an amount is an
# entry error (extra zeros, a pasted id), and it would overflow the arithmetic downstream.
MAX_AMOUNT = "1000000000000"
EARLIEST_DATE = "1900-01-01"
LATEST_DATE = "2099-12-31"
# File name endings we read; anything else in the landing folder is reported, never loaded.
SUPPORTED_SUFFIXES = (".csv", ".csv.gz")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    required: bool = False  # a non-empty value must be present for the row to load
    description: str = ""
    allowed: tuple[str, ...] = ()  # a coded value: one of these, in any letter case
    at_least: str | None = None  # inclusive lower bound, a SQL literal
    at_most: str | None = None  # inclusive upper bound
    below: str | None = None  # exclusive upper bound

    @property
    def rule(self) -> str:
        """The value rule in words, for the contract page."""
        parts = []
        if self.allowed:
            parts.append("one of " + ", ".join(self.allowed) + " (any case)")
        if self.at_least is not None and self.at_most is not None:
            parts.append(f"{_number(self.at_least)} to {_number(self.at_most)}")
        elif self.at_least is not None and self.below is not None:
            parts.append(f"{_number(self.at_least)} to below {_number(self.below)}")
        elif self.at_least is not None:
            parts.append(f"at least {_number(self.at_least)}")
        if self.sql_type in ("DATE", "TIMESTAMP"):
            parts.append(f"{EARLIEST_DATE[:4]}-{LATEST_DATE[:4]}")
        return "; ".join(parts)


@dataclass(frozen=True)
class RowRule:
    """A rule between the values of a row. ``broken`` and ``reason`` are SQL over the typed
    columns; the row is quarantined with the reason when ``broken`` is true."""

    name: str
    broken: str
    reason: str
    description: str


@dataclass(frozen=True)
class Entity:
    name: str
    system: str  # crm | erp
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    row_rules: tuple[RowRule, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


def _number(literal: str) -> str:
    return f"{int(literal):,}" if literal.lstrip("-").isdigit() and len(literal) > 4 else literal


MONEY = "DECIMAL(18,2)"


def money(name: str, *, required: bool = False, description: str = "", signed: bool = True) -> Column:
    return Column(
        name,
        MONEY,
        required=required,
        description=description,
        at_least=f"-{MAX_AMOUNT}" if signed else "0",
        at_most=MAX_AMOUNT,
    )


def _before(later: str, earlier: str) -> RowRule:
    return RowRule(
        name=f"{later}_before_{earlier}",
        broken=f"{later} < {earlier}",
        reason=(
            f"'column {later}: ' || cast({later} as varchar) || ' is before {earlier} ' || cast({earlier} as varchar)"
        ),
        description=f"{later} is not before {earlier}",
    )


ENTITIES: dict[str, Entity] = {
    entity.name: entity
    for entity in [
        Entity(
            name="crm_customers",
            system="crm",
            key=("crm_customer_id",),
            description="CRM customer master: one row per CRM account.",
            columns=(
                Column("crm_customer_id", "VARCHAR", required=True),
                Column("customer_name", "VARCHAR", required=True),
                Column("credit_code", "VARCHAR", description="统一社会信用代码, 18 characters; may be empty"),
                Column("industry", "VARCHAR"),
                Column("region", "VARCHAR"),
                Column("phone", "VARCHAR"),
                Column("email", "VARCHAR"),
                Column("owner", "VARCHAR", description="account manager who owns the customer"),
                Column("first_deal_date", "DATE"),
                Column(
                    "industry_rank",
                    "INTEGER",
                    description="rank of the firm in its industry, 1 = first; may be empty",
                    at_least="1",
                ),
                Column("demand_match_pct", "DECIMAL(5,2)", description="may be empty", at_least="0", at_most="100"),
                Column(
                    "strategic_level",
                    "VARCHAR",
                    description="may be empty",
                    allowed=("national_key", "regional_leader", "ordinary", "non_core"),
                ),
                Column("updated_at", "TIMESTAMP"),
            ),
        ),
        Entity(
            name="erp_customers",
            system="erp",
            key=("erp_customer_id",),
            description="ERP customer master: one row per billing customer.",
            columns=(
                Column("erp_customer_id", "VARCHAR", required=True),
                Column("customer_name", "VARCHAR", required=True),
                Column("credit_code", "VARCHAR"),
                Column("created_at", "TIMESTAMP"),
            ),
        ),
        Entity(
            name="erp_products",
            system="erp",
            key=("product_id",),
            description="ERP product master.",
            columns=(
                Column("product_id", "VARCHAR", required=True),
                Column("product_name", "VARCHAR"),
                Column("product_category", "VARCHAR", required=True),
                Column("is_active", "BOOLEAN", required=True),
            ),
        ),
        Entity(
            name="erp_orders",
            system="erp",
            key=("order_id", "line_no"),
            description="ERP sales order lines, all statuses.",
            columns=(
                Column("order_id", "VARCHAR", required=True),
                Column("line_no", "INTEGER", required=True, at_least="1"),
                Column("erp_customer_id", "VARCHAR", required=True),
                Column("order_date", "DATE", required=True),
                Column("status", "VARCHAR", required=True, allowed=("confirmed", "cancelled", "draft")),
                Column("product_id", "VARCHAR"),
                Column("quantity", "DECIMAL(18,4)", at_least=f"-{MAX_AMOUNT}", at_most=MAX_AMOUNT),
                money("amount_incl_tax", required=True, description="line amount including VAT, in `currency`"),
                Column(
                    "tax_rate",
                    "DECIMAL(6,4)",
                    required=True,
                    description="VAT rate as a fraction, e.g. 0.13",
                    at_least="0",
                    below="1",
                ),
                money("cost_excl_tax", description="line cost excluding VAT, in `currency`"),
                Column(
                    "currency",
                    "VARCHAR",
                    description="ISO 4217 code; empty means CNY; another currency needs a rate in "
                    "seeds/currency_rates.csv for the order date",
                ),
            ),
        ),
        Entity(
            name="erp_receivables",
            system="erp",
            key=("invoice_id",),
            description="ERP invoices and their payment, in CNY.",
            columns=(
                Column("invoice_id", "VARCHAR", required=True),
                Column("erp_customer_id", "VARCHAR", required=True),
                Column("invoice_date", "DATE", required=True),
                Column("due_date", "DATE", required=True),
                money("amount", required=True, signed=False),
                Column("paid_date", "DATE", description="empty if unpaid"),
            ),
            row_rules=(_before("due_date", "invoice_date"), _before("paid_date", "invoice_date")),
        ),
        Entity(
            name="crm_complaints",
            system="crm",
            key=("ticket_id",),
            description="CRM complaint tickets.",
            columns=(
                Column("ticket_id", "VARCHAR", required=True),
                Column("crm_customer_id", "VARCHAR", required=True),
                Column("opened_at", "TIMESTAMP", required=True),
                Column("severity", "VARCHAR"),
                Column("status", "VARCHAR"),
            ),
        ),
    ]
}


def supported_suffix(file_name: str) -> str | None:
    """The supported ending of a file name (``.csv``, ``.csv.gz``), or None."""
    lowered = file_name.lower()
    return next((suffix for suffix in SUPPORTED_SUFFIXES if lowered.endswith(suffix)), None)


def entity_for_name(file_name: str) -> Entity | None:
    """The entity a file name claims, by the prefix of its name (longest match wins), whatever its ending."""
    lowered = PurePath(file_name).name.lower()
    matches = [name for name in ENTITIES if lowered.startswith(name)]
    return ENTITIES[max(matches, key=len)] if matches else None


def entity_for_file(file_name: str) -> Entity | None:
    """The entity of a file we can load: a known entity prefix and a supported ending."""
    return entity_for_name(file_name) if supported_suffix(file_name) else None
