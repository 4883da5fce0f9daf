"""Publish asset: after a fully successful build, switch BI readers to a new serving version."""

from datetime import timedelta

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.assets.dbt import tiering_dbt
from orchestration.defs.config import ONE_DATE_PER_RUN, TieringConfig, as_of_partitions
from orchestration.defs.metadata import OWNERS
from orchestration.defs.project import dbt_project
from orchestration.defs.warehouse import WarehouseLock
from tiering.ingest import ledger
from tiering.publish import catalog, report
from tiering.publish import serving as publish


def spark_relation_reader(config):
    """With TIERING_ENGINE=spark the marts are Parquet tables of the Spark warehouse."""
    if config.engine != "spark":
        return None
    from tiering.spark.warehouse import relation_sql

    return lambda relation: relation_sql(config.spark_dir, relation)


@dg.asset(
    key=dg.AssetKey(["serving", "tiering"]),
    partitions_def=as_of_partitions,
    backfill_policy=ONE_DATE_PER_RUN,
    group_name="publish",
    owners=OWNERS,
    tags={"layer": "serving"},
    kinds={"duckdb", "parquet"},
    # Published every night: a day and a half without a new version is overdue.
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=36), warn_window=timedelta(hours=26)),
    deps=[get_asset_key_for_model([tiering_dbt], model) for model in publish.PUBLISHED_TABLES],
    description=(
        "The published tier tables for BI, as one version: serving/tiering.duckdb, "
        "serving/parquet/*.parquet, the Excel workbook serving/tiering.xlsx and the auditor report, "
        "written complete beside the previous "
        "version and switched in by one atomic rename, only after every upstream step and blocking "
        "check passed. The run's deliveries are accepted just before the switch."
    ),
)
def serving_tiering(
    context: dg.AssetExecutionContext, tiering: TieringConfig, warehouse_lock: WarehouseLock
) -> dg.MaterializeResult:
    config = tiering.settings(context)
    as_of = config.as_of.isoformat()

    def write_report(version_dir):
        report.write_report(
            version_dir / publish.DATABASE_FILE, version_dir, config.reports_dir, run_id=context.run_id, as_of=as_of
        )

    def accept_deliveries():
        with duckdb.connect(str(config.warehouse_path), config=config.duckdb_config) as connection:
            accepted = ledger.accept_batch(connection, context.run_id)
        context.log.info(f"{accepted} deliveries accepted")

    publication = publish.publish(
        config.warehouse_path,
        config.serving_dir,
        run_id=context.run_id,
        as_of=as_of,
        keep_versions=config.keep_versions,
        write_extras=write_report,
        before_switch=accept_deliveries,
        duckdb_config=config.duckdb_config,
        read_relation=spark_relation_reader(config),
        docs=catalog.load(publish.PUBLISHED_TABLES, dbt_project.manifest_path),
        workbook_max_rows=config.excel_max_rows,
    )
    counts = report.cleaning_counts(config.serving_path, as_of=as_of)
    summary = "\n\n".join(
        publish.format_tier_summary(publish.read_tier_summary(config.serving_path, as_of, basis))
        for basis in ("computed", "effective")
    )
    context.log.info("\n" + summary)
    return dg.MaterializeResult(
        metadata={
            "version": publication.version,
            "serving_path": dg.MetadataValue.path(str(publication.serving_path)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "workbook": dg.MetadataValue.path(str(config.serving_dir / "tiering.xlsx")),
            "report": dg.MetadataValue.path(str(config.reports_dir / "latest.html")),
            "as_of_date": as_of,
            **{f"rows_{name}": count for name, count in publication.row_counts.items()},
            "tier_summary": dg.MetadataValue.md(f"```\n{summary}\n```"),
            **counts,
        }
    )


defs = dg.Definitions(assets=[serving_tiering])
