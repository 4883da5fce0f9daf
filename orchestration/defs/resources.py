"""Resources shared by the assets: the dbt CLI, with the dbt of this environment."""

import shutil
import sys
from pathlib import Path

import dagster as dg
import dagster_dbt
from dagster_dbt import DbtCliResource

from orchestration.defs.project import dbt_project


def _dbt_executable() -> str:
    """dbt from the same environment as dagster-dbt, so a venv need not be on PATH.

    `dagster dev` may start the code server with the base interpreter and the venv's
    packages on its path, so sys.executable alone does not find it."""
    # <venv>/lib/pythonX.Y/site-packages/dagster_dbt/__init__.py -> <venv>/bin/dbt
    installed_beside = Path(dagster_dbt.__file__).resolve().parents[4] / "bin" / "dbt"
    for candidate in (Path(sys.prefix) / "bin" / "dbt", Path(sys.executable).with_name("dbt"), installed_beside):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


defs = dg.Definitions(
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable())},
)
