"""Sensors: a run when new extract files land (so a late delivery need not wait a night), and
every failed run handed to the same notifier as the downgrade alerts."""

import json

import dagster as dg

from orchestration.defs.config import TieringConfig
from orchestration.defs.jobs import nightly_tiering_job
from tiering import settings
from tiering.ingest.landing import landing_fingerprints
from tiering.publish import alerts


@dg.sensor(job=nightly_tiering_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def new_extracts_sensor(context: dg.SensorEvaluationContext, tiering: TieringConfig):
    """Requests today's partition when a file appears (or changes) in the landing folder."""
    config = tiering.settings_for(settings.today_in_shanghai())
    current = landing_fingerprints(config.landing_dir, config.sources)
    seen = json.loads(context.cursor) if context.cursor else {}
    new_files = sorted(name for name, fingerprint in current.items() if seen.get(name) != fingerprint)
    if not new_files:
        return dg.SkipReason("No new extract files in the landing folder.")
    context.update_cursor(json.dumps(current, sort_keys=True))
    return dg.RunRequest(
        run_key="|".join(f"{name}:{current[name]}" for name in new_files),
        partition_key=config.as_of.isoformat(),
        tags={"tiering/new_files": ", ".join(new_files)[:1000]},
    )


@dg.run_failure_sensor(name="run_failure_alerts", default_status=dg.DefaultSensorStatus.RUNNING)
def run_failure_alerts(context: dg.RunFailureSensorContext, tiering: TieringConfig) -> None:
    """Hands a failed run to the notifier (TIERING_NOTIFIER) with what failed and why."""
    run = context.dagster_run
    as_of = run.tags.get("dagster/partition") or settings.today_in_shanghai().isoformat()
    config = tiering.settings_for(settings.parse_as_of(as_of, "partition"))
    failure = alerts.RunFailure(
        run_id=run.run_id,
        job=run.job_name,
        as_of_date=as_of,
        message=context.failure_event.message or "the run failed",
        failed_steps=[event.step_key for event in context.get_step_failure_events() if event.step_key],
    )
    alerts.load_notifier(config.notifier, config.serving_dir).notify_failure(failure)


defs = dg.Definitions(sensors=[new_extracts_sensor, run_failure_alerts])
