"""The operator's commands (`tiering landing|serving|warehouse ...`): see what is in the landing
folder, withdraw a delivery, roll the serving folder back, restore the warehouse.

Each command that changes something takes the run lock first, so it never races a run.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

from tiering import settings
from tiering.ingest import ledger
from tiering.ingest.landing import inventory
from tiering.publish import serving
from tiering.warehouse import BackupError, LockedError, backups, restore, run_lock


def _print_table(rows: list[tuple], header: tuple) -> None:
    widths = [max(len(str(value)) for value in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(value).ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


def landing_list(args: argparse.Namespace) -> int:
    from tiering.sources.profiles import ProfileError, load_profiles

    config = settings.load()
    try:
        profiles = load_profiles(config.sources)
    except ProfileError as error:
        raise settings.SettingsError(f"TIERING_SOURCES: {error}") from None
    entries = inventory(config.landing_dir, profiles)
    if not entries:
        print(f"{config.landing_dir} holds no entries.")
        return 0
    loaded = {}
    if config.warehouse_path.exists():
        with duckdb.connect(str(config.warehouse_path), read_only=True) as connection:
            loaded = (
                {
                    row[0]: row[1]
                    for row in connection.execute("select source_file, status from raw._ingested_files").fetchall()
                }
                if _has_ledger(connection)
                else {}
            )
    rows = [
        (e.name, e.entity or "-", e.status if e.status != "ready" else loaded.get(e.name, "new"), e.reason or "")
        for e in entries
    ]
    _print_table(rows, ("entry", "entity", "status", "reason"))
    return 0


def _has_ledger(connection: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        connection.execute(
            "select 1 from duckdb_tables() where schema_name = 'raw' and table_name = '_ingested_files'"
        ).fetchall()
    )


def landing_withdraw(args: argparse.Namespace) -> int:
    config = settings.load()
    if not config.warehouse_path.exists():
        print(f"error: no warehouse at {config.warehouse_path}; nothing was ever loaded", file=sys.stderr)
        return 1
    with (
        run_lock(config.data_dir, f"tiering landing withdraw {args.file}"),
        duckdb.connect(str(config.warehouse_path), config=settings.duckdb_config()) as connection,
    ):
        ledger.ensure_raw_schema(connection)
        removed = ledger.withdraw(connection, args.file, args.reason)
    for delivery in removed:
        print(
            f"Withdrew {delivery.source_file} ({delivery.entity}, sha256 {delivery.file_checksum[:16]}): "
            f"{delivery.rows_loaded} rows and {delivery.rows_quarantined} quarantine rows removed."
        )
    print(
        "A file with this content is skipped from now on. Move it out of the landing folder, and run the "
        "job (make run) to publish without it."
    )
    return 0


def serving_versions(args: argparse.Namespace) -> int:
    config = settings.load()
    versions = serving.complete_versions(config.serving_dir)
    current = serving.current_version(config.serving_dir)
    if not versions:
        print(f"No serving version in {config.serving_dir}; run the job first.")
        return 0
    _print_table([(v, "current" if v == current else "") for v in versions], ("version", ""))
    return 0


def serving_rollback(args: argparse.Namespace) -> int:
    config = settings.load()
    with run_lock(config.data_dir, "tiering serving rollback"):
        version = serving.rollback(config.serving_dir, args.version)
    print(f"BI readers now see serving version {version} ({config.serving_path}); reconnect to see it.")
    return 0


def warehouse_backups(args: argparse.Namespace) -> int:
    config = settings.load()
    found = backups(config.data_dir)
    if not found:
        print(f"No warehouse backup in {config.data_dir / 'backups'}; one is taken at the start of each run.")
        return 0
    _print_table(
        [(b.name, f"{b.taken_at:%Y-%m-%d %H:%M:%S}", f"{b.size_bytes / 2**20:,.0f} MiB") for b in found],
        ("backup", "taken", "size"),
    )
    return 0


def warehouse_restore(args: argparse.Namespace) -> int:
    config = settings.load()
    with run_lock(config.data_dir, "tiering warehouse restore"):
        chosen = restore(config.warehouse_path, config.data_dir, args.backup)
    print(
        f"Warehouse restored from {chosen.name} (taken {chosen.taken_at:%Y-%m-%d %H:%M:%S}). Run the job to "
        "rebuild from it; the serving folder is unchanged until then."
    )
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    landing = commands.add_parser("landing", help="what is in the landing folder; withdraw a delivery")
    landing_commands = landing.add_subparsers(dest="landing_command", required=True)
    listing = landing_commands.add_parser("list", help="every entry of the landing folder and its status")
    listing.set_defaults(handler=landing_list)
    withdraw = landing_commands.add_parser(
        "withdraw", help="take a delivery's rows out of the warehouse and skip its content from now on"
    )
    withdraw.add_argument("file", help="the delivered file's name (or its SHA-256 checksum)")
    withdraw.add_argument("--reason", required=True, help="why, for the audit trail (raw._ingest_events)")
    withdraw.set_defaults(handler=landing_withdraw)

    serving_parser = commands.add_parser("serving", help="the published versions BI tools read; roll back")
    serving_commands = serving_parser.add_subparsers(dest="serving_command", required=True)
    serving_commands.add_parser("versions", help="the complete serving versions, and the current one").set_defaults(
        handler=serving_versions
    )
    back = serving_commands.add_parser("rollback", help="switch BI readers back to an earlier version")
    back.add_argument("version", nargs="?", help="a version name (default: the one before the current)")
    back.set_defaults(handler=serving_rollback)

    warehouse = commands.add_parser("warehouse", help="backups of the build warehouse; restore one")
    warehouse_commands = warehouse.add_subparsers(dest="warehouse_command", required=True)
    warehouse_commands.add_parser("backups", help="the warehouse backups taken at the start of each run").set_defaults(
        handler=warehouse_backups
    )
    put_back = warehouse_commands.add_parser("restore", help="replace the warehouse with a backup")
    put_back.add_argument("backup", nargs="?", help="a backup name (default: the newest)")
    put_back.set_defaults(handler=warehouse_restore)


# Errors these commands answer with one line and exit status 1.
EXPECTED_ERRORS = (ledger.WithdrawError, serving.ServingError, BackupError, LockedError)
