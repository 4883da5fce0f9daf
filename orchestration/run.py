"""Run the nightly job for one as-of date, in this process: what `make run` calls.

    python -m orchestration.run [--as-of YYYY-MM-DD] [--verbose]

The as-of date (the run's partition) defaults to TIERING_AS_OF, else today in Asia/Shanghai.
The terminal gets one line per stage with its counts and time, the warnings that matter, the
tier summary and where the outputs are; Dagster's and dbt's full logs go to
$TIERING_DATA_DIR/logs/<as-of>_<time>.log (``--verbose`` shows them as well). The run is
recorded in the Dagster instance of DAGSTER_HOME (an ephemeral one when it is not set), so it
shows in `make dev`. Exits 0 when every step succeeded, 1 when the run failed, 2 on a bad setting
or an as-of date the job does not run for (after today, or before its first partition).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import TextIO

from orchestration import dbt_warm
from orchestration.dbt_invocation import warm_build
from tiering import settings

STAGES = {
    "rubric__configuration": "rubric check",
    "raw___warehouse": "warehouse backup",
    "raw___landing_files": "landing folder",
    "tiering_dbt": "dbt build (models and tests)",
    "serving__tiering": "publish",
}


def stage_name(step_key: str) -> str:
    if step_key in STAGES:
        return STAGES[step_key]
    if step_key.startswith("raw__"):
        return f"load {step_key.removeprefix('raw__')}"
    return step_key


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


class Progress:
    """Turns the run's Dagster events (as the instance stores them) into a few lines on the terminal."""

    def __init__(self, terminal: TextIO, dbt_nodes: int) -> None:
        self.terminal = terminal
        self.dbt_nodes = dbt_nodes
        self.started: dict[str, float] = {}
        self.metadata: dict[str, dict] = {}
        self.dbt_done = 0
        self.failed_checks: list[str] = []
        self.tty = terminal.isatty()
        self.failure_told = False

    def say(self, text: str, *, end: str = "\n") -> None:
        self.terminal.write(text + end)
        self.terminal.flush()

    def watch(self, instance) -> None:
        """Hear every event the run stores in ``instance``."""
        store = instance.handle_new_event

        def handle_new_event(entry, *args, **kwargs):
            store(entry, *args, **kwargs)
            with contextlib.suppress(Exception):  # progress must never break the run
                self.on_event(entry)

        instance.handle_new_event = handle_new_event

    def on_event(self, entry) -> None:
        event = entry.dagster_event
        if event is None:
            # The assets' own warnings (files not loaded, deliveries rolled back) matter.
            if entry.level >= logging.WARNING and entry.step_key and entry.step_key != "tiering_dbt":
                self.say(f"    ! {entry.user_message}")
            return
        kind, step = event.event_type_value, event.step_key
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
            if step == "tiering_dbt":
                self.say(f"  … {stage_name(step)}", end="\r" if self.tty else "\n")
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            self.metadata.setdefault(step, {}).update(
                {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}
            )
            self._dbt_progress(step)
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                check = f"{'/'.join(evaluation.asset_key.path)}: {evaluation.check_name}"
                self.failed_checks.append(check)
                if evaluation.severity.value == "WARN":
                    self.say(f"    ! check {check} failed (a warning, recorded)")
            self._dbt_progress(step)
        elif kind == "STEP_SUCCESS":
            seconds = time.monotonic() - self.started.get(step, time.monotonic())
            self.say(f"  ✓ {stage_name(step):<30} {seconds:6.1f} s  {self._counts(step)}".rstrip())
        elif kind == "STEP_FAILURE":
            seconds = time.monotonic() - self.started.get(step, time.monotonic())
            self.say(f"  ✗ {stage_name(step):<30} {seconds:6.1f} s  failed")
            self._say_error(event.event_specific_data.error)
        elif kind in ("RESOURCE_INIT_FAILURE", "RUN_FAILURE") and not self.failure_told:
            # A run that could not start (the data folder in use, a bad setting) fails here.
            error = getattr(event.event_specific_data, "error", None)
            if error is not None:
                self.say("  ✗ the run could not start")
                self._say_error(error)
        elif kind == "STEP_SKIPPED":
            self.say(f"  - {stage_name(step):<30}          not run: an earlier step failed")

    def _say_error(self, error) -> None:
        """The error's own words: the innermost cause, where Dagster wraps the user's exception."""
        self.failure_told = True
        while error is not None and error.cause is not None:
            error = error.cause
        message = (error.message if error else "failed").strip().splitlines()
        for line in message[:12]:
            self.say(f"      {line}")

    def _dbt_progress(self, step: str) -> None:
        if step != "tiering_dbt":
            return
        self.dbt_done += 1
        if self.tty and self.dbt_nodes:
            self.say(f"  … dbt build: {self.dbt_done}/{self.dbt_nodes} models and tests", end="\r")

    def _counts(self, step: str) -> str:
        data = self.metadata.get(step, {})
        if step == "tiering_dbt":
            return f"{self.dbt_done:,} models, seeds and tests"
        if step == "raw___warehouse":
            return "nothing to back up yet" if str(data.get("backup", "none")).startswith("none") else "backed up"
        if step == "raw___landing_files":
            not_loaded = data.get("entries", 0) - data.get("extract_files", 0)
            return f"{data.get('entries', 0)} entries, {not_loaded} not loaded"
        if step.startswith("raw__"):
            return (
                f"{_number(data.get('rows_loaded', 0))} rows loaded, "
                f"{_number(data.get('rows_quarantined', 0))} quarantined"
            )
        if step == "serving__tiering":
            return f"version {data.get('version', '?')}, {_number(data.get('rows_customer_tiers', 0))} customer rows"
        return ""


