"""The rubric check: the seeds are read and checked before anything loads or builds.

A broken configuration (weights that do not sum to 100, overlapping bands, a tier range with
a gap, an indicator that does not exist, an unknown preset) fails this step with every
offending file and row named, one asset check per seed file; everything downstream waits for
it, so nothing is loaded, built or published.
"""

import dagster as dg

from orchestration.defs.config import ONE_DATE_PER_RUN, TieringConfig, as_of_partitions
from orchestration.defs.metadata import OWNERS
from tiering.rubric import checks as rubric

RUBRIC_CHECK_KEY = dg.AssetKey(["rubric", "configuration"])

# One check per seed file the rubric check reads.
SEED_CHECKS = {
    rubric.DIMENSIONS_FILE: "dimensions_valid",
    rubric.INDICATORS_FILE: "indicators_valid",
    rubric.BANDS_FILE: "bands_valid",
    rubric.CATEGORIES_FILE: "categories_valid",
    rubric.TIERS_FILE: "tiers_valid",
    rubric.SETTINGS_FILE: "settings_valid",
    rubric.GROWTH_FILE: "industry_growth_rates_valid",
}


@dg.asset(
    key=RUBRIC_CHECK_KEY,
    partitions_def=as_of_partitions,
    backfill_policy=ONE_DATE_PER_RUN,
    group_name="rubric",
    owners=OWNERS,
    tags={"layer": "configuration"},
    kinds={"python", "csv"},
    description=(
        "The rubric seeds (seeds/rubric_*.csv, industry_growth_rates.csv) checked before anything else: "
        "weights sum to 100 per dimension and across dimensions, bands tile the number line, tier "
        "bands cover 0-100, every referenced indicator exists, the preset TIERING_RUBRIC exists."
    ),
    check_specs=[
        dg.AssetCheckSpec(name, asset=RUBRIC_CHECK_KEY, blocking=True, description=f"seeds/{seed} is consistent")
        for seed, name in SEED_CHECKS.items()
    ],
)
def rubric_configuration(context: dg.AssetExecutionContext, tiering: TieringConfig):
    config = tiering.settings(context)
    problems = rubric.check_rubric(config.seeds_dir, active=config.rubric)
    for seed, name in SEED_CHECKS.items():
        found = [problem for problem in problems if problem.file == seed]
        yield dg.AssetCheckResult(
            asset_key=RUBRIC_CHECK_KEY,
            check_name=name,
            passed=not found,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in found) or "none")},
        )
    if problems:
        raise dg.Failure(description=str(rubric.RubricError(problems)), metadata={"problems": len(problems)})
    active = rubric.load_rubric(config.rubric, config.seeds_dir)
    context.log.info(
        f"Rubric {config.rubric!r}: {len(active.dimensions)} dimensions, {len(active.indicators)} indicators"
    )
    yield dg.MaterializeResult(
        metadata={
            "rubric": config.rubric,
            "dimensions": ", ".join(f"{name} {weight}%" for name, weight in active.dimensions.items()),
            "indicators": len(active.indicators),
        }
    )


defs = dg.Definitions(assets=[rubric_configuration])
