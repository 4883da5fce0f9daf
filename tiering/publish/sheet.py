"""One customer's evaluation sheet (客户信息评估表), from the published serving file.

For every indicator: the raw value, its score, its weight and the weighted score, grouped by
dimension with the dimension's score and weight; then the composite, the tier and a note that
says what a reader must know (pending or imputed indicators, outliers). Enough to explain the
tier. Printed for the terminal, or written as one self-contained HTML file.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from tiering.publish.serving import _display_width, _pad

# Why a raw value is empty (customer_indicator_scores.missing_reason), as the sheet says it.
MISSING_REASONS = {
    "no_erp_record": "no ERP record: no order or invoice figure exists",
    "no_crm_record": "no CRM record",
    "no_revenue_in_period": "no revenue in the period",
    "no_order_in_period": "no order in the period",
    "no_invoice_due_in_period": "no invoice due in the period",
    "no_active_category": "no active product category",
    "empty_in_crm": "empty in the CRM",
    "industry_not_in_growth_rates": "industry not in the growth-rate table",
    "no_relationship_start": "no first deal date",
    "relationship_starts_after_as_of_date": "first deal after the as-of date",
    "unknown_category": "a category the rubric does not list",
    "never_ordered": "never ordered: scored as the worst value",
}


def describe_missing(reason: str | None) -> str:
    return MISSING_REASONS.get(reason, reason) if reason else ""


class SheetError(LookupError):
    """Nothing published for the customer or date asked for."""


@dataclass(frozen=True)
class Sheet:
    customer: dict
    indicators: list[dict]

    @property
    def note(self) -> str:
        notes = []

        def listed(rows: list[dict]) -> str:
            return ", ".join(
                f"{row['indicator']} ({describe_missing(row['missing_reason'])})"
                if row["missing_reason"]
                else row["indicator"]
                for row in rows
            )

        pending = [row for row in self.indicators if row["is_pending"]]
        imputed = [row for row in self.indicators if row["is_imputed"]]
        worst = [row for row in self.indicators if row["missing_reason"] == "never_ordered"]
        outliers = [row["indicator"] for row in self.indicators if row["is_outlier_affected"]]
        if pending:
            notes.append(f"待评估 (pending evaluation): missing {listed(pending)}; complete them and re-run")
        if imputed:
            rules = sorted({row["imputation_rule"] for row in imputed if row["imputation_rule"]})
            notes.append(f"imputed ({', '.join(rules)}): {listed(imputed)}")
        if worst:
            notes.append(f"never ordered, scored as the worst value: {', '.join(row['indicator'] for row in worst)}")
        if outliers:
            notes.append(f"rests on figures flagged as outliers: {', '.join(outliers)}")
        if not notes:
            notes.append("every indicator measured")
        notes.append(f"rubric {self.customer['rubric']} version {self.customer['rubric_version']}")
        return "; ".join(notes)


def read_sheet(serving_path: Path, customer_id: str, as_of: str | None = None) -> Sheet:
    if not serving_path.exists():
        raise SheetError(f"Nothing published yet at {serving_path}; run `make run` first.")
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        date_filter = (
            "cast(? as date)" if as_of else "(select max(as_of_date) from customer_tiers where customer_id = ?)"
        )
        cursor = connection.execute(
            f"""
            select customer_id, customer_name, as_of_date, composite_score, tier, tier_name_zh, strategy,
                   rubric, rubric_version, abc_class, rfm_segment, value_potential_class, pending_indicators
            from customer_tiers
            where customer_id = ? and as_of_date = {date_filter}
            """,
            [customer_id, as_of or customer_id],
        )
        names = [column[0] for column in cursor.description]
        found = cursor.fetchall()
        if not found:
            raise SheetError(
                f"No published row for customer {customer_id}"
                + (f" as of {as_of}" if as_of else "")
                + f" in {serving_path}"
            )
        customer = dict(zip(names, found[0], strict=True))
        cursor = connection.execute(
            """
            select dimension, indicator, indicator_name_zh, unit, raw_value, raw_category, score, weight,
                   weighted_score, dimension_weight, composite_contribution, is_imputed, imputation_rule,
                   is_pending, is_outlier_affected, missing_reason
            from customer_indicator_scores
            where customer_id = ? and as_of_date = ?
            order by dimension_weight desc, dimension, weight desc, indicator
            """,
            [customer_id, customer["as_of_date"]],
        )
        names = [column[0] for column in cursor.description]
        indicators = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return Sheet(customer, indicators)


def _number(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{Decimal(value):,.{digits}f}"


def _raw(row: dict) -> str:
    if row["raw_category"] is not None:
        return row["raw_category"]
    if row["raw_value"] is None:
        return "(never ordered)" if row["missing_reason"] == "never_ordered" else "(missing)"
    return f"{_number(row['raw_value'])} {row['unit'] or ''}".strip()


def _dimensions(sheet: Sheet) -> list[tuple[str, Decimal | None, Decimal | None, list[dict]]]:
    """(dimension, weight, score, indicator rows) in sheet order; score empty when pending."""
    grouped: dict[str, list[dict]] = {}
    for row in sheet.indicators:
        grouped.setdefault(row["dimension"], []).append(row)
    result = []
    for dimension, rows in grouped.items():
        pending = any(row["is_pending"] for row in rows)
        score = None if pending else sum((row["weighted_score"] for row in rows), Decimal(0))
        result.append((dimension, rows[0]["dimension_weight"], score, rows))
    return result


def format_sheet(sheet: Sheet) -> str:
    c = sheet.customer
    columns = (("indicator", 40), ("raw value", 20), ("score", 8), ("weight %", 9), ("weighted", 9))
    header = " ".join(_pad(name, width) if i < 2 else f"{name:>{width}}" for i, (name, width) in enumerate(columns))
    lines = [
        f"客户信息评估表  {c['customer_id']} {c['customer_name']}  as of {c['as_of_date']}",
        "",
        header,
        "-" * _display_width(header),
    ]
    for dimension, weight, score, rows in _dimensions(sheet):
        lines.append(f"[{dimension}]  dimension weight {_number(weight, 0)} %  dimension score {_number(score)}")
        for row in rows:
            flags = "".join(
                flag
                for flag, on in (("*", row["is_imputed"]), ("?", row["is_pending"]), ("!", row["is_outlier_affected"]))
                if on
            )
            label = f"  {row['indicator_name_zh'] or ''} {row['indicator']}{flags}"
            lines.append(
                f"{_pad(label, 40)} {_pad(_raw(row), 20)} {_number(row['score']):>8} "
                f"{_number(row['weight'], 0):>9} {_number(row['weighted_score']):>9}"
            )
    lines += [
        "-" * _display_width(header),
        f"composite score  {_number(c['composite_score'])}",
        f"tier             {c['tier']} {c['tier_name_zh']}",
        f"strategy         {c['strategy']}",
        f"classes          ABC {c['abc_class']}, RFM {c['rfm_segment']}, "
        f"value x potential {c['value_potential_class'] or '-'}",
        f"note             {sheet.note}",
        "(* imputed, ? pending, ! outlier-affected; the note says why a value is missing)",
    ]
    return "\n".join(lines)


_CSS = """
body { font-family: -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.dimension td { background: #fafafa; font-weight: bold; }
.flag { color: #b00; }
dl { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; }
dt { font-weight: bold; }
"""


def render_html(sheet: Sheet) -> str:
    c = sheet.customer
    esc = html.escape
    rows = []
    for dimension, weight, score, indicators in _dimensions(sheet):
        rows.append(
            f'<tr class="dimension"><td colspan="3">{esc(dimension)}</td>'
            f'<td class="num">{_number(weight, 0)}</td><td class="num">{_number(score)}</td></tr>'
        )
        for row in indicators:
            flags = [
                name
                for name, on in (
                    ("imputed", row["is_imputed"]),
                    ("pending", row["is_pending"]),
                    ("outlier", row["is_outlier_affected"]),
                )
                if on
            ]
            flag_html = f' <span class="flag">({esc(", ".join(flags))})</span>' if flags else ""
            rows.append(
                f"<tr><td>{esc(row['indicator_name_zh'] or '')} {esc(row['indicator'])}{flag_html}</td>"
                f'<td>{esc(_raw(row))}</td><td class="num">{_number(row["score"])}</td>'
                f'<td class="num">{_number(row["weight"], 0)}</td>'
                f'<td class="num">{_number(row["weighted_score"])}</td></tr>'
            )
    classes = (
        f"ABC {c['abc_class'] or '-'}, RFM {c['rfm_segment'] or '-'}, "
        f"value × potential {c['value_potential_class'] or '-'}"
    )
    title = f"客户信息评估表 {c['customer_id']} {c['customer_name']} {c['as_of_date']}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>{esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>客户信息评估表</h1>
<p>{esc(c["customer_id"])} {esc(c["customer_name"])} &middot; as of {esc(str(c["as_of_date"]))}</p>
<table>
<thead><tr><th>indicator</th><th>raw value</th><th>score</th><th>weight %</th><th>weighted score</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<dl>
<dt>composite score</dt><dd>{_number(c["composite_score"])}</dd>
<dt>tier</dt><dd>{esc(c["tier"])} {esc(c["tier_name_zh"])}</dd>
<dt>strategy</dt><dd>{esc(c["strategy"] or "")}</dd>
<dt>classes</dt><dd>{esc(classes)}</dd>
<dt>note</dt><dd>{esc(sheet.note)}</dd>
</dl>
</body>
</html>
"""
