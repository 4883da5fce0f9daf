"""Backfill: run the nightly job for every as-of date in a range, oldest first.

    python -m orchestration.backfill --start 2026-10-01 --end 2026-10-31 [--every 1]

Dates run in order because each date's effective tiers start from the previous date's.
Runs are recorded in the Dagster instance of DAGSTER_HOME when it is set, so they show in
the UI. Stops at the first failed date.
"""

import argparse
import os
import sys
from datetime import date, timedelta

import dagster as dg


def as_of_dates(start: date, end: date, every_days: int = 1) -> list[date]:
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    return [start + timedelta(days=offset) for offset in range(0, (end - start).days + 1, every_days)]


def run_backfill(dates: list[date], instance: dg.DagsterInstance) -> list[tuple[date, bool]]:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly_tiering")
    outcomes = []
    for as_of in dates:
        os.environ["TIERING_AS_OF"] = as_of.isoformat()
        result = job.execute_in_process(
            instance=instance, tags={"tiering/as_of_date": as_of.isoformat()}, raise_on_error=False
        )
        outcomes.append((as_of, result.success))
        print(f"{as_of}: {'ok' if result.success else 'FAILED'} (run {result.run_id})", flush=True)
        if not result.success:
            break
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", required=True, type=date.fromisoformat, help="first as-of date, YYYY-MM-DD")
    parser.add_argument("--end", required=True, type=date.fromisoformat, help="last as-of date, YYYY-MM-DD")
    parser.add_argument("--every", type=int, default=1, help="days between as-of dates (default 1)")
    args = parser.parse_args(argv)
    dates = as_of_dates(args.start, args.end, args.every)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    outcomes = run_backfill(dates, instance)
    return 0 if len(outcomes) == len(dates) and all(ok for _, ok in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
