"""The Dagster code location: load and merge the definitions of each module under defs/."""

import dagster as dg

from orchestration.defs import assets, config, jobs, resources, schedules, sensors

defs = dg.Definitions.merge(assets.defs, config.defs, jobs.defs, resources.defs, schedules.defs, sensors.defs)
