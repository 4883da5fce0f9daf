"""The `tiering` command: demo data, the published summary, evaluation sheets, AHP weights
and benchmarks.

The nightly job itself runs through Dagster (`make run`, or `dagster job execute`); this
command knows nothing of Dagster.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tiering import settings


def _generate(args: argparse.Namespace) -> int:
    from tiering.demo.generate import generate_demo_extracts
    from tiering.ingest.landing import has_extracts

    config = settings.load()
    landing_dir = Path(args.landing_dir).resolve() if args.landing_dir else config.landing_dir
    if args.if_empty and has_extracts(landing_dir):
        print(f"Landing folder {landing_dir} already holds extracts; not generating demo data.")
        return 0
    as_of = settings.parse_as_of(args.as_of, "--as-of") if args.as_of else config.as_of
    result = generate_demo_extracts(landing_dir, customers=args.customers, seed=args.seed, as_of=as_of)
    print(f"Demo extracts as of {as_of} in {landing_dir}:")
    for entity, path in result.files.items():
        print(f"  {path.name:<40} {result.row_counts[entity]:>12,} rows")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from tiering.publish.serving import format_tier_summary, read_tier_summary

    config = settings.load()
    if not config.serving_path.exists():
        print(f"Nothing published yet at {config.serving_path}; run `make run` first.", file=sys.stderr)
        return 1
    print(format_tier_summary(read_tier_summary(config.serving_path, args.as_of)))
    print()
    print(format_tier_summary(read_tier_summary(config.serving_path, args.as_of, basis="effective")))
    print()
    print(f"Published DuckDB file (open read-only): {config.serving_path}")
    print(f"Parquet copies:                         {config.parquet_dir}")
    print(f"Build warehouse (pipeline only):        {config.warehouse_path}")
    print(f"Auditor report of the latest run:       {config.reports_dir / 'latest.html'}")
    return 0


def _migration(args: argparse.Namespace) -> int:
    from tiering.publish.migration import format_migration, tier_migration

    config = settings.load()
    rows = tier_migration(config.serving_path, args.from_date, args.to_date)
    print(format_migration(rows, args.from_date, args.to_date))
    return 0


def _sheet(args: argparse.Namespace) -> int:
    from tiering.publish.sheet import SheetError, format_sheet, read_sheet, render_html

    config = settings.load()
    as_of = settings.parse_as_of(args.as_of, "--as-of").isoformat() if args.as_of else None
    try:
        sheet = read_sheet(config.serving_path, args.customer_id, as_of)
    except SheetError as error:
        print(error, file=sys.stderr)
        return 1
    print(format_sheet(sheet))
    if args.html:
        path = Path(args.html)
        path.write_text(render_html(sheet), encoding="utf-8")
        print(f"\nHTML sheet written to {path}")
    return 0


def _ahp(args: argparse.Namespace) -> int:
    from tiering.rubric.ahp import AhpError, compute, format_result, read_matrix, require_consistent, write_weights
    from tiering.rubric.checks import SEEDS_DIR

    try:
        result = compute(*read_matrix(Path(args.matrix)))
        print(format_result(result))
        require_consistent(result)
        if args.dry_run:
            return 0
        path = write_weights(result, Path(args.seeds_dir) if args.seeds_dir else SEEDS_DIR, args.rubric, args.dimension)
    except (AhpError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    target = f"indicators of {args.dimension}" if args.dimension else "dimensions"
    print(f"Weights of the {target} of rubric {args.rubric!r} written to {path}; re-run to re-tier.")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from tiering.bench.run import run_benchmark

    as_of = settings.parse_as_of(args.as_of, "--as-of") if args.as_of else None
    return run_benchmark(customers=args.customers, workdir=Path(args.workdir).resolve(), seed=args.seed, as_of=as_of)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tiering", description="Customer tiering (客户分级分类) pipeline tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write demo CRM and ERP extracts to the landing folder")
    generate.add_argument("--customers", type=int, default=2000)
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--as-of", help="YYYY-MM-DD; default TIERING_AS_OF or today in Asia/Shanghai")
    generate.add_argument("--landing-dir", help="default TIERING_LANDING_DIR")
    generate.add_argument("--if-empty", action="store_true", help="only when the landing folder holds no extract")
    generate.set_defaults(handler=_generate)

    summary = commands.add_parser("summary", help="print the published tier summary and where the outputs are")
    summary.add_argument("--as-of", help="YYYY-MM-DD; default the newest published date")
    summary.set_defaults(handler=_summary)

    migration = commands.add_parser(
        "migration", help="customers and spend moving between tiers from one as-of date to another"
    )
    migration.add_argument("--from", dest="from_date", required=True, help="earlier as-of date, YYYY-MM-DD")
    migration.add_argument("--to", dest="to_date", required=True, help="later as-of date, YYYY-MM-DD")
    migration.set_defaults(handler=_migration)

    sheet = commands.add_parser("sheet", help="print one customer's evaluation sheet (客户信息评估表)")
    sheet.add_argument("customer_id")
    sheet.add_argument("--as-of", help="YYYY-MM-DD; default the customer's newest published date")
    sheet.add_argument("--html", metavar="PATH", help="also write the sheet as a self-contained HTML file")
    sheet.set_defaults(handler=_sheet)

    ahp = commands.add_parser("ahp", help="AHP weights from a pairwise matrix into the seed")
    ahp.add_argument("matrix", help="YAML (items, matrix) or CSV (items in header and first column)")
    ahp.add_argument("--rubric", default="default", help="preset whose weights to write (default: default)")
    ahp.add_argument("--dimension", help="weigh this dimension's indicators (default: the dimensions)")
    ahp.add_argument("--seeds-dir", help="default the project's seeds/ folder")
    ahp.add_argument("--dry-run", action="store_true", help="compute and check only; write nothing")
    ahp.set_defaults(handler=_ahp)

    bench = commands.add_parser(
        "bench", help="time the nightly job at a scale beside a DuckDB statement and a pandas script"
    )
    bench.add_argument("--customers", type=int, default=10_000)
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--workdir", default="data/bench")
    bench.add_argument("--as-of", help="YYYY-MM-DD; default today in Asia/Shanghai")
    bench.set_defaults(handler=_bench)

    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except settings.SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
