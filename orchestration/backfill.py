"""Backfill: the nightly job for every as-of date in a range, oldest first, one at a time,
through Dagster's own partition backfill.

    python -m orchestration.backfill --start 2026-10-01 --end 2026-10-31 [--every 7]

It submits a partition backfill of nightly_tiering to the instance of DAGSTER_HOME, as
`dagster job backfill` does (it shows on the UI's Backfills page, and the same can be launched
from the UI). The instance's run queue (dagster.yaml) runs one run at a time in the order
submitted, which is date order: each date's effective tiers start from the date before. When no
Dagster daemon is running (`make dev` runs one), this command runs one until every date is done.
A failed date stops the backfill: the later dates are canceled, since they would build on it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from orchestration.instance import ensure

JOB = "nightly_tiering"
REPO_ROOT = Path(__file__).resolve().parents[1]
TERMINAL = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def as_of_dates(start: date, end: date, every_days: int = 1) -> list[date]:
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    if every_days < 1:
        raise ValueError(f"--every {every_days}: expected 1 or more days")
    return [start + timedelta(days=offset) for offset in range(0, (end - start).days + 1, every_days)]


def submit(dates: list[date]) -> str:
    """Submit the partition backfill; returns its id."""
    dagster = str(Path(sys.executable).with_name("dagster"))
    partitions = ",".join(day.isoformat() for day in dates)
    command = [dagster, "job", "backfill", "-m", "orchestration.definitions", "-j", JOB]
    completed = subprocess.run(
        [*command, "--partitions", partitions, "--noprompt"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    found = re.search(r"Launched backfill job `([^`]+)`", completed.stdout + completed.stderr)
    if completed.returncode != 0 or not found:
        raise RuntimeError(f"dagster job backfill failed:\n{completed.stdout}{completed.stderr}")
    return found.group(1)


def _daemon_running(instance: dg.DagsterInstance) -> bool:
    heartbeats = instance.get_daemon_heartbeats()
    beat = heartbeats.get("QUEUED_RUN_COORDINATOR")
    return bool(beat and time.time() - beat.timestamp < 60)


def wait_for(instance: dg.DagsterInstance, backfill_id: str, dates: list[date], *, poll_seconds: float = 2) -> dict:
    """Follow the backfill's runs until each is done; cancel the rest after a failure."""
    outcomes: dict[str, dg.DagsterRunStatus] = {}
    wanted = {day.isoformat() for day in dates}
    canceled = False
    while set(outcomes) != wanted:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        for run in sorted(runs, key=lambda run: run.tags.get("dagster/partition", "")):
            partition = run.tags.get("dagster/partition")
            if run.status in TERMINAL and partition not in outcomes:
                outcomes[partition] = run.status
                seconds = _run_seconds(instance, run.run_id)
                word = {"SUCCESS": "ok", "FAILURE": "FAILED", "CANCELED": "canceled"}[run.status.value]
                print(f"{partition}: {word} (run {run.run_id[:8]}{seconds})", flush=True)
                if run.status == dg.DagsterRunStatus.FAILURE:
                    for line in _failure_reason(instance, run.run_id):
                        print(f"    {line}", flush=True)
            if outcomes.get(partition) == dg.DagsterRunStatus.FAILURE and not canceled:
                canceled = True
                for later in runs:
                    if later.status not in TERMINAL and later.run_id != run.run_id:
                        instance.run_coordinator.cancel_run(later.run_id)
        if set(outcomes) != wanted:
            time.sleep(poll_seconds)
    return outcomes


def _failure_reason(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The first failure of a run in the error's own words (the innermost cause)."""
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.event_type_value not in ("STEP_FAILURE", "RUN_FAILURE", "RESOURCE_INIT_FAILURE"):
            continue
        error = getattr(event.event_specific_data, "error", None)
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            step = f"step {event.step_key}: " if event.step_key else ""
            lines = error.message.strip().splitlines()
            return [step + lines[0], *lines[1:8]] if lines else []
    return []


def _run_seconds(instance: dg.DagsterInstance, run_id: str) -> str:
    record = instance.get_run_record_by_id(run_id)
    if record and record.start_time and record.end_time:
        return f", {record.end_time - record.start_time:.0f} s"
    return ""


def run_backfill(dates: list[date]) -> dict:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError("DAGSTER_HOME is not set: a backfill is recorded in a persistent Dagster instance")
    ensure(Path(home))
    backfill_id = submit(dates)
    print(f"Backfill {backfill_id}: {len(dates)} as-of dates from {dates[0]} to {dates[-1]}, one at a time", flush=True)
    daemon = None
    with dg.DagsterInstance.get() as instance:
        if not _daemon_running(instance):
            daemon_command = [
                str(Path(sys.executable).with_name("dagster-daemon")),
                "run",
                "-m",
                "orchestration.definitions",
            ]
            daemon = subprocess.Popen(
                daemon_command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        try:
            return wait_for(instance, backfill_id, dates)
        finally:
            if daemon is not None:
                daemon.terminate()
                daemon.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.backfill", description=__doc__.splitlines()[0])
    parser.add_argument("--start", required=True, type=date.fromisoformat, help="first as-of date, YYYY-MM-DD")
    parser.add_argument("--end", required=True, type=date.fromisoformat, help="last as-of date, YYYY-MM-DD")
    parser.add_argument("--every", type=int, default=1, help="days between as-of dates (default 1)")
    args = parser.parse_args(argv)
    try:
        dates = as_of_dates(args.start, args.end, args.every)
        outcomes = run_backfill(dates)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if all(status == dg.DagsterRunStatus.SUCCESS for status in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
