"""The nightly schedule: 02:00 Asia/Shanghai, after the CRM and ERP extracts have landed; each
tick materialises that day's partition (its as-of date)."""

import dagster as dg

from orchestration.defs.jobs import nightly_tiering_job
from tiering.settings import TIMEZONE


@dg.schedule(
    name="nightly_tiering_schedule",
    job=nightly_tiering_job,
    cron_schedule="0 2 * * *",
    execution_timezone=str(TIMEZONE),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    as_of = context.scheduled_execution_time.astimezone(TIMEZONE).date().isoformat()
    return dg.RunRequest(run_key=as_of, partition_key=as_of)


defs = dg.Definitions(schedules=[nightly_schedule])
