"""Two baselines for the benchmark, each computing the value dimension (客户价值) of the default
rubric per CRM customer straight from the extract files: a pandas script and one DuckDB SQL
statement (``value_dimension.sql``), written the way an analyst would. They skip everything the
pipeline adds (dedup, outlier rules, quality checks, history) and hard-code the bands and
weights, so they show what the pipeline's extra work costs.

Run as ``python -m tiering.bench.baselines {pandas|duckdb} LANDING_DIR AS_OF OUT.parquet``; the
benchmark times each as its own process and compares their scores with the published ones.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from tiering.sql import literal

SQL_PATH = Path(__file__).with_name("value_dimension.sql")

# (lower bound inclusive, score), highest band first; weights in %. The method's default rubric (docs/method.md).
SPEND_BANDS = ((1000, 100), (500, 80), (100, 60))
MARGIN_BANDS = ((18, 100), (15, 90), (10, 75), (5, 60))
YEARS_BANDS = ((5, 100), (3, 80), (1, 60))
CROSS_BANDS = ((35, 100), (20, 80), (10, 60))
LOWEST = 40
WEIGHTS = {"spend": 0.40, "margin": 0.25, "years": 0.20, "cross": 0.15}


def duckdb_value_scores(landing_dir: Path, as_of: date, out: Path) -> int:
    import duckdb

    with duckdb.connect() as connection:
        relation = connection.execute(
            f"copy ({SQL_PATH.read_text(encoding='utf-8')}) to {literal(out)} (format parquet)",
            {"landing": f"{landing_dir}/", "as_of": as_of.isoformat()},
        )
        return relation.fetchall()[0][0]


def _band(values, bands):
    import numpy

    conditions = [values >= lower for lower, _ in bands]
    return numpy.select(conditions, [score for _, score in bands], default=LOWEST)


def pandas_value_scores(landing_dir: Path, as_of: date, out: Path) -> int:
    import pandas

    def read(entity: str, columns: list[str]) -> pandas.DataFrame:
        frames = [
            pandas.read_csv(path, usecols=columns, dtype=str, engine="pyarrow", encoding="utf-8-sig")
            for path in sorted(landing_dir.glob(f"{entity}*.csv"))
        ]
        return pandas.concat(frames, ignore_index=True)

    as_of_ts = pandas.Timestamp(as_of)
    period_start = as_of_ts - pandas.DateOffset(months=12) + pandas.Timedelta(days=1)

    orders = read(
        "erp_orders",
        ["erp_customer_id", "order_date", "status", "product_id", "amount_incl_tax", "tax_rate", "cost_excl_tax"],
    )
    orders = orders[orders["status"] == "confirmed"]
    orders = orders.assign(
        order_date=pandas.to_datetime(orders["order_date"], format="%Y-%m-%d", errors="coerce"),
        amount=pandas.to_numeric(orders["amount_incl_tax"], errors="coerce"),
        tax=pandas.to_numeric(orders["tax_rate"], errors="coerce"),
        cost=pandas.to_numeric(orders["cost_excl_tax"], errors="coerce"),
    ).dropna(subset=["order_date", "amount", "tax"])
    orders["revenue"] = (orders["amount"] / (1 + orders["tax"])).round(2)
    products = read("erp_products", ["product_id", "product_category", "is_active"])
    orders = orders.merge(products[["product_id", "product_category"]], on="product_id", how="left")
    active_categories = products.loc[products["is_active"] == "true", "product_category"].nunique()

    first_order = orders.groupby("erp_customer_id")["order_date"].min().rename("first_order_date")
    in_period = orders[(orders["order_date"] >= period_start) & (orders["order_date"] <= as_of_ts)]
    per_erp = in_period.groupby("erp_customer_id").agg(
        spend=("revenue", "sum"), cost=("cost", "sum"), categories=("product_category", "nunique")
    )
    per_erp = per_erp.join(first_order, how="outer").reset_index()

    crm = read("crm_customers", ["crm_customer_id", "credit_code", "first_deal_date"])
    erp = read("erp_customers", ["erp_customer_id", "credit_code", "created_at"])
    customers = crm.merge(erp, on="credit_code", how="left").merge(per_erp, on="erp_customer_id", how="left")

    start = (
        pandas.to_datetime(customers["first_deal_date"], format="%Y-%m-%d", errors="coerce")
        .fillna(pandas.to_datetime(customers["created_at"], errors="coerce").dt.normalize())
        .fillna(customers["first_order_date"])
    )
    months = (
        (as_of_ts.year - start.dt.year) * 12
        + as_of_ts.month
        - start.dt.month
        - (as_of_ts.day < start.dt.day).astype(int)
    )
    spend_10k = customers["spend"].fillna(0) / 10000
    margin = 100 * (customers["spend"] - customers["cost"]) / customers["spend"].where(customers["spend"] != 0)
    cross = 100 * customers["categories"].fillna(0) / active_categories
    score = (
        _band(spend_10k, SPEND_BANDS) * WEIGHTS["spend"]
        + _band(margin.fillna(-1), MARGIN_BANDS) * WEIGHTS["margin"]
        + _band(months / 12, YEARS_BANDS) * WEIGHTS["years"]
        + _band(cross, CROSS_BANDS) * WEIGHTS["cross"]
    )
    result = pandas.DataFrame({"crm_customer_id": customers["crm_customer_id"], "value_score": score})[start.notna()]
    result.to_parquet(out, index=False)
    return len(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tiering.bench.baselines", description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=["pandas", "duckdb"])
    parser.add_argument("landing_dir", type=Path)
    parser.add_argument("as_of", type=date.fromisoformat)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    compute = pandas_value_scores if args.engine == "pandas" else duckdb_value_scores
    rows = compute(args.landing_dir.resolve(), args.as_of, args.out.resolve())
    print(f"{args.engine}: value scores of {rows:,} customers written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
