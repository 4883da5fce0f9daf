"""The dbt project as assets: seeds (the rubric), staging, intermediate and marts; dbt
tests show as asset checks. One `dbt build` for the run's as-of date."""

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.assets.rubric import RUBRIC_CHECK_KEY
from orchestration.defs.project import dbt_project
from tiering import settings
from tiering.faults import crash_point, fail_point


class TieringTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        # The seeds are the rubric: they wait for its check, so a broken one stops the build.
        if manifest["nodes"].get(unique_id, {}).get("resource_type") == "seed":
            spec = spec.merge_attributes(deps=[RUBRIC_CHECK_KEY])
        return spec


translator = TieringTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator, name="tiering_dbt")
def tiering_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    config = settings.load()
    # profiles.yml reads the warehouse path from here; the dbt subprocess inherits it.
    os.environ["TIERING_WAREHOUSE_PATH"] = str(config.warehouse_path)
    dbt_vars = {"as_of_date": config.as_of.isoformat(), "rubric": config.rubric}
    # Unit tests test the models' logic, not tonight's data: the test suite runs them.
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars)]
    crash_point("dbt:before")
    fail_point("dbt:before")
    for count, event in enumerate(dbt.cli(args, context=context).stream(), start=1):
        if count == 20:
            crash_point("dbt:running")
        yield event


defs = dg.Definitions(assets=[tiering_dbt])
