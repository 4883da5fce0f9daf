"""exact_ratio on DuckDB: BIGINT arithmetic for operands that fit, HUGEINT above them.

The macro is compiled by dbt (`dbt compile --inline`) and run in DuckDB; every quotient is
compared with Python's exact integer floor division, on both sides of the BIGINT bound
(10^10 for money at 6 decimals) and with either sign.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

from tests.conftest import compile_inline

# (numerator, denominator, input_scale, scale, SQL type of both operands; DECIMAL(18, input_scale)
# when not given). The models divide sums of money, which are DECIMAL(38, 2), and counts, which
# may be HUGEINT (a sum of integers).
CASES = [
    ("1.00", "3.00", 2, 6),
    ("-1.00", "3.00", 2, 6),
    ("2.00", "-3.00", 2, 6),
    ("-2.00", "-3.00", 2, 6),
    ("0.00", "5.00", 2, 6),
    ("7.00", "0.00", 2, 6),
    ("14.99996", "1.00", 6, 6),
    ("9999999999.99", "0.07", 2, 6),  # just below the bound: BIGINT
    ("10000000000.00", "3.00", 2, 6),  # at the bound: HUGEINT
    ("12345678901234.56", "7.00", 2, 6),
    ("-12345678901234.56", "7.00", 2, 6),
    ("1.00", "20000000000.00", 2, 6),  # the denominator above the bound
    ("700", "9", 0, 6),
    ("-700", "9", 0, 6),
    ("7512.34567891", "100", 8, 4),
    ("-7512.34567891", "100", 8, 4),
    ("1234.56", "78.90", 2, 6, "decimal(38, 2)"),
    ("-0.29", "3.00", 2, 6, "decimal(38, 2)"),
    ("9999999999.99", "-0.07", 2, 6, "decimal(38, 2)"),
    ("10000000000.01", "0.07", 2, 6, "decimal(38, 2)"),
    ("123456789012345678.90", "-7.00", 2, 6, "decimal(38, 2)"),
    ("700", "9", 0, 6, "hugeint"),
    ("-700", "9", 0, 6, "bigint"),
]


def operand_type(case: tuple) -> str:
    return case[4] if len(case) > 4 else f"decimal(18, {case[2]})"


def expected(numerator: str, denominator: str, input_scale: int, scale: int) -> Decimal | None:
    n = int(Decimal(numerator).scaleb(input_scale)) * 10**scale
    d = int(Decimal(denominator).scaleb(input_scale))
    if d == 0:
        return None
    return Decimal(n // d).scaleb(-scale)  # Python's // floors


def compiled_sql(tmp_path: Path) -> str:
    selects = [
        # As text: a union would give every quotient the smallest scale of them.
        f"select {i} as case_no, cast({{{{ exact_ratio('cast({n} as {operand_type(case)})', "
        f"'cast({d} as {operand_type(case)})', input_scale={s_in}, scale={s}) }}}}"
        " as varchar) as quotient"
        for i, case in enumerate(CASES)
        for n, d, s_in, s in [case[:4]]
    ]
    return compile_inline("\nunion all\n".join(selects), tmp_path)


def test_exact_ratio_floors_exactly_below_and_above_the_bigint_bound(tmp_path):
    sql = compiled_sql(tmp_path)
    assert "hugeint" in sql and "bigint" in sql
    with duckdb.connect() as connection:
        rows = dict(connection.execute(f"select case_no, quotient from ({sql})").fetchall())
    assert [None if rows[i] is None else Decimal(rows[i]) for i in range(len(CASES))] == [
        expected(*case[:4]) for case in CASES
    ]