def _dbt_node_count() -> int:
    from orchestration.defs.project import dbt_project

    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    kinds = ("model", "seed", "test")
    return sum(1 for node in manifest["nodes"].values() if node["resource_type"] in kinds)


def without_dbt_core() -> None:
    """Keep dbt-core out of this process, which never runs dbt: the build runs in a process of
    its own (orchestration/dbt_warm.py), and this one reads only dbt's manifest and the events
    it prints. dagster-dbt imports dbt-core whenever it can (about 1.4 s of every run's start:
    dbt's contracts and adapters) and then selects the project's nodes with dbt's own selector;
    when dbt-core cannot be imported it reads the same nodes from the manifest and names dbt's
    statuses and node types with copies of its own (tests/test_defs.py checks that the
    asset graph is the same). Call it before Dagster's definitions are imported."""
    sys.modules.setdefault("dbt", None)  # None in sys.modules: `import dbt...` raises ImportError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--as-of", help="the as-of date (the run's partition), YYYY-MM-DD; default TIERING_AS_OF or today"
    )
    parser.add_argument("--verbose", action="store_true", help="show Dagster's and dbt's full logs too")
    args = parser.parse_args(argv)

    settings.read_dotenv()
    try:
        config = settings.load(as_of=settings.parse_as_of(args.as_of, "--as-of") if args.as_of else None)
    except settings.SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # dbt's process first, while this one imports Dagster (orchestration/dbt_warm.py).
    dbt_warm.start_early(warm_build(config))
    try:
        return _run(args, config)
    finally:
        dbt_warm.close_early()  # a run that never started


def _run(args: argparse.Namespace, config: settings.Settings) -> int:
    as_of = config.as_of.isoformat()
    from orchestration.defs.config import as_of_partitions

    if not as_of_partitions.has_partition_key(as_of):
        # Dagster would refuse it with a traceback that only the log file would show.
        first, last = as_of_partitions.get_first_partition_key(), as_of_partitions.get_last_partition_key()
        print(
            f"error: no run for the as-of date {as_of}: the job runs for {first} to today in "
            f"{settings.TIMEZONE} ({last})",
            file=sys.stderr,
        )
        return 2
    log_path = config.data_dir / "logs" / f"{as_of}_{datetime.now():%Y%m%dT%H%M%S}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)

    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    terminal.write(f"Nightly tiering run as of {as_of} (log: {log_path})\n")
    terminal.flush()
    log = log_path.open("a", encoding="utf-8", buffering=1)
    if not args.verbose:
        # Everything the run prints (Dagster's events, dbt's output, warnings) goes to the log.
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")

    started = time.monotonic()
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly_tiering")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    Progress(terminal, _dbt_node_count()).watch(instance)
    with instance:
        result = job.execute_in_process(partition_key=as_of, instance=instance, raise_on_error=False)

    elapsed = time.monotonic() - started
    if result.success:
        from tiering.publish.serving import format_tier_summary, read_tier_summary

        terminal.write(f"\nDone in {elapsed:.0f} s.\n\n")
        for basis in ("computed", "effective"):
            terminal.write(format_tier_summary(read_tier_summary(config.serving_path, as_of, basis)) + "\n\n")
        terminal.write(f"Published (open read-only): {config.serving_path}\n")
        terminal.write(f"Parquet files:              {config.parquet_dir}\n")
        terminal.write(f"Excel workbook:             {config.serving_dir / 'tiering.xlsx'}\n")
        terminal.write(f"Auditor report:             {config.reports_dir / 'latest.html'}\n")
        terminal.write(f"Full log:                   {log_path}\n")
    else:
        terminal.write(
            f"\nThe run failed after {elapsed:.0f} s; nothing was published and the last good version "
            f"stays.\nFull log: {log_path}\n"
        )
    terminal.flush()
    return 0 if result.success else 1


if __name__ == "__main__":
    without_dbt_core()
    code = main()
    # Everything is committed and the instance closed. Skip the interpreter's teardown of the
    # modules the run loaded (Dagster, dbt, Great Expectations), which takes a second or two.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
