"""All assets of the code location: ingest and the rubric check → dbt → publish."""

import dagster as dg

from orchestration.defs.assets import dbt, ingest, publish, rubric

defs = dg.Definitions.merge(ingest.defs, rubric.defs, dbt.defs, publish.defs)
