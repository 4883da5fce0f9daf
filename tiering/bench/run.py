"""`make bench`: the nightly job at a scale, beside two baselines, on the same extracts.

One invocation generates (or reuses) demo extracts of N customers, then runs, each as its own
process and measured from outside: the full nightly job (``python -m orchestration.run``), one DuckDB
SQL statement and a pandas script that compute the value dimension per customer
(``tiering.bench.baselines``). It prints each one's wall time and peak memory (the largest
total resident memory of the process and all it started, sampled), the ratios job/DuckDB and
pandas/job, the job's time per step, and checks that the baselines' value scores equal the
published ones. A benchmark, not a test: it asserts nothing about speed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tiering.settings import today_in_shanghai
from tiering.sql import literal


@dataclass(frozen=True)
class Measurement:
    name: str
    seconds: float
    peak_total_rss_mib: float  # the process tree, summed, at its largest
    peak_process_rss_mib: float  # the largest single process (the kernel's own accounting)
    returncode: int


def _children(pid: int) -> list[int]:
    """Every descendant of pid, from /proc (Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(name: str, command: list[str], env: dict[str, str], log_path: Path) -> Measurement:
    """Run a command, its output to log_path; wall time and peak memory of it and its children."""
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_rss_kib(pid) for pid in [process.pid, *_children(process.pid)]))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux; a child's includes the largest of its own children.
    return Measurement(name, seconds, peak / 1024, usage.ru_maxrss / 1024, process.returncode)


def _generate_once(landing: Path, customers: int, seed: int, as_of: date, env: dict[str, str]) -> Measurement | None:
    """Generate the extracts unless this folder already holds them for the same arguments."""
    marker = landing / ".generated.json"
    wanted = {"customers": customers, "seed": seed, "as_of": as_of.isoformat()}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return None
    shutil.rmtree(landing, ignore_errors=True)
    command = [sys.executable, "-m", "tiering.demo.generate", "--landing-dir", str(landing)]
    command += ["--customers", str(customers), "--seed", str(seed), "--as-of", as_of.isoformat()]
    measurement = measure("generate demo extracts", command, env, landing.parent / "generate.log")
    if measurement.returncode == 0:
        marker.write_text(json.dumps(wanted))
    return measurement


