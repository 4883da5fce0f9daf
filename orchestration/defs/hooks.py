"""Hooks of the nightly job: downgrade alerts after a successful publish, and taking a failed
run's deliveries back out."""

from datetime import date

import dagster as dg

from orchestration.defs.config import TieringConfig
from tiering.publish import alerts

PUBLISH_STEP = "serving__tiering"


def _settings(context: dg.HookContext):
    config: TieringConfig = context.resources.tiering
    run = context.instance.get_run_by_id(context.run_id)
    return config.settings_for(date.fromisoformat(run.tags["dagster/partition"]))


@dg.success_hook(name="downgrade_alerts", required_resource_keys={"tiering"})
def downgrade_alerts(context: dg.HookContext) -> None:
    if context.op.name != PUBLISH_STEP:
        return
    config = _settings(context)
    downgrades = alerts.find_downgrades(config.serving_path, config.as_of.isoformat())
    alerts.load_notifier(config.notifier, config.serving_dir).notify(downgrades)
    context.log.info(f"{len(downgrades)} downgrade(s) of strategic or key customers on {config.as_of}")


@dg.failure_hook(name="roll_back_deliveries", required_resource_keys={"tiering"})
def roll_back_deliveries(context: dg.HookContext) -> None:
    """A failed step takes the run's pending deliveries back out of the raw tables, so the
    warehouse is as before the run and the next run (with a corrected file) needs no hand work.
    A run killed before this hook runs is rolled back by the next run's first step."""
    from orchestration.defs import load_ahead
    from tiering.ingest import ledger
    from tiering.warehouse import connect_when_free

    load_ahead.stop(context.run_id)  # a load under way ahead of its step finishes first; none starts after it
    config = _settings(context)
    if not config.warehouse_path.exists():
        return
    # A failed dbt step may leave its dbt process finishing a statement with the file locked.
    with connect_when_free(
        config.warehouse_path, wait_seconds=config.lock_wait_seconds, config=config.duckdb_config, log=context.log
    ) as connection:
        ledger.ensure_raw_schema(connection)
        removed = ledger.rollback_batch(connection, context.run_id, f"step {context.op.name} failed")
    for delivery in removed:
        context.log.warning(f"Rolled back {delivery.source_file} ({delivery.entity}): step {context.op.name} failed")
