"""Publish the marts for BI: a new serving DuckDB file and Parquet copies, swapped in whole.

BI tools read `serving/tiering.duckdb` (or the Parquet files) and never the build
warehouse, so a dashboard holding the file open neither blocks the nightly run nor sees a
half-built state. Everything is written to temporary names first and renamed into place
only when all of it is written; a failure before that leaves the last good version.
"""

from __future__ import annotations

import os
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from tiering.settings import duckdb_config

# Published table -> the warehouse relation it copies. The names are a contract with BI users.
PUBLISHED_TABLES: dict[str, str] = {
    "customer_tiers": "marts.customer_tiers",
    "customer_indicator_scores": "marts.customer_indicator_scores",
    "tier_summary": "marts.tier_summary",
    "tier_summary_effective": "marts.tier_summary_effective",
    "tier_changes": "marts.tier_changes",
    "churn_risk_customers": "marts.churn_risk_customers",
    "tier_migration": "marts.tier_migration",
    "tier_kpis": "marts.tier_kpis",
    "dimension_summary": "marts.dimension_summary",
    "verification_sample": "marts.verification_sample",
    # The audit trail of cleaning (phones and emails masked or absent).
    "dq_results": "marts.dq_results",
    "customer_crosswalk": "marts.customer_crosswalk",
    "outlier_flags": "marts.outlier_flags",
    "reconciliation": "marts.reconciliation",
    "quarantined_rows": "marts.quarantined_rows",
}

PUBLICATION_TABLE = "_publication"


@dataclass(frozen=True)
class Publication:
    serving_path: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    published_at: datetime


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def publish(
    warehouse_path: Path,
    serving_path: Path,
    parquet_dir: Path,
    *,
    run_id: str,
    as_of: str,
    tables: dict[str, str] | None = None,
) -> Publication:
    tables = tables or PUBLISHED_TABLES
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    parquet_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    staged_db = serving_path.with_name(f".{serving_path.name}.{token}.tmp")
    staged_parquet = {name: parquet_dir / f".{name}.{token}.parquet.tmp" for name in tables}
    published_at = datetime.now()
    row_counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(staged_db), config=duckdb_config()) as connection:
            connection.execute(f"attach {_sql_path(warehouse_path)} as warehouse (read_only)")
            for name, relation in tables.items():
                connection.execute(f"create table main.{name} as select * from warehouse.{relation}")
                # COPY answers with the number of rows it wrote.
                row_counts[name] = connection.execute(
                    f"copy main.{name} to {_sql_path(staged_parquet[name])} (format parquet, compression zstd)"
                ).fetchall()[0][0]
            connection.execute(
                f"""
                create table main.{PUBLICATION_TABLE} as
                select cast($run_id as varchar) as run_id, cast($as_of as date) as as_of_date,
                       cast($published_at as timestamp) as published_at,
                       unnest($names) as table_name, cast(unnest($counts) as bigint) as row_count
                """,
                {
                    "run_id": run_id,
                    "as_of": as_of,
                    "published_at": published_at,
                    "names": list(row_counts),
                    "counts": list(row_counts.values()),
                },
            )
            connection.execute("detach warehouse")
        # All written: swap in. Each rename is atomic; the DuckDB file goes last so that a
        # reader of it never sees tables older than the Parquet beside it.
        for name, staged in staged_parquet.items():
            os.replace(staged, parquet_dir / f"{name}.parquet")
        os.replace(staged_db, serving_path)
    finally:
        for leftover in [staged_db, staged_db.with_name(staged_db.name + ".wal"), *staged_parquet.values()]:
            leftover.unlink(missing_ok=True)
    return Publication(serving_path, parquet_dir, row_counts, published_at)


# The two tier summaries: of the computed tier (what the rubric gives tonight) and of the
# effective tier (what the business acts on, after the re-tier rules).
TIER_SUMMARIES = {"computed": "tier_summary", "effective": "tier_summary_effective"}


def read_tier_summary(serving_path: Path, as_of: str | None = None, basis: str = "computed") -> list[dict]:
    """The published tier summary of one as-of date (the newest if not given), read-only: the
    tier rows, then the total row. ``basis`` is ``computed`` (tier_summary) or ``effective``
    (tier_summary_effective)."""
    table = TIER_SUMMARIES[basis]
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        date_filter = "cast(? as date)" if as_of else f"(select max(as_of_date) from {table})"
        cursor = connection.execute(
            f"""
            select as_of_date, tier, tier_name_zh, customer_count, customer_share_pct,
                   total_spend_10k, spend_share_pct, avg_margin_pct, is_total_row, tier_basis
            from {table}
            where as_of_date = {date_filter}
            order by is_total_row, sort_order
            """,
            [as_of] if as_of else [],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def format_tier_summary(rows: list[dict]) -> str:
    """The summary as a text table; the total row is the published one (margin spend-weighted)."""
    if not rows:
        return "No tier summary published yet."
    lines = [
        f"Tier summary ({rows[0]['tier_basis']} tier) as of {rows[0]['as_of_date']}; margin % is spend-weighted",
        f"{'tier':<10} {_pad('name', 10)} {'customers':>9} {'share %':>8} "
        f"{'spend 10k CNY':>14} {'spend %':>8} {'margin %':>9}",
    ]

    def number(value, digits=2):
        return "-" if value is None else f"{float(value):,.{digits}f}"

    for row in rows:
        lines.append(
            f"{row['tier']:<10} {_pad(row['tier_name_zh'], 10)} {row['customer_count']:>9} "
            f"{number(row['customer_share_pct']):>8} "
            f"{number(row['total_spend_10k']):>14} {number(row['spend_share_pct']):>8} "
            f"{number(row['avg_margin_pct']):>9}"
        )
    return "\n".join(lines)
