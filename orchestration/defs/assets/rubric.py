"""The rubric check: the seeds are read and checked before dbt builds anything.

A broken configuration (weights that do not sum to 100, overlapping bands, a tier range with
a gap, an indicator that does not exist) fails this asset with every offending file and row
named; the dbt seeds depend on it, so nothing is built or published.
"""

import dagster as dg

from tiering import settings
from tiering.rubric import checks as rubric

RUBRIC_CHECK_KEY = dg.AssetKey(["rubric", "configuration"])


@dg.asset(
    key=RUBRIC_CHECK_KEY,
    group_name="rubric",
    kinds={"python", "csv"},
    description=(
        "The rubric seeds (seeds/rubric_*.csv, industry_growth_rates.csv) checked before any model: "
        "weights sum to 100 per dimension and across dimensions, bands tile the number line, tier "
        "bands cover 0-100, every referenced indicator exists, the preset TIERING_RUBRIC exists."
    ),
)
def rubric_configuration(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    config = settings.load()
    try:
        rubric.validate_rubric(rubric.SEEDS_DIR, active=config.rubric)
    except rubric.RubricError as error:
        raise dg.Failure(description=str(error), metadata={"problems": len(error.problems)}) from error
    active = rubric.load_rubric(config.rubric)
    context.log.info(
        f"Rubric {config.rubric!r}: {len(active.dimensions)} dimensions, {len(active.indicators)} indicators"
    )
    return dg.MaterializeResult(
        metadata={
            "rubric": config.rubric,
            "dimensions": ", ".join(f"{name} {weight}%" for name, weight in active.dimensions.items()),
            "indicators": len(active.indicators),
        }
    )


defs = dg.Definitions(assets=[rubric_configuration])
