"""Publish asset: after a fully successful build, swap the marts into the serving folder."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.assets.dbt import tiering_dbt
from tiering import settings
from tiering.publish import report
from tiering.publish import serving as publish


@dg.asset(
    key=dg.AssetKey(["serving", "tiering"]),
    group_name="publish",
    kinds={"duckdb", "parquet"},
    deps=[get_asset_key_for_model([tiering_dbt], model) for model in publish.PUBLISHED_TABLES],
    description=(
        "The published tier tables for BI: serving/tiering.duckdb and serving/parquet/*.parquet, "
        "replaced whole by an atomic rename only after every upstream step and blocking check passed."
    ),
)
def serving_tiering(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    config = settings.load()
    publication = publish.publish(
        config.warehouse_path,
        config.serving_path,
        config.parquet_dir,
        run_id=context.run_id,
        as_of=config.as_of.isoformat(),
    )
    # The auditor report reads the published (masked) tables only.
    audit_report = report.write_report(
        config.serving_path, config.reports_dir, run_id=context.run_id, as_of=config.as_of.isoformat()
    )
    counts = report.cleaning_counts(config.serving_path, as_of=config.as_of.isoformat())
    summary = "\n\n".join(
        publish.format_tier_summary(publish.read_tier_summary(config.serving_path, config.as_of.isoformat(), basis))
        for basis in ("computed", "effective")
    )
    context.log.info("\n" + summary)
    return dg.MaterializeResult(
        metadata={
            "serving_path": dg.MetadataValue.path(str(publication.serving_path)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "report": dg.MetadataValue.path(str(audit_report.path)),
            "as_of_date": config.as_of.isoformat(),
            **{f"rows_{name}": count for name, count in publication.row_counts.items()},
            "tier_summary": dg.MetadataValue.md(f"```\n{summary}\n```"),
            **counts,
        }
    )


defs = dg.Definitions(assets=[serving_tiering])
