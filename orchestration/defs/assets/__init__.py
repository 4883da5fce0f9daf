"""All assets of the code location: ingest → dbt → publish."""

import dagster as dg

from orchestration.defs.assets import dbt, ingest, publish

defs = dg.Definitions.merge(ingest.defs, dbt.defs, publish.defs)
