"""Start a run when new extract files land, so a late delivery need not wait a night."""

import json

import dagster as dg

from orchestration.defs.jobs import nightly_tiering_job
from tiering import settings
from tiering.ingest.landing import landing_fingerprints


@dg.sensor(job=nightly_tiering_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def new_extracts_sensor(context: dg.SensorEvaluationContext):
    """Requests a run when a file appears (or changes) in the landing folder."""
    current = landing_fingerprints(settings.load().landing_dir)
    seen = json.loads(context.cursor) if context.cursor else {}
    new_files = sorted(name for name, fingerprint in current.items() if seen.get(name) != fingerprint)
    if not new_files:
        return dg.SkipReason("No new extract files in the landing folder.")
    context.update_cursor(json.dumps(current, sort_keys=True))
    return dg.RunRequest(
        run_key="|".join(f"{name}:{current[name]}" for name in new_files),
        tags={"tiering/new_files": ", ".join(new_files)[:1000]},
    )


defs = dg.Definitions(sensors=[new_extracts_sensor])
