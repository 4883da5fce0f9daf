"""Tier migration between any two published as-of dates, by effective tier.

The published `tier_migration` table covers consecutive as-of dates; this answers the same
question for any pair, read-only on the serving file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

MIGRATION_SQL = """
with earlier as (
    select customer_id, effective_tier, period_spend_cny from customer_tiers where as_of_date = cast(? as date)
),
later as (
    select customer_id, effective_tier, period_spend_cny from customer_tiers where as_of_date = cast(? as date)
)
select
    coalesce(earlier.effective_tier, 'new') as from_tier,
    coalesce(later.effective_tier, 'gone') as to_tier,
    count(*) as customer_count,
    cast(sum(coalesce(later.period_spend_cny, 0)) / 10000 as decimal(18, 6)) as spend_10k
from earlier
full outer join later on earlier.customer_id = later.customer_id
group by all
order by all
"""


def tier_migration(serving_path: Path, from_date: str, to_date: str) -> list[tuple]:
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        published = {
            str(row[0]) for row in connection.execute("select distinct as_of_date from customer_tiers").fetchall()
        }
        for requested in (from_date, to_date):
            if requested not in published:
                raise ValueError(
                    f"as-of date {requested} is not published; "
                    f"published dates: {', '.join(sorted(published)) or 'none'}"
                )
        return connection.execute(MIGRATION_SQL, [from_date, to_date]).fetchall()


def format_migration(rows: list[tuple], from_date: str, to_date: str) -> str:
    lines = [
        f"Tier migration {from_date} → {to_date} (effective tiers)",
        f"{'from':<10} {'to':<10} {'customers':>9} {'spend 10k CNY':>14}",
    ]
    for from_tier, to_tier, count, spend in rows:
        lines.append(f"{from_tier:<10} {to_tier:<10} {count:>9} {float(spend):>14,.2f}")
    return "\n".join(lines)
