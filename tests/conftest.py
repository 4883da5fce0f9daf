"""Shared fixtures: a real dbt manifest, and a way to run the real nightly job in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")


# The modules that run the whole job (Dagster, dbt, DuckDB, GX) or a dbt build: marked `e2e`, so
# `pytest -m "not e2e"` runs the unit tests alone.
E2E_MODULES = {
    "test_bi_outputs",
    "test_cleaning",
    "test_dbt_unit_tests",
    "test_exact_ratio",
    "test_history",
    "test_name_normalisation",
    "test_periods",
    "test_pipeline_e2e",
    "test_recovery",
    "test_retier_triggers",
    "test_scoring_audit",
    "test_terminal",
}


# `make test` runs the suite in one process a core, a module to a process at a time (pytest-xdist,
# --dist loadfile), in the order collected: the longest modules first, so that the workers finish
# together rather than one waiting on a long module started last.
LONGEST_FIRST = ("test_recovery", "test_pipeline_e2e")


def _module_name(item: pytest.Item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1] if item.module is not None else ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _module_name(item) in E2E_MODULES:
            item.add_marker(pytest.mark.e2e)

    def rank(item: pytest.Item) -> tuple[int, int]:
        name = _module_name(item)
        if name in LONGEST_FIRST:
            return (0, LONGEST_FIRST.index(name))
        return (1, 0) if name in E2E_MODULES else (2, 0)

    items.sort(key=rank)  # stable: the order within a module stays as written


def pytest_configure(config: pytest.Config) -> None:
    """Dagster builds its asset graph from the manifest: parse the project once per session,
    before any test. Under pytest-xdist (`make test` runs a worker a core) the controller parses and
    the workers, which start after it, only read: two parses writing target/ at once while a
    worker loads the manifest would race."""
    if hasattr(config, "workerinput"):
        return
    dbt = Path(sys.executable).with_name("dbt")
    if not (REPO_ROOT / "dbt_project" / "dbt_packages" / "dbt_utils").exists():
        subprocess.run([str(dbt), "deps", "--quiet", "--profiles-dir", "."], cwd=REPO_ROOT / "dbt_project", check=True)
    subprocess.run(
        [str(dbt), "parse", "--quiet", "--profiles-dir", "."],
        cwd=REPO_ROOT / "dbt_project",
        check=True,
    )


def run_dbt(args: list[str], work_dir: Path, variables: dict | None = None, *, check: bool = True):
    """dbt's CLI on the project, with its target folder and the warehouse it opens in ``work_dir``."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            *args,
            "--vars",
            json.dumps({**(variables or {}), "warehouse_path": str(work_dir / "warehouse.duckdb")}),
            "--target-path",
            str(work_dir / "target"),
            "--profiles-dir",
            ".",
        ],
        cwd=REPO_ROOT / "dbt_project",
        capture_output=True,
        text=True,
        check=check,
    )


def compile_inline(sql: str, work_dir: Path) -> str:
    """``sql`` as the dbt project compiles it (`dbt compile --inline`): its macros expanded for
    DuckDB. dbt's target folder and the warehouse it opens are in ``work_dir``."""
    return run_dbt(["compile", "--quiet", "--inline", sql], work_dir).stdout


@dataclass
class PipelineRun:
    success: bool
    result: object
    data_dir: Path

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving" / "tiering.duckdb"

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.serving_path), read_only=True) as connection:
            return connection.execute(sql, parameters or []).fetchall()

    def warehouse_query(self, sql: str) -> list[tuple]:
        """``sql`` over the build's warehouse, with its marts file attached as ``marts``."""
        with duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True) as connection:
            connection.execute(f"attach '{self.data_dir / 'marts.duckdb'}' as marts (read_only)")
            return connection.execute(sql).fetchall()


def run_nightly_job(
    monkeypatch: pytest.MonkeyPatch,
    landing_dir: Path,
    data_dir: Path,
    as_of: str,
    rubric: str = "default",
    *,
    configure_environment: bool = False,
    **settings: str,
) -> PipelineRun:
    """Run the real nightly job (ingest, checks, dbt build, publish) for one as-of date (its
    partition), with an explicit configuration: the given folders, rubric and settings; with
    ``configure_environment``, also set as TIERING_* variables (undone by ``monkeypatch``)."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.config import TieringConfig

    config = TieringConfig(landing_dir=str(landing_dir), data_dir=str(data_dir), rubric=rubric, **settings)
    if configure_environment:
        # The environment says the same, as where a deployment configures its runs: the run's
        # warm dbt then parses ahead for this run's build (orchestration/dbt_warm.py).
        for name, value in config.values().items():
            monkeypatch.setenv(name, value)
    job = defs.resolve_job_def("nightly_tiering")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            partition_key=as_of, instance=instance, raise_on_error=False, resources={"tiering": config}
        )
    return PipelineRun(success=result.success, result=result, data_dir=data_dir)


@pytest.fixture
def run_pipeline(monkeypatch: pytest.MonkeyPatch):
    def run(landing_dir: Path, data_dir: Path, as_of: str, rubric: str = "default", **settings: str) -> PipelineRun:
        return run_nightly_job(monkeypatch, landing_dir, data_dir, as_of, rubric, **settings)

    return run
