"""`make run` talks like a tool: one line per stage, the summary once, the full logs in a file."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from orchestration.instance import ensure
from tiering.demo.generate import generate_demo_extracts

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_job(*args: str, timeout: int, **settings: str) -> subprocess.CompletedProcess:
    """`python -m orchestration.run` as `make run` starts it, with only the given settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TIERING_", "DAGSTER_"))}
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.run", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_run_prints_a_line_per_stage_the_summary_once_and_where_everything_is(tmp_path):
    landing, data_dir, home = tmp_path / "landing", tmp_path / "data", tmp_path / "dagster"
    generate_demo_extracts(landing, customers=120, seed=11, as_of=date(2026, 3, 31))
    ensure(home)

    completed = run_job(
        "--as-of",
        "2026-03-31",
        timeout=600,
        TIERING_LANDING_DIR=str(landing),
        TIERING_DATA_DIR=str(data_dir),
        DAGSTER_HOME=str(home),
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("Nightly tiering run as of 2026-03-31 (log: ")
    stages = [line[4:34].strip() for line in lines if line.startswith("  ✓ ")]
    assert stages == [
        "rubric check",
        "warehouse backup",
        "landing folder",
        "load crm_customers",
        "load erp_customers",
        "load erp_products",
        "load crm_complaints",
        "load erp_receivables",
        "load erp_orders",
        "dbt build (models and tests)",
        "publish",
    ]
    assert sum(line.startswith("Tier summary (computed tier) as of 2026-03-31") for line in lines) == 1
    assert sum(line.startswith("Tier summary (effective tier) as of 2026-03-31") for line in lines) == 1
    assert any(line.startswith("Published (open read-only): ") for line in lines)
    assert len(lines) < 45
    for noise in ("DEBUG", "telemetry", "dagster.yaml", "Warning", "STEP_START"):
        assert noise not in completed.stdout and noise not in completed.stderr, noise
    log = Path(lines[0].split("(log: ")[1].rstrip(")"))
    assert log.parent == data_dir / "logs"
    assert "STEP_SUCCESS" in log.read_text(encoding="utf-8")


def test_an_as_of_date_the_job_does_not_run_for_is_refused_on_the_terminal(tmp_path):
    completed = run_job(
        "--as-of",
        "2999-01-01",
        timeout=120,
        TIERING_LANDING_DIR=str(tmp_path / "landing"),
        TIERING_DATA_DIR=str(tmp_path / "data"),
    )

    assert completed.returncode == 2
    assert completed.stderr.startswith(
        "error: no run for the as-of date 2999-01-01: the job runs for 2020-01-01 to today"
    )
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert not (tmp_path / "data").exists()  # nothing started: no log, no warehouse
