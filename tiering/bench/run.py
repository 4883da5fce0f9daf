"""`make bench`: generate demo extracts at a scale, run each stage of the nightly job, and
report wall time and peak memory (resident set size) per stage.

Each stage runs as its own process (generation, then the Dagster asset groups ingest,
transform and publish), so its peak memory is measured on its own, dbt's subprocess
included. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tiering.settings import today_in_shanghai


@dataclass(frozen=True)
class StageMeasurement:
    stage: str
    seconds: float
    peak_rss_mib: float
    returncode: int


def measure(stage: str, command: list[str], env: dict[str, str]) -> StageMeasurement:
    """Run a command; wall time and the peak RSS of it and every process it waited for."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux; a child's includes the largest of its own children.
    return StageMeasurement(stage, seconds, usage.ru_maxrss / 1024, process.returncode)


def format_report(customers: int, order_lines: int, measurements: list[StageMeasurement]) -> str:
    lines = [
        f"Benchmark: {customers:,} customers, {order_lines:,} order lines, {os.cpu_count()} cores",
        "",
        "| stage | wall time (s) | peak memory (MiB) |",
        "|---|---:|---:|",
    ]
    for measurement in measurements:
        failed = "" if measurement.returncode == 0 else f" (failed, exit {measurement.returncode})"
        lines.append(f"| {measurement.stage}{failed} | {measurement.seconds:,.1f} | {measurement.peak_rss_mib:,.0f} |")
    total = sum(measurement.seconds for measurement in measurements)
    lines.append(f"| **total** | **{total:,.1f}** | |")
    return "\n".join(lines)


def run_benchmark(*, customers: int, workdir: Path, seed: int = 7, as_of: date | None = None) -> int:
    as_of = as_of or today_in_shanghai()
    root = workdir / f"{customers}"
    shutil.rmtree(root, ignore_errors=True)
    landing, data_dir = root / "landing", root / "data"
    env = {
        **os.environ,
        "TIERING_LANDING_DIR": str(landing),
        "TIERING_DATA_DIR": str(data_dir),
        "TIERING_AS_OF": as_of.isoformat(),
        "DAGSTER_HOME": str(root / "dagster"),
    }
    (root / "dagster").mkdir(parents=True)
    python = sys.executable
    dagster = str(Path(python).with_name("dagster"))
    materialize = [dagster, "asset", "materialize", "-m", "orchestration.definitions", "--select"]
    stages = [
        (
            "generate demo extracts",
            [
                python,
                "-m",
                "tiering.demo.generate",
                "--landing-dir",
                str(landing),
                "--customers",
                str(customers),
                "--seed",
                str(seed),
                "--as-of",
                as_of.isoformat(),
            ],
        ),
        ("ingest + expectations", [*materialize, "group:ingest"]),
        ("dbt build (models + tests)", [*materialize, "group:transform"]),
        ("publish", [*materialize, "group:publish"]),
    ]
    measurements = []
    for stage, command in stages:
        print(f"== {stage}", flush=True)
        measurements.append(measure(stage, command, env))
        if measurements[-1].returncode != 0:
            break
    order_lines = _count_lines(sorted(landing.glob("erp_orders*.csv")))
    print()
    print(format_report(customers, order_lines, measurements))
    return 0 if all(measurement.returncode == 0 for measurement in measurements) else 1


def _count_lines(paths: list[Path]) -> int:
    count = 0
    for path in paths:
        with path.open("rb") as handle:
            count += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1
    return count
