"""Ingest assets: prepare the warehouse, list the landing folder, land each entity's files.

- ``raw/_warehouse``: back the warehouse up, and roll back deliveries that runs which did not
  finish left pending.
- ``raw/_landing_files``: every entry of the landing folder, with what will be done with it;
  an entry the pipeline does not know is a warning, or stops the run when
  TIERING_UNKNOWN_FILES=fail.
- ``raw/<entity>``: one per extract entity, landing new files with lineage; rows the contract
  refuses go to raw._quarantine. Each runs two checks on what it landed: the row
  reconciliation (read = loaded + quarantined, blocking) and the entity's Great Expectations
  suite, whose `error` expectations (contract failures) block everything downstream and whose
  `warn` expectations are recorded. A blocking failure takes the run's deliveries back out.
"""

from datetime import datetime

import dagster as dg
import duckdb

from orchestration.defs import load_ahead
from orchestration.defs.assets.rubric import RUBRIC_CHECK_KEY
from orchestration.defs.config import ONE_DATE_PER_RUN, TieringConfig, as_of_partitions
from orchestration.defs.metadata import OWNERS
from orchestration.defs.warehouse import WarehouseLock
from tiering import settings
from tiering.faults import crash_point, fail_point
from tiering.ingest import ledger
from tiering.ingest.contract import ENTITIES, Entity
from tiering.ingest.landing import NOT_LOADED, inventory
from tiering.ingest.load import INSERTION_ORDER_OFF, ContractError, EntityResult, ingest_entity
from tiering.quality import validate as quality
from tiering.quality.views import referenced_entities
from tiering.sources.profiles import ProfileError, load_profiles
from tiering.warehouse import backup, connect_when_free, create, move_marts

RECONCILIATION_CHECK = "rows_reconcile"
CONTRACT_CHECK = "contract_expectations"
QUALITY_CHECK = "data_quality_expectations"
LANDING_CHECK = "every_entry_loaded"

WAREHOUSE_KEY = dg.AssetKey(["raw", "_warehouse"])
LANDING_KEY = dg.AssetKey(["raw", "_landing_files"])


@dg.asset(
    key=WAREHOUSE_KEY,
    # The rubric is checked first: a broken configuration stops the run before anything loads.
    deps=[RUBRIC_CHECK_KEY],
    partitions_def=as_of_partitions,
    backfill_policy=ONE_DATE_PER_RUN,
    group_name="ingest",
    owners=OWNERS,
    tags={"layer": "raw"},
    kinds={"duckdb"},
    description=(
        "The build warehouse made ready for the run: copied to $TIERING_DATA_DIR/backups/ first, "
        "with the marts beside it (the newest TIERING_KEEP_BACKUPS are kept; `tiering warehouse "
        "restore` puts one back), then cleared of deliveries that runs which did not finish left pending."
    ),
)
def warehouse_ready(
    context: dg.AssetExecutionContext, tiering: TieringConfig, warehouse_lock: WarehouseLock
) -> dg.MaterializeResult:
    config = tiering.settings(context)
    if not config.landing_dir.is_dir():
        raise dg.Failure(
            description=f"TIERING_LANDING_DIR={config.landing_dir} does not exist; expected the folder extracts land in"
        )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    if config.warehouse_path.exists():
        # A run killed while dbt ran may leave dbt finishing for a moment: wait for its hold on the file.
        with connect_when_free(
            config.warehouse_path, wait_seconds=config.lock_wait_seconds, config=config.duckdb_config, log=context.log
        ):
            pass
    taken = backup(config.warehouse_path, config.data_dir, label=context.run_id[:8], keep=config.keep_backups)
    create(config.warehouse_path)
    with duckdb.connect(str(config.warehouse_path), config=config.duckdb_config) as connection:
        moved = move_marts(connection, config.marts_path)
        ledger.ensure_raw_schema(connection)
        recovered = ledger.recover_unfinished_runs(connection, context.run_id)
    if moved:
        context.log.info(f"Moved the warehouse's {len(moved)} marts, with their history, into {config.marts_path}")
    for delivery in recovered:
        context.log.warning(
            f"Rolled back {delivery.source_file} ({delivery.entity}), left pending by run {delivery.batch_id[:8]} "
            "that did not finish; it loads again with this run"
        )
    return dg.MaterializeResult(
        metadata={
            "backup": dg.MetadataValue.path(str(taken.path)) if taken else "none (first run)",
            "deliveries_rolled_back": len(recovered),
        }
    )


