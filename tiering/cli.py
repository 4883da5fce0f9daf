"""The `tiering` command: demo data, the published summary, evaluation sheets, tier migration,
AHP weights, benchmarks, and the operator's commands (landing, serving, warehouse).

The nightly job itself runs through Dagster (`make run`); this command knows nothing of Dagster.
It reads the same settings as the job (the environment, then `.env`). Bad arguments and missing
data get one line on stderr and a non-zero exit: 2 for a bad argument or setting, 1 for
anything else.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import duckdb

from tiering import settings


class CommandError(Exception):
    """A command cannot do what was asked; the message says why, in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _published(config: settings.Settings) -> set[str]:
    """The as-of dates in the serving file; CommandError when nothing is published."""
    if not config.serving_path.exists():
        raise CommandError(f"nothing is published at {config.serving_path}; run `make run` first")
    with duckdb.connect(str(config.serving_path), read_only=True) as connection:
        return {str(row[0]) for row in connection.execute("select distinct as_of_date from customer_tiers").fetchall()}


def _require_published(config: settings.Settings, as_of: date | None) -> None:
    published = _published(config)
    if as_of is not None and as_of.isoformat() not in published:
        dates = ", ".join(sorted(published)) or "none"
        raise CommandError(f"as-of date {as_of} is not published; published dates: {dates}")


def _generate(args: argparse.Namespace) -> int:
    from tiering.demo.generate import generate_demo_extracts
    from tiering.ingest.landing import has_extracts

    config = settings.load()
    landing_dir = Path(args.landing_dir).resolve() if args.landing_dir else config.landing_dir
    if args.if_empty and has_extracts(landing_dir):
        print(f"Landing folder {landing_dir} already holds extracts; not generating demo data.")
        return 0
    as_of = args.as_of or config.as_of
    if args.profile:
        return _generate_in_profile(args, landing_dir, as_of)
    result = generate_demo_extracts(landing_dir, customers=args.customers, seed=args.seed, as_of=as_of)
    print(f"Demo extracts as of {as_of} in {landing_dir}:")
    for entity, path in result.files.items():
        print(f"  {path.name:<40} {result.row_counts[entity]:>12,} rows")
    return 0


def _generate_in_profile(args: argparse.Namespace, landing_dir: Path, as_of: date) -> int:
    """The canonical demo, then written as the profiles export it (an entity none of them has
    stays a canonical file)."""
    import tempfile

    from tiering.demo.generate import generate_demo_extracts
    from tiering.sources.export import export_extracts
    from tiering.sources.profiles import ProfileError, load_profiles

    names = settings.parse_sources(args.profile, "--profile")
    try:
        profiles = load_profiles(names)
    except ProfileError as error:
        raise CommandError(str(error)) from error
    with tempfile.TemporaryDirectory(prefix="tiering-generate-") as scratch:
        result = generate_demo_extracts(Path(scratch), customers=args.customers, seed=args.seed, as_of=as_of)
        written = export_extracts(Path(scratch), landing_dir, profiles, as_of)
    print(f"Demo extracts as of {as_of} in {landing_dir}, as {', '.join(names)} export them:")
    for entity, path in written.items():
        print(f"  {path.name:<40} {result.row_counts[entity]:>12,} rows")
    uncovered = [entity for entity, path in written.items() if path.name.startswith(entity)]
    if uncovered and "canonical" not in names:
        print(
            f"No profile given writes {', '.join(uncovered)}: canonical files; "
            f"set TIERING_SOURCES={','.join(names)},canonical"
        )
    else:
        print(f"Load them with TIERING_SOURCES={','.join(names)}")
    return 0


def _sources_check(args: argparse.Namespace) -> int:
    from tiering.sources.check import check_paths, format_checks
    from tiering.sources.profiles import ProfileError

    sources = settings.parse_sources(args.profile, "--profile") if args.profile else settings.load().sources
    try:
        checks = check_paths([Path(path) for path in args.paths], sources)
    except ProfileError as error:
        raise CommandError(str(error)) from error
    print(format_checks(checks))
    return 0 if all(check.ok for check in checks) else 1


def _summary(args: argparse.Namespace) -> int:
    from tiering.publish.serving import format_tier_summary, read_tier_summary

    config = settings.load()
    _require_published(config, args.as_of)
    as_of = args.as_of and args.as_of.isoformat()
    for basis in ("computed", "effective"):
        print(format_tier_summary(read_tier_summary(config.serving_path, as_of, basis)))
        print()
    print(f"Published DuckDB file (open read-only): {config.serving_path}")
    print(f"Parquet copies:                         {config.parquet_dir}")
    print(f"Excel workbook:                         {config.serving_dir / 'tiering.xlsx'}")
    print(f"Build warehouse (pipeline only):        {config.warehouse_path}")
    print(f"Auditor report of the latest run:       {config.reports_dir / 'latest.html'}")
    return 0


def _migration(args: argparse.Namespace) -> int:
    from tiering.publish.migration import format_migration, tier_migration

    config = settings.load()
    if args.to_date <= args.from_date:
        raise CommandError(f"--to {args.to_date} must be after --from {args.from_date}")
    _require_published(config, args.from_date)
    _require_published(config, args.to_date)
    rows = tier_migration(config.serving_path, args.from_date.isoformat(), args.to_date.isoformat())
    print(format_migration(rows, args.from_date.isoformat(), args.to_date.isoformat()))
    return 0


