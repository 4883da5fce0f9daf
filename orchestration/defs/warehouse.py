"""The run's hold on the warehouse: a resource that takes the run lock for the whole run."""

import contextlib

import dagster as dg
from pydantic import PrivateAttr

from tiering import settings
from tiering.warehouse import LockedError, run_lock


class WarehouseLock(dg.ConfigurableResource):
    """One run at a time: the lock on $TIERING_DATA_DIR is taken when the run starts and
    released when it ends (or its process dies). A second run waits up to
    TIERING_LOCK_WAIT_SECONDS, then fails naming the run that holds it."""

    _stack: contextlib.ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        config = settings.load()
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
        if self._stack is not None:
            self._stack.close()
            self._stack = None


defs = dg.Definitions(resources={"warehouse_lock": WarehouseLock()})