@dg.asset(
    key=LANDING_KEY,
    deps=[WAREHOUSE_KEY],
    partitions_def=as_of_partitions,
    backfill_policy=ONE_DATE_PER_RUN,
    group_name="ingest",
    owners=OWNERS,
    tags={"layer": "raw"},
    kinds={"duckdb"},
    description=(
        "Every entry of the landing folder and what this run does with it: loaded, skipped (the "
        "same content was loaded before, or was withdrawn), or not loaded with the reason (unknown "
        "entity, unsupported format, not a file, unreadable). Published as landing_files."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            LANDING_CHECK,
            asset=LANDING_KEY,
            description="Every entry of the landing folder is an extract the pipeline can load.",
        )
    ],
)
def landing_files(context: dg.AssetExecutionContext, tiering: TieringConfig, warehouse_lock: WarehouseLock):
    config = tiering.settings(context)
    try:  # every active source profile is valid before anything loads
        profiles = load_profiles(config.sources)
    except ProfileError as error:
        raise dg.Failure(description=f"TIERING_SOURCES: {error}") from error
    entries = inventory(config.landing_dir, profiles)
    with duckdb.connect(str(config.warehouse_path), config=config.duckdb_config) as connection:
        ledger.record_landing(connection, run_id=context.run_id, as_of=config.as_of, entries=entries)
    not_loaded = [entry for entry in entries if entry.status == NOT_LOADED]
    for entry in not_loaded:
        context.log.warning(f"Not loaded: {entry.name}: {entry.reason}")
    listing = "\n".join(f"- `{entry.name}`: {entry.reason}" for entry in not_loaded) or "none"
    if not_loaded and config.unknown_files == "fail":
        raise dg.Failure(
            description=(
                f"{len(not_loaded)} entr{'y' if len(not_loaded) == 1 else 'ies'} of {config.landing_dir} cannot be "
                f"loaded and TIERING_UNKNOWN_FILES=fail:\n{listing}"
            )
        )
    yield dg.MaterializeResult(
        metadata={
            "entries": len(entries),
            "extract_files": len(entries) - len(not_loaded),
            "not_loaded": dg.MetadataValue.md(listing),
        }
    )
    yield dg.AssetCheckResult(
        asset_key=LANDING_KEY,
        check_name=LANDING_CHECK,
        passed=not not_loaded,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"not_loaded": dg.MetadataValue.md(listing)},
    )


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


def _roll_back(config: settings.Settings, run_id: str, reason: str) -> str:
    """Take this run's deliveries back out of the raw tables; names them for the error."""
    load_ahead.stop(run_id)
    with duckdb.connect(str(config.warehouse_path), config=config.duckdb_config) as connection:
        removed = ledger.rollback_batch(connection, run_id, reason)
    return ", ".join(delivery.source_file for delivery in removed) or "none"


def _validate(connection: duckdb.DuckDBPyConnection, config: settings.Settings, entity: Entity, run_id: str):
    """The entity's suite over the rows this run landed, on the engine of the run: inside
    DuckDB, or through GX's Spark engine. Deliveries of earlier runs were checked when they
    arrived; a key that a later delivery sends again is not a duplicate."""
    table = f"raw.{entity.name}"
    landed = [delivery.load_seq for delivery in ledger.deliveries(connection, entity=entity.name, batch_id=run_id)]
    # Never while the loader's insert runs without insertion order (a setting of the whole
    # database): the samples of failing values follow the rows' order. In DuckDB only the
    # samples are taken in turn with it; on Spark, the copy of the checked view that Spark reads.
    if config.engine != "spark":
        return quality.validate_table(
            connection, table, entity.name, as_of=config.as_of, deliveries=landed, samples_lock=INSERTION_ORDER_OFF
        )
    from tiering.spark.session import local_session

    with INSERTION_ORDER_OFF:
        return quality.validate_table_on_spark(
            connection,
            table,
            entity.name,
            as_of=config.as_of,
            spark=local_session(),
            work_dir=config.spark_dir / "checks",
            deliveries=landed,
        )


def _step_name(entity_name: str) -> str:
    return ingest_key(ENTITIES[entity_name]).to_python_identifier()


def _planned_entities(context: dg.AssetExecutionContext) -> list[str]:
    """The entities whose ingest steps this run executes, in the order the executor runs them."""
    steps = context.dagster_run.step_keys_to_execute
    planned = set(steps) if steps else set(context.job_def.graph.node_dict)
    names = [name for name in ENTITIES if _step_name(name) in planned]
    return load_ahead.step_order(names, {name: referenced_entities(name) for name in names}, _step_name)


