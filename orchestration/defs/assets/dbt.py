"""The dbt project as assets, grouped by layer and area: seeds (the rubric), staging,
cleaning, scoring, history, marts and audit; dbt tests show as asset checks. One `dbt build`
per run, for the run's partition (its as-of date, as TIERING_AS_OF), with the run's
configuration as --vars (``orchestration.dbt_invocation``)."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.dbt_invocation import build_target, dbt_args, dbt_environment, keep_parse, prune_builds
from orchestration.defs.assets.rubric import RUBRIC_CHECK_KEY
from orchestration.defs.config import ONE_DATE_PER_RUN, TieringConfig, as_of_partitions
from orchestration.defs.metadata import OWNERS
from orchestration.defs.project import dbt_project
from tiering.faults import crash_point, fail_point

# dbt folder (after models/) -> Dagster group: the asset graph reads like the flow.
GROUPS = {
    "staging": "staging",
    "intermediate/customers": "cleaning",
    "intermediate/orders": "cleaning",
    "intermediate/cleaning": "cleaning",
    "intermediate/scoring": "scoring",
    "intermediate/history": "history",
    "marts/tiering": "marts",
    "marts/history": "marts",
    "marts/audit": "audit",
}


def group_for(node: Mapping[str, Any]) -> str:
    if node.get("resource_type") == "seed":
        return "rubric"
    path = node.get("original_file_path", "").removeprefix("models/")
    for folder, group in GROUPS.items():
        if path.startswith(folder + "/"):
            return group
    return "marts"


class TieringTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return group_for(dbt_resource_props)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        key = super().get_asset_key(dbt_resource_props)
        # On DuckDB the marts are the main schema of a file of their own (database marts):
        # their assets are marts/<model> on every engine.
        if dbt_resource_props.get("database") == "marts" and key.path[0] == "main":
            return dg.AssetKey(["marts", *key.path[1:]])
        return key

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        layer = "configuration" if dbt_resource_props.get("resource_type") == "seed" else group_for(dbt_resource_props)
        return {**super().get_tags(dbt_resource_props), "layer": layer}

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        # The seeds are the rubric: they wait for its check, so a broken one stops the build.
        if manifest["nodes"].get(unique_id, {}).get("resource_type") == "seed":
            spec = spec.merge_attributes(deps=[RUBRIC_CHECK_KEY])
        return spec


translator = TieringTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def hand_over_to_spark(context: dg.AssetExecutionContext, config) -> None:
    """TIERING_ENGINE=spark: the landed tables, with their lineage, and the ingest's ledger,
    quarantine and check results, written as Parquet into the Spark warehouse (raw.db)."""
    from tiering.spark.landing import land_raw_tables

    landed = land_raw_tables(config.warehouse_path, config.spark_dir, duckdb_config=config.duckdb_config)
    context.log.info(
        f"Landed for Spark in {config.spark_dir}: " + ", ".join(f"raw.{t.table} ({t.rows} rows)" for t in landed)
    )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=translator,
    name="tiering_dbt",
    partitions_def=as_of_partitions,
    backfill_policy=ONE_DATE_PER_RUN,
)
def tiering_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, tiering: TieringConfig):
    config = tiering.settings(context)
    args = dbt_args(config)
    if config.engine == "spark":
        hand_over_to_spark(context, config)
    crash_point("dbt:before")
    fail_point("dbt:before")
    with dbt_environment(context.partition_key):
        invocation = dbt.cli(args, context=context, target_path=build_target(context.run.run_id, args))
    try:
        for count, event in enumerate(invocation.stream(), start=1):
            if count == 20:
                crash_point("dbt:running")
            yield event
        if invocation.is_successful():
            keep_parse(invocation.target_path, args)
    finally:
        # A step that stops early (an error reading dbt's events, a cancelled run) must not
        # leave dbt running with the warehouse locked: the failure hook rolls back next.
        if invocation.process.poll() is None:
            invocation.process.terminate()
            invocation.process.wait(timeout=60)
        prune_builds()


defs = dg.Definitions(assets=[tiering_dbt])
