"""The run's hold on the warehouse: a resource that takes the run lock for the whole run."""

import contextlib
from datetime import date

import dagster as dg
from pydantic import PrivateAttr

from orchestration.defs.config import TieringConfig
from tiering.warehouse import LockedError, run_lock


class WarehouseLock(dg.ConfigurableResource):
    """One run at a time: the lock on the data folder is taken when the run starts and released
    when it ends (or its process dies). A second run waits up to TIERING_LOCK_WAIT_SECONDS, then
    fails naming the run that holds it."""

    tiering: dg.ResourceDependency[TieringConfig]
    _stack: contextlib.ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        partition = (context.dagster_run.tags if context.dagster_run else {}).get("dagster/partition")
        config = self.tiering.settings_for(date.fromisoformat(partition) if partition else date.today())
        run_id = context.run_id or "a run"
        self._stack = contextlib.ExitStack()
        try:
            self._stack.enter_context(
                run_lock(config.data_dir, f"run {run_id[:8]}", wait_seconds=config.lock_wait_seconds)
            )
        except LockedError as error:
            self._stack = None
            raise dg.Failure(description=str(error)) from error

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        from orchestration.defs import load_ahead

        if context.run_id:  # a run ended or terminated: its loads end before its lock
            load_ahead.stop(context.run_id)
        if self._stack is not None:
            self._stack.close()
            self._stack = None