def step_seconds(dagster_home: Path) -> dict[str, float]:
    """Wall seconds of each step of the latest run in this Dagster instance."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return {}
        stats = instance.get_run_step_stats(runs[0].run_id)
    return {stat.step_key: (stat.end_time or 0) - (stat.start_time or 0) for stat in stats if stat.start_time}


def compare_value_scores(serving_path: Path, baseline: Path, as_of: date) -> tuple[int, int, list[str]]:
    """Published value scores against a baseline's, on the customers both define alike.

    The baselines join CRM and ERP by credit code and do no cleaning, so the comparison takes the
    golden customers made of exactly one CRM and one ERP record matched by a valid credit code,
    with no value indicator imputed or touched by an outlier rule. Returns (compared, equal,
    up to 10 customer ids that differ).
    """
    import duckdb

    with duckdb.connect() as connection:
        connection.execute(f"attach {literal(serving_path)} as serving (read_only)")
        rows = connection.execute(
            """
            with cleaned as (
                select customer_id, bool_or(is_imputed or is_outlier_affected) as is_cleaned
                from serving.customer_indicator_scores
                where dimension = 'value' and as_of_date = $as_of
                group by customer_id
            ),
            pairs as (
                select customer_id
                from serving.customer_crosswalk
                where as_of_date = $as_of
                group by customer_id
                having count(*) = 2 and count(*) filter (where match_rule = 'credit_code') = 2
                    and count(*) filter (where source_system = 'crm') = 1
            )
            select count(*), count(*) filter (where abs(tiers.value_score - baseline.value_score) < 1e-9),
                   (list(tiers.customer_id order by tiers.customer_id)
                        filter (where abs(tiers.value_score - baseline.value_score) >= 1e-9))[1:10]
            from serving.customer_tiers as tiers
            inner join pairs using (customer_id)
            inner join cleaned using (customer_id)
            inner join read_parquet($baseline) as baseline on tiers.customer_id = baseline.crm_customer_id
            where tiers.as_of_date = $as_of and not cleaned.is_cleaned and tiers.value_score is not null
            """,
            {"as_of": as_of, "baseline": str(baseline)},
        ).fetchall()
    compared, equal, differing = rows[0]
    return compared, equal, differing or []


def format_report(customers: int, order_lines: int, results: list[Measurement], steps: dict[str, float]) -> str:
    cores = os.cpu_count()
    lines = [
        f"Benchmark: {customers:,} customers, {order_lines:,} order lines, {cores} cores",
        "",
        "| run | wall time (s) | peak memory, all processes (MiB) | largest process (MiB) |",
        "|---|---:|---:|---:|",
    ]
    for result in results:
        failed = "" if result.returncode == 0 else f" (failed, exit {result.returncode})"
        lines.append(
            f"| {result.name}{failed} | {result.seconds:,.1f} | {result.peak_total_rss_mib:,.0f} "
            f"| {result.peak_process_rss_mib:,.0f} |"
        )
    by_name = {result.name: result for result in results}
    job, duck, pandas = (by_name.get(name) for name in ("nightly job", "DuckDB statement", "pandas script"))
    if job and duck:
        lines.append(f"\njob / DuckDB statement: {job.seconds / duck.seconds:,.1f}×")
    if job and pandas:
        lines.append(f"pandas script / job: {pandas.seconds / job.seconds:,.2f}×")
    if steps:
        lines += ["", "| job step | wall time (s) |", "|---|---:|"]
        lines += [f"| {step} | {seconds:,.1f} |" for step, seconds in sorted(steps.items(), key=lambda item: -item[1])]
    return "\n".join(lines)


def run_benchmark(*, customers: int, workdir: Path, seed: int = 7, as_of: date | None = None) -> int:
    as_of = as_of or today_in_shanghai()
    root = workdir / f"{customers}"
    landing, data_dir, dagster_home = root / "landing", root / "data", root / "dagster"
    root.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "TIERING_LANDING_DIR": str(landing),
        "TIERING_DATA_DIR": str(data_dir),
        "TIERING_AS_OF": as_of.isoformat(),
        "DAGSTER_HOME": str(dagster_home),
        "GX_ANALYTICS_ENABLED": "False",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }
    results: list[Measurement] = []
    print(f"== extracts of {customers:,} customers in {landing}", flush=True)
    generated = _generate_once(landing, customers, seed, as_of, env)
    if generated:
        results.append(generated)
        if generated.returncode != 0:
            print(format_report(customers, 0, results, {}))
            return 1
    # Every run starts from an empty warehouse, the first night; the Dagster instance stays, as
    # it does between nights, configured as `make run` configures it (`make instance`).
    shutil.rmtree(data_dir, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "orchestration.instance"], env=env, check=True)
    # As `make run` does before the job (`make manifest`): dbt parses the project with this
    # configuration's vars, so the job reuses that parse as a nightly run does, instead of
    # parsing again because the data folder differs from the one last parsed for.
    subprocess.run([sys.executable, "-m", "orchestration.dbt_invocation"], env=env, check=True)
    print("== nightly job", flush=True)
    job_command = [sys.executable, "-m", "orchestration.run"]
    results.append(measure("nightly job", job_command, env, root / "job.log"))
    scores = {}
    for engine, name in (("duckdb", "DuckDB statement"), ("pandas", "pandas script")):
        print(f"== baseline: {name}", flush=True)
        scores[engine] = root / f"value_scores_{engine}.parquet"
        command = [sys.executable, "-m", "tiering.bench.baselines", engine, str(landing), as_of.isoformat()]
        results.append(measure(name, [*command, str(scores[engine])], env, root / f"baseline_{engine}.log"))

    order_lines = _count_lines(sorted(landing.glob("erp_orders*.csv")))
    steps = step_seconds(dagster_home) if results[-3].returncode == 0 else {}
    print()
    print(format_report(customers, order_lines, results, steps))
    print(f"\nThe job's log: {root / 'job.log'}")
    if any(result.returncode != 0 for result in results):
        return 1
    serving_path = data_dir / "serving" / "tiering.duckdb"
    mismatched = False
    for engine, path in scores.items():
        compared, equal, differing = compare_value_scores(serving_path, path, as_of)
        print(f"value scores, {engine} baseline vs published: {equal:,} of {compared:,} customers equal")
        if compared == 0 or equal != compared:
            mismatched = True
            print(f"  differ: {', '.join(differing)}")
    return 1 if mismatched else 0


def _count_lines(paths: list[Path]) -> int:
    count = 0
    for path in paths:
        with path.open("rb") as handle:
            count += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1
    return count
