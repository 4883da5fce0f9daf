"""Resources shared by the assets: the dbt CLI, with the dbt of this environment."""

import importlib.metadata
import shutil
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
import dagster_dbt
from dagster_dbt import DbtCliResource
from packaging import version

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


class TieringDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI without two probes it makes before every invocation, which cost
    about three seconds a run and feed features we do not use: ``dbt --version`` in a
    subprocess (the version is pinned; we read it from the installed package) and a dbt adapter
    opened in this process (only for fetching row counts and column metadata)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001, ANN202 - dagster-dbt's own signature
        return None


defs = dg.Definitions(
    resources={"dbt": TieringDbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable())},
)
