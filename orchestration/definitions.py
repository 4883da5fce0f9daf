"""The Dagster code location: load and merge the definitions of each module under defs/."""

import dagster as dg

from orchestration.defs import assets, jobs, resources, schedules, sensors, warehouse

defs = dg.Definitions.merge(assets.defs, jobs.defs, resources.defs, schedules.defs, sensors.defs, warehouse.defs)