def _sheet(args: argparse.Namespace) -> int:
    from tiering.publish.sheet import SheetError, format_sheet, read_sheet, render_html

    config = settings.load()
    _require_published(config, args.as_of)
    try:
        sheet = read_sheet(config.serving_path, args.customer_id, args.as_of and args.as_of.isoformat())
    except SheetError as error:
        raise CommandError(str(error)) from error
    print(format_sheet(sheet))
    if args.html:
        path = Path(args.html)
        path.write_text(render_html(sheet), encoding="utf-8")
        print(f"\nHTML sheet written to {path}")
    return 0


def _ahp(args: argparse.Namespace) -> int:
    from tiering.rubric.ahp import AhpError, compute, format_result, read_matrix, require_consistent, write_weights

    try:
        result = compute(*read_matrix(Path(args.matrix)))
        print(format_result(result))
        require_consistent(result)
        if args.dry_run:
            return 0
        seeds_dir = Path(args.seeds_dir) if args.seeds_dir else settings.load().seeds_dir
        path = write_weights(result, seeds_dir, args.rubric, args.dimension)
    except AhpError as error:
        raise CommandError(str(error)) from error
    target = f"indicators of {args.dimension}" if args.dimension else "dimensions"
    print(f"Weights of the {target} of rubric {args.rubric!r} written to {path}; re-run to re-tier.")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from tiering.bench.run import run_benchmark

    return run_benchmark(
        customers=args.customers, workdir=Path(args.workdir).resolve(), seed=args.seed, as_of=args.as_of
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tiering", description="Customer tiering (客户分级分类) pipeline tools.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    generate = commands.add_parser("generate", help="write demo CRM and ERP extracts to the landing folder")
    generate.add_argument("--customers", type=_positive, default=2000, help="CRM firms to make up (default 2000)")
    generate.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives the same files")
    generate.add_argument("--as-of", type=_date, help="YYYY-MM-DD; default TIERING_AS_OF or today in Asia/Shanghai")
    generate.add_argument("--landing-dir", help="where to write the files (default TIERING_LANDING_DIR)")
    generate.add_argument("--if-empty", action="store_true", help="only when the landing folder holds no extract")
    generate.add_argument(
        "--profile", help="write the files as these source profiles export them, e.g. kingdee,salesforce (sources/)"
    )
    generate.set_defaults(handler=_generate)

    sources = commands.add_parser("sources", help="source profiles: what the pipeline makes of export files")
    sources_commands = sources.add_subparsers(
        dest="sources_command", required=True, parser_class=_Parser, help="check: preview export files"
    )
    check = sources_commands.add_parser(
        "check", help="per file: profile and entity matched, column mapping, five mapped rows, problems; loads nothing"
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="export files, or folders of them")
    check.add_argument("--profile", help="profiles to match, e.g. kingdee,salesforce (default TIERING_SOURCES)")
    check.set_defaults(handler=_sources_check)

    summary = commands.add_parser("summary", help="print the published tier summary and where the outputs are")
    summary.add_argument("--as-of", type=_date, help="YYYY-MM-DD; default the newest published date")
    summary.set_defaults(handler=_summary)

    migration = commands.add_parser(
        "migration", help="customers and spend moving between tiers from one as-of date to another"
    )
    migration.add_argument("--from", dest="from_date", type=_date, required=True, help="earlier as-of date, YYYY-MM-DD")
    migration.add_argument("--to", dest="to_date", type=_date, required=True, help="later as-of date, YYYY-MM-DD")
    migration.set_defaults(handler=_migration)

    sheet = commands.add_parser("sheet", help="print one customer's evaluation sheet (客户信息评估表)")
    sheet.add_argument("customer_id", help="the golden customer's id, as in customer_tiers")
    sheet.add_argument("--as-of", type=_date, help="YYYY-MM-DD; default the customer's newest published date")
    sheet.add_argument("--html", metavar="PATH", help="also write the sheet as a self-contained HTML file")
    sheet.set_defaults(handler=_sheet)

    ahp = commands.add_parser("ahp", help="AHP weights from a pairwise matrix into the seed")
    ahp.add_argument("matrix", help="YAML (items, matrix) or CSV (items in header and first column)")
    ahp.add_argument("--rubric", default="default", help="preset whose weights to write (default: default)")
    ahp.add_argument("--dimension", help="weigh this dimension's indicators (default: the dimensions)")
    ahp.add_argument("--seeds-dir", help="the seeds folder to write to (default TIERING_SEEDS_DIR or seeds/)")
    ahp.add_argument("--dry-run", action="store_true", help="compute and check only; write nothing")
    ahp.set_defaults(handler=_ahp)

    bench = commands.add_parser(
        "bench", help="time the nightly job at a scale beside a DuckDB statement and a pandas script"
    )
    bench.add_argument("--customers", type=_positive, default=10_000, help="CRM firms (default 10000)")
    bench.add_argument("--seed", type=int, default=7, help="random seed of the demo extracts (default 7)")
    bench.add_argument("--workdir", default="data/bench", help="where extracts and runs go (default data/bench)")
    bench.add_argument("--as-of", type=_date, help="YYYY-MM-DD; default today in Asia/Shanghai")
    bench.set_defaults(handler=_bench)

    from tiering import operate

    operate.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from tiering import operate

    args = build_parser().parse_args(argv)
    settings.read_dotenv()
    try:
        return args.handler(args)
    except settings.SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (CommandError, *operate.EXPECTED_ERRORS) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (OSError, duckdb.Error) as error:
        print(f"error: {type(error).__name__}: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
