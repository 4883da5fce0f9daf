"""The canonical extract contract: which entities we accept and the columns of each.

Every source-system profile maps to this contract, the demo generator writes it, and
ingestion checks files against it. Types are DuckDB SQL types; a value that does not
cast to its type sends its row to quarantine with the column named.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    required: bool = False  # a non-empty value must be present for the row to load
    description: str = ""


@dataclass(frozen=True)
class Entity:
    name: str
    system: str  # crm | erp
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


MONEY = "DECIMAL(18,2)"

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
                Column("industry_rank", "INTEGER", description="rank of the firm in its industry; may be empty"),
                Column("demand_match_pct", "DECIMAL(5,2)", description="0-100; may be empty"),
                Column(
                    "strategic_level",
                    "VARCHAR",
                    description="national_key | regional_leader | ordinary | non_core; may be empty",
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
                Column("line_no", "INTEGER", required=True),
                Column("erp_customer_id", "VARCHAR", required=True),
                Column("order_date", "DATE", required=True),
                Column("status", "VARCHAR", required=True, description="confirmed | cancelled | draft"),
                Column("product_id", "VARCHAR"),
                Column("quantity", "DECIMAL(18,4)"),
                Column("amount_incl_tax", MONEY, required=True, description="line amount including VAT, CNY"),
                Column("tax_rate", "DECIMAL(6,4)", required=True, description="VAT rate, e.g. 0.13"),
                Column("cost_excl_tax", MONEY, description="line cost excluding VAT, CNY"),
                Column("currency", "VARCHAR"),
            ),
        ),
        Entity(
            name="erp_receivables",
            system="erp",
            key=("invoice_id",),
            description="ERP invoices and their payment.",
            columns=(
                Column("invoice_id", "VARCHAR", required=True),
                Column("erp_customer_id", "VARCHAR", required=True),
                Column("invoice_date", "DATE", required=True),
                Column("due_date", "DATE", required=True),
                Column("amount", MONEY, required=True),
                Column("paid_date", "DATE", description="empty if unpaid"),
            ),
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


def entity_for_file(file_name: str) -> Entity | None:
    """The entity a landed file belongs to, by the prefix of its name (longest match wins)."""
    lowered = file_name.lower()
    if not lowered.endswith(".csv"):
        return None
    matches = [name for name in ENTITIES if lowered.startswith(name)]
    return ENTITIES[max(matches, key=len)] if matches else None
