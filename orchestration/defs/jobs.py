"""The nightly job: every asset, for one as-of date (a daily partition): the rubric check,
ingest and checks, the dbt build, publish.

Steps run in one process, one after another: DuckDB allows one writer per file, and the heavy
lifting happens inside DuckDB and dbt anyway. Runs queue one at a time (dagster.yaml), so a
backfill builds history date by date, in order.
"""

import dagster as dg

from orchestration.defs.config import as_of_partitions
from orchestration.defs.hooks import downgrade_alerts, roll_back_deliveries

nightly_tiering_job = dg.define_asset_job(
    "nightly_tiering",
    selection=dg.AssetSelection.all(),
    partitions_def=as_of_partitions,
    description="Land new extracts, check them, build and test the dbt models, publish for BI.",
    hooks={downgrade_alerts, roll_back_deliveries},
)

defs = dg.Definitions(jobs=[nightly_tiering_job], executor=dg.in_process_executor)
