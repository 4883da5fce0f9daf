"""The dedup key of company names (macro normalize_company_name), compiled by dbt and run in DuckDB
on pairs of spellings that must meet and pairs that must stay apart."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import compile_inline

NBSP, IDEOGRAPHIC_SPACE = "\u00a0", "\u3000"

MUST_MEET = [
    ("北京和泰科技有限公司", "北京 和泰科技 有限公司"),
    ("北京和泰科技有限公司", "北京和泰科技有限责任公司"),
    ("ＭＢＰ（上海）科技有限公司", "MBP(上海)科技有限公司"),
    ("MBP[上海]科技有限公司", "MBP(上海)科技有限公司"),
    ("MBP【上海】科技有限公司", "MBP〔上海〕科技有限公司"),
    ("恒通(上海)贸易有限公司", "恒通上海贸易有限公司"),
    ("恒通（上海）贸易有限公司", "恒通上海贸易有限公司"),
    (f"北京和泰{NBSP}科技有限公司", "北京和泰科技有限公司"),
    (f"北京和泰{IDEOGRAPHIC_SPACE}科技有限公司", "北京和泰科技有限公司"),
    ("Acme Co., Ltd.", "ACME CO. LTD."),
    ("Acme Co., Ltd.", "Acme Co Ltd"),
    ("Acme Co., Ltd.", "Acme Company Limited"),
    ("Acme Co., Ltd.", "Acme Ltd."),
    ("Acme Co., Ltd.", "ACME LIMITED"),
    ("Acme Co.,Ltd", "Acme Co., Ltd."),
    ("Ａｃｍｅ Ｃｏ．，Ｌｔｄ．", "Acme Co., Ltd."),
    (f"Acme{NBSP}Co.,{NBSP}Ltd.", "Acme Co., Ltd."),
    ("Acme (Shanghai) Co., Ltd.", "Acme Shanghai Co Ltd"),
    ("华信、数据科技有限公司", "华信数据科技有限公司"),
]

MUST_STAY_APART = [
    # a different legal form is a different firm
    ("广州新锐股份有限公司", "广州新锐有限公司"),
    ("广州新锐股份有限公司", "广州新锐有限责任公司"),
    # the English form is a word of its own, not the end of another word
    ("Teco Ltd", "Te Co Ltd"),
    ("Unlimited Co", "Un Co Ltd"),
    # different names
    ("北京和泰科技有限公司", "北京和泰网络有限公司"),
    ("恒通(上海)贸易有限公司", "恒通(北京)贸易有限公司"),
]


@pytest.fixture(scope="module")
def normalize(tmp_path_factory):
    """The macro as the dbt project compiles it, as a function of one name."""
    tmp = tmp_path_factory.mktemp("normalize")
    compiled = compile_inline("select {{ normalize_company_name('name') }} as normalized from names", tmp)
    connection = duckdb.connect()

    def run(name: str) -> str:
        connection.execute("create or replace temp table names as select ? as name", [name])
        return connection.execute(compiled).fetchone()[0]

    yield run
    connection.close()


@pytest.mark.parametrize(("left", "right"), MUST_MEET)
def test_spellings_of_one_firm_meet(normalize, left, right):
    assert normalize(left) == normalize(right)


@pytest.mark.parametrize(("left", "right"), MUST_STAY_APART)
def test_different_firms_and_different_legal_forms_stay_apart(normalize, left, right):
    assert normalize(left) != normalize(right)


def test_the_english_legal_form_reads_as_the_chinese_one(normalize):
    assert normalize("Acme Co., Ltd.") == "acme有限公司"
