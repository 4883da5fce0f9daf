"""Resources shared by the assets: the dbt CLI, with the dbt of this environment."""

import importlib.metadata
import os
import sys
import threading
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version
from pydantic import PrivateAttr

from orchestration import dbt_warm
from orchestration.dbt_invocation import dbt_executable, warm_build
from orchestration.defs.project import dbt_project
from tiering import settings

_WRAPPER = """#!{python}
# Written by orchestration/defs/resources.py: runs dbt so that it dies with the job's process,
# in the run's warm dbt process when there is one (orchestration/dbt_warm.py).
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() == 1:  # the job died before this line
    sys.exit(1)
# SIGINT (dagster-dbt's cancel) and SIGTERM stop dbt, whatever the job ignored or blocked.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))
warm = os.environ.pop({socket_env!r}, None)
if warm:
    sys.path.insert(0, {root!r})
    try:
        from orchestration.dbt_warm import hand_over
    except ImportError:
        pass
    else:
        hand_over(warm, [{dbt!r}, *sys.argv[1:]])
os.execv({dbt!r}, [{dbt!r}, *sys.argv[1:]])
"""


def _dbt_dying_with_parent(dbt: str) -> str:
    """A wrapper that runs ``dbt`` as a child that dies with the job: a job killed while dbt
    builds must not leave dbt writing to the warehouse (and holding DuckDB's lock on it) after
    it. Linux only (prctl); elsewhere dbt itself."""
    if not sys.platform.startswith("linux"):
        return dbt
    wrapper = dbt_project.project_dir / "target" / ".dbt-dying-with-parent"
    text = _WRAPPER.format(python=sys.executable, dbt=dbt, socket_env=dbt_warm.SOCKET_ENV, root=str(dbt_warm.ROOT))
    if not wrapper.exists() or wrapper.read_text(encoding="utf-8") != text:
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        staged = wrapper.with_name(f"{wrapper.name}.{os.getpid()}")
        staged.write_text(text, encoding="utf-8")
        staged.chmod(0o755)
        os.replace(staged, wrapper)
    return str(wrapper)


def _expected_build() -> list[str] | None:
    """The dbt build a run of the configuration in the environment starts, for the warm dbt to
    parse for (a run whose run config says otherwise starts another, which parses for itself);
    None on Spark, whose adapter the warm process does not import, or with a setting the run
    will refuse anyway."""
    try:
        config = settings.load()
    except settings.SettingsError:
        return None
    return warm_build(config)


# Held while a warm dbt is offered through this process's environment.
_OFFERING = threading.Lock()


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

    # A run's dbt, started with the run, importing itself and parsing the project while the
    # extracts load (orchestration/dbt_warm.py): it spares the dbt step about three seconds.
    _warm: dbt_warm.WarmDbt | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        super().setup_for_execution(context)
        # The one the job's entry point started before importing Dagster, if it expects this build.
        self._warm = dbt_warm.take(_expected_build())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._warm is not None:
            self._warm.close()
            self._warm = None

    def cli(self, args, **kwargs):  # noqa: ANN001, ANN003, ANN201 - dagster-dbt's own signature
        """dagster-dbt's, with the warm dbt offered to the process it starts: the wrapper finds
        it through the environment, which dagster-dbt copies when it starts the process."""
        if self._warm is None:
            return super().cli(args, **kwargs)
        with _OFFERING:  # one dbt process at a time sees it in the environment
            os.environ[dbt_warm.SOCKET_ENV] = self._warm.name
            try:
                return super().cli(args, **kwargs)
            finally:
                os.environ.pop(dbt_warm.SOCKET_ENV, None)


defs = dg.Definitions(
    resources={
        "dbt": TieringDbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_dying_with_parent(dbt_executable()))
    },
)