def _load(context: dg.AssetExecutionContext, config: settings.Settings, entity: Entity):
    """The entity's files loaded, by the run's loader (ahead of the steps, ``load_ahead``)."""

    def load(entity_name: str):
        return ingest_entity(
            config.warehouse_path,
            config.landing_dir,
            entity_name,
            batch_id=context.run_id,
            seeds_dir=config.seeds_dir,
            duckdb_config=config.duckdb_config,
            sources=config.sources,
        )

    def start() -> load_ahead.LoadAhead:
        hold = duckdb.connect(str(config.warehouse_path), config=config.duckdb_config)
        return load_ahead.LoadAhead(load, _planned_entities(context), hold=hold)

    loader = load_ahead.for_run(context.run_id, start)
    try:
        return loader.take(entity.name)
    finally:
        load_ahead.taken(context.run_id)


def build_ingest_asset(entity: Entity) -> dg.AssetsDefinition:
    key = ingest_key(entity)

    @dg.asset(
        key=key,
        # Referential expectations (every order's customer and product is known) read these.
        deps=[LANDING_KEY, *(ingest_key(ENTITIES[name]) for name in referenced_entities(entity.name))],
        partitions_def=as_of_partitions,
        backfill_policy=ONE_DATE_PER_RUN,
        group_name="ingest",
        owners=OWNERS,
        tags={"layer": "raw", "source_system": entity.system},
        kinds={"duckdb", "csv"},
        description=(
            f"{entity.description} Every new `{entity.name}*.csv` (or .csv.gz) in the landing folder, "
            f"loaded into raw.{entity.name} with lineage; rows the contract refuses go to raw._quarantine "
            "with a reason."
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
    def ingest_asset(context: dg.AssetExecutionContext, tiering: TieringConfig, warehouse_lock: WarehouseLock):
        config = tiering.settings(context)
        quality.preload()  # GX imports while DuckDB reads the files
        try:
            yield from _land_and_check(context, config)
        except BaseException:  # a failure, or the run terminated
            load_ahead.stop(context.run_id)  # nothing more loads once a step has failed
            raise

    def _land_and_check(context: dg.AssetExecutionContext, config: settings.Settings):
        try:
            result = _load(context, config, entity)
        except ContractError as error:
            taken_back = _roll_back(config, context.run_id, f"{entity.name}: {error}")
            raise dg.Failure(
                description=f"{entity.name}: {error}. Nothing of it was loaded; this run's deliveries taken "
                f"back out: {taken_back}. Replace the file in {config.landing_dir} and run again."
            ) from error
        crash_point(f"ingest:{entity.name}:loaded")
        fail_point(f"ingest:{entity.name}:loaded")
        with duckdb.connect(str(config.warehouse_path), config=config.duckdb_config) as connection:
            ledger.record_file_results(connection, run_id=context.run_id, results=result.files)
            quality.wait_for_import()
            outcome = _validate(connection, config, entity, context.run_id)
            table_rows = connection.execute(f"select count(*) from raw.{entity.name}").fetchall()[0][0]
            # Appended to the validation history (published as dq_results), whatever the outcome.
            quality.record_outcome(
                connection, outcome, run_id=context.run_id, as_of=config.as_of, validated_at=datetime.now()
            )
        if not result.files:
            context.log.warning(f"No {entity.name} file in {config.landing_dir}")
        if outcome.blocking_failures or not result.reconciles:
            failed = ", ".join(f"{o.expectation} on {o.column}" for o in outcome.blocking_failures) or "rows_reconcile"
            taken_back = _roll_back(config, context.run_id, f"{entity.name}: blocking check failed: {failed}")
            files = ", ".join(file.source_file for file in result.files)
            raise dg.Failure(
                description=f"{entity.name}: blocking check failed ({failed}) on {files}; "
                f"this run's deliveries taken back out: {taken_back}."
            )

        yield dg.MaterializeResult(
            metadata={
                "rows_read": result.total("rows_read"),
                "rows_loaded": result.total("rows_loaded"),
                "rows_quarantined": result.total("rows_quarantined"),
                "files_loaded": sum(file.status == "loaded" for file in result.files),
                "files_skipped": sum(file.status != "loaded" for file in result.files),
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

defs = dg.Definitions(assets=[warehouse_ready, landing_files, *ingest_assets])
