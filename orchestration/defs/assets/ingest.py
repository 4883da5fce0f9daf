"""Ingest assets: one per extract entity, landing new files into the raw schema.

Each asset also runs two checks on what it landed: the row reconciliation (read = loaded +
quarantined, blocking) and the entity's Great Expectations suite, whose `error` expectations
(contract failures) block everything downstream and whose `warn` expectations are recorded.
"""

from datetime import datetime

import dagster as dg
import duckdb

from tiering import settings
from tiering.ingest.contract import ENTITIES, Entity
from tiering.ingest.load import ContractError, EntityResult, ingest_entity
from tiering.quality import validate as quality
from tiering.quality.views import referenced_entities

RECONCILIATION_CHECK = "rows_reconcile"
CONTRACT_CHECK = "contract_expectations"
QUALITY_CHECK = "data_quality_expectations"


def _file_table(result: EntityResult) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "file": file.source_file,
                    "status": file.status,
                    "rows_read": file.rows_read,
                    "rows_loaded": file.rows_loaded,
                    "rows_quarantined": file.rows_quarantined,
                    "sha256": file.file_checksum[:16],
                }
            )
            for file in result.files
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("file", "string"),
                dg.TableColumn("status", "string"),
                dg.TableColumn("rows_read", "int"),
                dg.TableColumn("rows_loaded", "int"),
                dg.TableColumn("rows_quarantined", "int"),
                dg.TableColumn("sha256", "string"),
            ]
        ),
    )


def _expectation_checks(entity: Entity, outcome: quality.SuiteOutcome) -> list[dg.AssetCheckResult]:
    def failures_metadata(failures: list[quality.ExpectationOutcome]) -> dict:
        return {
            "expectations_evaluated": len(outcome.outcomes),
            "failed": dg.MetadataValue.md(
                "\n".join(
                    f"- `{failure.expectation}` on `{failure.column or '-'}`: "
                    f"{failure.unexpected_count} of {failure.element_count} rows "
                    f"({failure.unexpected_percent:.2f} %), e.g. {', '.join(failure.sample_values) or '-'}"
                    for failure in failures
                )
                or "none"
            ),
        }

    return [
        dg.AssetCheckResult(
            asset_key=ingest_key(entity),
            check_name=CONTRACT_CHECK,
            passed=not outcome.blocking_failures,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=failures_metadata(outcome.blocking_failures),
        ),
        dg.AssetCheckResult(
            asset_key=ingest_key(entity),
            check_name=QUALITY_CHECK,
            passed=not outcome.warnings,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=failures_metadata(outcome.warnings),
        ),
    ]


def ingest_key(entity: Entity) -> dg.AssetKey:
    # Matches dagster-dbt's key for source('raw', <entity>), which wires ingest to staging.
    return dg.AssetKey(["raw", entity.name])


def build_ingest_asset(entity: Entity) -> dg.AssetsDefinition:
    key = ingest_key(entity)

    @dg.asset(
        key=key,
        # Referential expectations (every order's customer and product is known) read these.
        deps=[ingest_key(ENTITIES[name]) for name in referenced_entities(entity.name)],
        group_name="ingest",
        kinds={"duckdb", "csv"},
        description=(
            f"{entity.description} Every new `{entity.name}*.csv` in the landing folder, loaded into "
            f"raw.{entity.name} with lineage; unparseable rows go to raw._quarantine with a reason."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                RECONCILIATION_CHECK,
                asset=key,
                blocking=True,
                description="Rows read = rows loaded + rows quarantined, per file.",
            ),
            dg.AssetCheckSpec(
                CONTRACT_CHECK,
                asset=key,
                blocking=True,
                description="Great Expectations, severity error: the contract holds.",
            ),
            dg.AssetCheckSpec(
                QUALITY_CHECK, asset=key, description="Great Expectations, severity warn: data defects for cleaning."
            ),
        ],
    )
    def ingest_asset(context: dg.AssetExecutionContext):
        config = settings.load()
        quality.preload()  # GX imports while DuckDB reads the files
        try:
            result = ingest_entity(config.warehouse_path, config.landing_dir, entity.name, batch_id=context.run_id)
        except ContractError as error:
            raise dg.Failure(description=f"{entity.name}: {error}") from error
        if not result.files:
            context.log.warning(f"No {entity.name}*.csv file in {config.landing_dir}")
        with duckdb.connect(str(config.warehouse_path), config=settings.duckdb_config()) as connection:
            outcome = quality.validate_table(connection, f"raw.{entity.name}", entity.name, as_of=config.as_of)
            table_rows = connection.execute(f"select count(*) from raw.{entity.name}").fetchall()[0][0]
            # Appended to the validation history (published as dq_results), whatever the outcome.
            quality.record_outcome(
                connection, outcome, run_id=context.run_id, as_of=config.as_of, validated_at=datetime.now()
            )

        yield dg.MaterializeResult(
            metadata={
                "rows_read": result.total("rows_read"),
                "rows_loaded": result.total("rows_loaded"),
                "rows_quarantined": result.total("rows_quarantined"),
                "files_loaded": sum(file.status == "loaded" for file in result.files),
                "files_skipped_already_loaded": sum(file.status != "loaded" for file in result.files),
                "files": _file_table(result),
                "dagster/row_count": table_rows,
            },
        )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=RECONCILIATION_CHECK,
            passed=result.reconciles,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_read": result.total("rows_read"),
                "rows_loaded_plus_quarantined": result.total("rows_loaded") + result.total("rows_quarantined"),
            },
        )
        yield from _expectation_checks(entity, outcome)

    return ingest_asset


ingest_assets = [build_ingest_asset(entity) for entity in ENTITIES.values()]

defs = dg.Definitions(assets=ingest_assets)
