"""Resources shared by the assets: the dbt CLI, with the dbt of this environment."""

import importlib.metadata
import os
import sys
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.dbt_invocation import dbt_executable
from orchestration.defs.project import dbt_project

_WRAPPER = """#!{python}
# Written by orchestration/defs/resources.py: runs dbt so that it dies with the job's process.
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() == 1:  # the job died before this line
    sys.exit(1)
os.execv({dbt!r}, [{dbt!r}, *sys.argv[1:]])
"""


def _dbt_dying_with_parent(dbt: str) -> str:
    """A wrapper that runs ``dbt`` as a child that dies with the job: a job killed while dbt
    builds must not leave dbt writing to the warehouse (and holding DuckDB's lock on it) after
    it. Linux only (prctl); elsewhere dbt itself."""
    if not sys.platform.startswith("linux"):
        return dbt
    wrapper = dbt_project.project_dir / "target" / ".dbt-dying-with-parent"
    text = _WRAPPER.format(python=sys.executable, dbt=dbt)
    if not wrapper.exists() or wrapper.read_text(encoding="utf-8") != text:
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        staged = wrapper.with_name(f"{wrapper.name}.{os.getpid()}")
        staged.write_text(text, encoding="utf-8")
        staged.chmod(0o755)
        os.replace(staged, wrapper)
    return str(wrapper)


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
    resources={
        "dbt": TieringDbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_dying_with_parent(dbt_executable()))
    },
)
