"""The nightly schedule: 02:00 Asia/Shanghai, after the CRM and ERP extracts have landed."""

import dagster as dg

from orchestration.defs.jobs import nightly_tiering_job

nightly_schedule = dg.ScheduleDefinition(
    job=nightly_tiering_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(schedules=[nightly_schedule])
