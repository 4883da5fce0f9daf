"""The auditor report of a run: one self-contained HTML file, written after a good publication.

It reads only the published serving file, so it shows exactly what BI users see, with phones
and emails already masked. No scripts, no fonts or styles from the internet: inline CSS and
charts drawn as inline SVG, so the file opens offline and can be archived as it is. Every run
writes ``reports/<as-of>_<run id>.html`` (kept) and copies it to ``reports/latest.html``.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from tiering.quality.masking import mask_value

SAMPLE_ROWS = 10


@dataclass(frozen=True)
class Report:
    path: Path
    latest_path: Path


def _e(value) -> str:
    """A value as escaped HTML text; missing values as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    return html.escape(str(value))


# How a column's numbers are shown: counts with thousands separators, money and scores with two
# decimals, percentages with two decimals and a per cent sign.
FORMATS = {
    "count": lambda value: f"{int(value):,}",
    "money": lambda value: f"{value:,.2f}",
    "score": lambda value: f"{value:,.2f}",
    "pct": lambda value: f"{value:,.2f} %",
}


def _cell(value, kind: str | None) -> str:
    if value is None or kind is None or isinstance(value, bool):
        return _e(value)
    return html.escape(FORMATS[kind](value))


def _table(headers: list[str], rows: list[tuple], formats: dict[int, str] | None = None, css_class: str = "") -> str:
    """An HTML table; ``formats`` maps a column's index to its number format (FORMATS), and
    right-aligns it."""
    formats = formats or {}
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i in formats else ""}">{_cell(v, formats.get(i))}</td>' for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}" class="empty">none</td></tr>'
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _bar_chart(title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    """A horizontal bar chart as inline SVG: one labelled bar per item."""
    width, bar_height, label_width, gap = 640, 22, 150, 6
    top = 28
    height = top + len(items) * (bar_height + gap) + 10
    largest = max((value for _, value in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}">',
        f'<text x="0" y="16" class="chart-title">{_e(title)}</text>',
    ]
    for index, (label, value) in enumerate(items):
        y = top + index * (bar_height + gap)
        length = (width - label_width - 90) * value / largest
        parts.append(f'<text x="0" y="{y + 16}" class="chart-label">{_e(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" class="bar"/>')
        parts.append(
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}" class="chart-value">{value:,.1f}{_e(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _query(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> list[tuple]:
    return connection.execute(sql, parameters or []).fetchall()


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, read from the published serving file."""

    run_id: str
    as_of: str
    published: list[tuple]
    rubric: list[tuple]
    inputs: list[tuple]
    expectations: list[tuple]
    dedup_counts: tuple
    dedup_rules: list[tuple]
    dedup_sample: list[tuple]
    missing: list[tuple]
    pending: list[tuple]
    outlier_counts: list[tuple]
    outlier_sample: list[tuple]
    quarantine: list[tuple]
    quarantine_total: int
    landing: list[tuple]
    reconciliation: list[tuple]
    tiers: list[tuple]
    effective_tiers: list[tuple]
    scores: list[tuple]


def collect(serving_path: Path, *, run_id: str, as_of: str) -> ReportData:
    """Read the report's figures of one run from the published serving file."""
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        published = _query(
            connection, "select table_name, row_count, published_at from _publication order by table_name"
        )
        rubric = _query(connection, "select distinct rubric_version from tier_summary where as_of_date = ?", [as_of])
        inputs = _query(
            connection,
            """select subject, detail, cast(expected_value as bigint), cast(actual_value as bigint), is_balanced
               from reconciliation
               where as_of_date = ? and check_name = 'file_rows' order by subject""",
            [as_of],
        )
        expectations = _query(
            connection,
            """select suite, expectation, "column", severity, success, element_count, unexpected_count,
                      round(unexpected_percent, 3), unexpected_sample
               from dq_results where run_id = ?
               order by success, severity <> 'error', suite, expectation, "column" """,
            [run_id],
        )
        dedup_counts = _query(
            connection,
            """select count(*), count(distinct customer_id), count(*) filter (where is_merged)
               from customer_crosswalk where as_of_date = ?""",
            [as_of],
        )[0]
        dedup_rules = _query(
            connection,
            """select match_rule, count(*), count(*) filter (where is_merged)
               from customer_crosswalk where as_of_date = ? group by match_rule order by match_rule""",
            [as_of],
        )
        dedup_sample = _query(
            connection,
            f"""select merged.source_system, merged.source_customer_id, merged.customer_name, merged.match_rule,
                       merged.customer_id, survivor.customer_name
                from customer_crosswalk as merged
                join customer_crosswalk as survivor
                  on survivor.as_of_date = merged.as_of_date and survivor.customer_id = merged.customer_id
                 and survivor.is_survivor
                where merged.as_of_date = ? and merged.is_merged and merged.source_system = 'crm'
                order by merged.match_rule desc, merged.customer_id limit {SAMPLE_ROWS}""",
            [as_of],
        )
        missing = _query(
            connection,
            """select indicator,
                      count(*) filter (where is_imputed), string_agg(distinct imputation_rule, ', '),
                      count(*) filter (where is_pending), count(*) filter (where is_outlier_affected)
               from customer_indicator_scores where as_of_date = ? group by indicator order by indicator""",
            [as_of],
        )
        pending = _query(
            connection,
            f"""select customer_id, customer_name, pending_indicators from customer_tiers
                where as_of_date = ? and is_pending order by customer_id limit {SAMPLE_ROWS}""",
            [as_of],
        )
        outlier_counts = _query(
            connection,
            """select rule, reason_code, action, count(*), count(*) filter (where is_applied),
                      sum(original_value) - sum(coalesce(corrected_value, 0)) filter (where is_applied)
               from outlier_flags where as_of_date = ? group by rule, reason_code, action order by reason_code""",
            [as_of],
        )
        outlier_sample = _query(
            connection,
            f"""select order_id, line_no, customer_id, order_date, rule, action, original_value, corrected_value, detail
                from outlier_flags where as_of_date = ? order by reason_code, order_id limit {SAMPLE_ROWS}""",
            [as_of],
        )
        quarantine = _query(
            connection,
            f"""select entity, source_file, source_row, reason, raw_record_masked from quarantined_rows
                order by loaded_at desc, entity, source_row limit {SAMPLE_ROWS * 2}""",
        )
        quarantine_total = _query(connection, "select count(*) from quarantined_rows")[0][0]
        landing = _query(
            connection,
            """select file_name, coalesce(entity, '–'), status, coalesce(reason, '') from landing_files
               where run_id = ? and status <> 'loaded' order by status desc, file_name""",
            [run_id],
        )
        reconciliation = _query(
            connection,
            """select check_name, subject, expected_label, expected_value, actual_label, actual_value, difference,
                      is_balanced
               from reconciliation where as_of_date = ? order by is_balanced, check_name, subject""",
            [as_of],
        )
        # the summaries of the computed and of the effective tier, each with its total row last
        tiers, effective_tiers = (
            _query(
                connection,
                f"""select tier, tier_name_zh, customer_count, customer_share_pct, total_spend_10k, spend_share_pct,
                           avg_margin_pct
                    from {table} where as_of_date = ? order by is_total_row, sort_order""",
                [as_of],
            )
            for table in ("tier_summary", "tier_summary_effective")
        )
        scores = _query(
            connection,
            """select least(cast(floor(composite_score / 10) as integer), 9) as bucket, count(*)
               from customer_tiers where as_of_date = ? and composite_score is not null
               group by bucket order by bucket""",
            [as_of],
        )

    return ReportData(
        run_id,
        as_of,
        published=published,
        rubric=rubric,
        inputs=inputs,
        expectations=expectations,
        dedup_counts=dedup_counts,
        dedup_rules=dedup_rules,
        dedup_sample=dedup_sample,
        missing=missing,
        pending=pending,
        outlier_counts=outlier_counts,
        outlier_sample=outlier_sample,
        quarantine=quarantine,
        quarantine_total=quarantine_total,
        landing=landing,
        reconciliation=reconciliation,
        tiers=tiers,
        effective_tiers=effective_tiers,
        scores=scores,
    )


def render(data: ReportData) -> str:
    """The report as one self-contained HTML string."""
    run_id, as_of = data.run_id, data.as_of
    published = data.published
    rubric = data.rubric
    inputs = data.inputs
    expectations = data.expectations
    dedup_counts = data.dedup_counts
    dedup_rules = data.dedup_rules
    dedup_sample = data.dedup_sample
    missing = data.missing
    pending = data.pending
    outlier_counts = data.outlier_counts
    outlier_sample = data.outlier_sample
    quarantine = data.quarantine
    quarantine_total = data.quarantine_total
    landing = data.landing
    reconciliation = data.reconciliation
    tiers = data.tiers
    effective_tiers = data.effective_tiers
    scores = data.scores
    failed = [row for row in expectations if not row[4]]
    not_loaded = sum(row[2] == "not_loaded" for row in landing)
    balanced = all(row[7] for row in reconciliation)
    score_buckets = dict(scores)
    score_chart = _bar_chart(
        "Composite score distribution (customers per band of 10 points)",
        [(f"{10 * b}–{10 * b + 10 if b < 9 else 100}", float(score_buckets.get(b, 0))) for b in range(10)],
    )
    share_chart = _bar_chart(
        "Tier shares (% of tiered customers)",
        [(f"{tier} {zh}", float(share or 0)) for tier, zh, _, share, *_ in tiers if tier not in ("pending", "total")],
        unit=" %",
    )
    tier_columns = ["tier", "名称", "customers", "share %", "spend 10k CNY", "spend share %", "margin %"]
    source_records, golden, merged = dedup_counts
    sections = [
        f"<h1>Data-quality and cleaning report</h1>"
        f'<p class="meta">As-of date <b id="as-of">{_e(as_of)}</b> · run <code>{_e(run_id)}</code> · '
        f'rubric version <code id="rubric-version">{_e(", ".join(r[0] for r in rubric) or "–")}</code></p>',
        '<div class="cards">'
        f'<div class="card {"bad" if failed else ""}"><span>Expectations failed</span>'
        f'<b id="expectations-failed">{len(failed):,}</b><small>of {len(expectations):,}</small></div>'
        f'<div class="card"><span>Golden customers</span><b id="golden-customers">{golden:,}</b>'
        f"<small>from {source_records:,} records</small></div>"
        f'<div class="card"><span>Merged records</span><b id="merged-records">{merged:,}</b></div>'
        f'<div class="card"><span>Outlier lines</span>'
        f'<b id="outlier-lines">{sum(r[3] for r in outlier_counts):,}</b></div>'
        f'<div class="card"><span>Quarantined rows</span><b id="quarantined-rows">{quarantine_total:,}</b></div>'
        f'<div class="card {"bad" if not_loaded else ""}"><span>Landing entries not loaded</span>'
        f'<b id="landing-not-loaded">{not_loaded}</b></div>'
        f'<div class="card {"ok" if balanced else "bad"}"><span>Reconciliation</span>'
        f'<b id="reconciliation-status">{"balanced" if balanced else "NOT balanced"}</b></div>'
        "</div>",
        "<h2>Failed checks</h2>"
        + (
            "<p>Expectations that failed and reconciliations that do not balance, blocking ones first; "
            "the sections below have the detail.</p>"
            + _table(
                ["suite", "expectation", "column", "severity", "failed rows", "failed %"],
                [(row[0], row[1], row[2], row[3], row[6], row[7]) for row in failed],
                {4: "count", 5: "pct"},
                "failed",
            )
            + _table(
                ["check", "subject", "expected", "actual", "difference"],
                [(row[0], row[1], row[3], row[5], row[6]) for row in reconciliation if not row[7]],
                {2: "money", 3: "money", 4: "money"},
                "unbalanced",
            )
            if failed or not balanced
            else '<p id="failed-checks">none: every expectation passed and every reconciliation balances.</p>'
        ),
        "<h2>1. Inputs</h2>"
        + _table(
            ["file", "entity and SHA-256", "rows read", "loaded + quarantined", "balanced"],
            inputs,
            {2: "count", 3: "count"},
        )
        + "<h3>Landing folder: entries this run did not load</h3>"
        + "<p>Skipped (the same content was loaded before, or was withdrawn) or not loaded, with the reason.</p>"
        + _table(["entry", "entity", "status", "reason"], landing),
        "<h2>2. Expectations (Great Expectations)</h2>"
        "<p>Each suite checks the rows this run landed: a file loaded by an earlier run was checked then. "
        "Severity <b>error</b> blocks the run; <b>warn</b> is a data defect that the cleaning rules handle. "
        "Failing samples are masked.</p>"
        + _table(
            ["suite", "expectation", "column", "severity", "passed", "rows", "failed rows", "failed %", "sample"],
            expectations,
            {5: "count", 6: "count", 7: "pct"},
            "expectations",
        ),
        "<h2>3. Duplicates (去重)</h2>"
        f"<p>{source_records:,} source records → {golden:,} golden customers; {merged:,} records merged.</p>"
        + _table(["match rule", "records", "merged"], dedup_rules, {1: "count", 2: "count"})
        + "<h3>Sample of merged CRM records</h3>"
        + _table(["system", "record", "name as entered", "rule", "golden customer", "golden name"], dedup_sample),
        "<h2>4. Missing values (缺失值)</h2>"
        + _table(
            ["indicator", "imputed", "rules", "pending (待评估)", "changed by an outlier rule"],
            missing,
            {1: "count", 3: "count", 4: "count"},
        )
        + "<h3>Sample of pending customers</h3>"
        + _table(["customer", "name", "missing indicators"], pending),
        "<h2>5. Outliers (异常值)</h2>"
        + _table(
            ["rule", "reason code", "action", "lines flagged", "action applied", "amount removed (CNY)"],
            outlier_counts,
            {3: "count", 4: "count", 5: "money"},
        )
        + "<h3>Sample</h3>"
        + _table(
            ["order", "line", "customer", "date", "rule", "action", "original", "corrected", "detail"],
            outlier_sample,
            {6: "money", 7: "money"},
        ),
        f"<h2>6. Quarantined rows</h2><p>{quarantine_total:,} rows did not parse; contact data masked.</p>"
        + _table(
            ["entity", "file", "row", "reason", "record (masked)"],
            [(*row[:4], mask_value(row[4]) if row[4] else row[4]) for row in quarantine],
        ),
        "<h2>7. Reconciliation</h2>"
        + _table(
            ["check", "subject", "expected", "value", "parts", "value", "difference", "balanced"],
            reconciliation,
            {3: "money", 5: "money", 6: "money"},
        ),
        "<h2>8. Tiers</h2>"
        + "<p>Computed tier (<code>tier_summary</code>); margin % is spend-weighted.</p>"
        + _table(tier_columns, tiers, {2: "count", 3: "pct", 4: "money", 5: "pct", 6: "pct"})
        + "<p>Effective tier, the one the business acts on (<code>tier_summary_effective</code>).</p>"
        + _table(tier_columns, effective_tiers, {2: "count", 3: "pct", 4: "money", 5: "pct", 6: "pct"})
        + f'<div class="charts">{score_chart}{share_chart}</div>',
        "<h2>9. Published tables</h2>" + _table(["table", "rows", "published at"], published, {1: "count"}),
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Cleaning report {html.escape(as_of)}</title>
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2rem; color: #1d2430; }}
h1 {{ font-size: 1.6rem; }} h2 {{ margin-top: 2rem; border-bottom: 1px solid #ccd; padding-bottom: .2rem; }}
table {{ border-collapse: collapse; margin: .5rem 0; font-size: .85rem; }}
th, td {{ border: 1px solid #d5d9e0; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
th {{ background: #eef1f6; }} td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.empty {{ color: #888; font-style: italic; }}
.cards {{ display: flex; flex-wrap: wrap; gap: .8rem; }}
.card {{ border: 1px solid #ccd; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }}
.card span {{ display: block; font-size: .8rem; color: #556; }} .card b {{ font-size: 1.4rem; }}
.card small {{ display: block; color: #778; }} .card.ok b {{ color: #17753a; }} .card.bad b {{ color: #b3261e; }}
.meta {{ color: #445; }} .charts svg {{ display: block; margin: 1rem 0; }}
.chart-title {{ font-weight: 600; font-size: 14px; }} .chart-label, .chart-value {{ font-size: 12px; }}
.bar {{ fill: #3b6fb6; }}
</style></head>
<body>
{"".join(sections)}
</body></html>
"""


def render_report(serving_path: Path, *, run_id: str, as_of: str) -> str:
    """The report of one run as an HTML string, from the published serving file."""
    return render(collect(serving_path, run_id=run_id, as_of=as_of))


def write_report(database_path: Path, version_dir: Path, reports_dir: Path, *, run_id: str, as_of: str) -> Report:
    """Write this run's report into its serving version (``report.html``, which
    ``reports/latest.html`` reaches once the version is current) and keep a copy in
    ``reports/<as-of>_<run id>.html``, each written atomically."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    text = render_report(database_path, run_id=run_id, as_of=as_of)
    path = reports_dir / f"{as_of}_{run_id}.html"
    in_version = version_dir / "report.html"
    for target in (in_version, path):
        staged = target.with_name(f".{target.name}.tmp")
        staged.write_text(text, encoding="utf-8")
        os.replace(staged, target)
    return Report(path, reports_dir / "latest.html")


def cleaning_counts(serving_path: Path, *, as_of: str) -> dict[str, int]:
    """The run's cleaning counts for the job's metadata: records, golden customers, merges by rule."""
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        source_records, golden, merged = _query(
            connection,
            "select count(*), count(distinct customer_id), count(*) filter (where is_merged) "
            "from customer_crosswalk where as_of_date = ?",
            [as_of],
        )[0]
        by_rule = _query(
            connection,
            "select match_rule, count(*) from customer_crosswalk where as_of_date = ? and is_merged group by 1",
            [as_of],
        )
        outliers = _query(
            connection, "select count(*) from outlier_flags where as_of_date = ? and is_applied", [as_of]
        )[0][0]
    return {
        "source_customer_records": source_records,
        "golden_customers": golden,
        "merged_records": merged,
        **{f"merged_by_{rule}": count for rule, count in sorted(by_rule)},
        "outlier_lines_excluded_or_capped": outliers,
    }
