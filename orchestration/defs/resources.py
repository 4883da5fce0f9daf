"""Resources shared by the assets: the dbt CLI, with the dbt of this environment."""

import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.project import dbt_project


def _dbt_executable() -> str:
    """dbt from the same environment as this Python, so a venv need not be on PATH."""
    beside_python = Path(sys.executable).with_name("dbt")
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


defs = dg.Definitions(
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable())},
)
