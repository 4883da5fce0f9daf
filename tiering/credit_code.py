"""The unified social credit code (统一社会信用代码, GB 32100-2015): the one home of its rule.

18 characters of a 31-character set (digits and capital letters without I, O, S, V, Z); the
18th is a check character computed from the first 17 with fixed weights. Python (the demo
generator, tests) and the SQL of the data-quality views use this module; the dbt macro
``credit_code_is_valid`` spells the same rule in Jinja, and a test holds the two equal.
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17: str) -> str:
    """The 18th character of a unified social credit code, from its first 17."""
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    if any(ch not in CHARSET for ch in first17):
        raise ValueError(f"character outside the credit-code charset in {first17!r}")
    total = sum(CHARSET.index(ch) * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True when ``code`` is 18 charset characters whose last one is the right check character."""
    if not isinstance(code, str) or len(code) != 18 or any(ch not in CHARSET for ch in code):
        return False
    return check_char(code[:17]) == code[17]


def is_valid_sql(column: str) -> str:
    """SQL: is ``column`` a code with a valid check character? Null for an empty code. Plain
    SQL (strpos, substr, length), so the database computes it over the whole table."""
    charset = f"'{CHARSET}'"

    def index(position: int) -> str:
        return f"strpos({charset}, substr({column}, {position}, 1))"

    in_charset = " and ".join(f"{index(i)} > 0" for i in range(1, 19))
    total = " + ".join(f"({index(i)} - 1) * {w}" for i, w in enumerate(WEIGHTS, start=1))
    return (
        f"case when nullif(trim({column}), '') is null then null "
        f"when length({column}) <> 18 or not ({in_charset}) then false "
        f"else substr({column}, 18, 1) = substr({charset}, ((31 - ({total}) % 31) % 31) + 1, 1) end"
    )
