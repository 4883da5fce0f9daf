"""Deterministic demo CRM/ERP extracts, with planted defects, written by DuckDB SQL.

``make run`` uses it for a ~2,000-customer demo and the benchmark for up to 1,000,000
customers and 20,000,000 order lines. Every random choice is a hash of (seed, row key,
salt), never DuckDB's random(), so the same arguments give byte-identical files however
many threads DuckDB uses. Files follow ``tiering.ingest.contract`` exactly; see docs/demo-data.md.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from faker.providers.address.zh_CN import Provider as _AddressZh
from faker.providers.company.zh_CN import Provider as _CompanyZh
from faker.providers.person.zh_CN import Provider as _PersonZh

from tiering import credit_code
from tiering.ingest.contract import ENTITIES
from tiering.sql import literal

# --- documented defect rates -------------------------------------------------------------

DEFECT_RATES: dict[str, float] = {
    "crm_duplicate_spelling": 0.03,
    "crm_duplicate_without_credit_code": 0.40,
    "crm_duplicate_other_phone": 0.30,
    "erp_only_customer": 0.05,
    "missing_credit_code": 0.03,
    "missing_first_deal_date": 0.02,
    "missing_industry_rank": 0.08,
    "missing_demand_match": 0.05,
    "missing_strategic_level": 0.04,
    "missing_phone": 0.04,
    "order_cancelled": 0.04,
    "order_draft": 0.02,
    "outlier_extra_zero": 0.001,
    "unparseable_order_amount": 0.0002,
    "unparseable_order_date": 0.0001,
}

# What each rate is a share of (the count in ``planted`` is always rows of the file named).
DEFECT_BASIS: dict[str, str] = {
    "crm_duplicate_spelling": "CRM firms (the `customers` argument); extra crm_customers rows",
    "crm_duplicate_without_credit_code": "duplicate CRM rows; the duplicate's credit_code is empty",
    "crm_duplicate_other_phone": "duplicate CRM rows; the duplicate has another phone number",
    "erp_only_customer": "CRM firms; exact count round(rate * customers) of erp_customers rows",
    "missing_credit_code": "first CRM record of each firm (duplicates counted separately above)",
    "missing_first_deal_date": "crm_customers rows (a duplicate copies its original's gaps)",
    "missing_industry_rank": "crm_customers rows",
    "missing_demand_match": "crm_customers rows",
    "missing_strategic_level": "crm_customers rows",
    "missing_phone": "crm_customers rows",
    "order_cancelled": "orders; counted as erp_orders lines",
    "order_draft": "orders; counted as erp_orders lines",
    "outlier_extra_zero": "confirmed erp_orders lines; amount_incl_tax x10, cost unchanged",
    "unparseable_order_amount": "erp_orders lines; amount_incl_tax is 'N/A'",
    "unparseable_order_date": "erp_orders lines; order_date is impossible (month 13 or day 32)",
}

# --- word lists ----------------------------------------------------------------------------

# Twelve industries, each with six words that go into firm names, so a name tells its industry.
# The first words of 信息技术 and 文化传媒 come from Faker's zh_CN company suffixes.
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "信息技术": ("科技", "网络", "信息", "软件", "数据", "智能"),
    "制造业": ("机械", "精密", "装备", "制造", "模具", "五金"),
    "批发零售": ("商贸", "贸易", "百货", "供应链", "商业", "连锁"),
    "建筑业": ("建设", "建筑", "工程", "装饰", "建材", "路桥"),
    "医药健康": ("医药", "生物", "医疗器械", "健康", "制药", "药业"),
    "新能源": ("新能源", "光伏", "储能", "电池", "风电", "能源"),
    "金融服务": ("投资", "融资租赁", "保理", "资产管理", "金融服务", "担保"),
    "交通物流": ("物流", "运输", "快运", "仓储", "货运", "航运"),
    "农业食品": ("农业", "食品", "粮油", "农牧", "生态农业", "饮品"),
    "文化传媒": ("传媒", "文化", "广告", "影视", "会展", "出版"),
    "化工材料": ("化工", "新材料", "塑胶", "涂料", "化学", "高分子"),
    "房地产": ("置业", "地产", "房地产", "物业", "城建", "不动产"),
}
INDUSTRIES: tuple[str, ...] = tuple(INDUSTRY_WORDS)

# Product categories, the VAT rate of the goods or service, and product nouns for names.
PRODUCT_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "电子元器件": ("0.13", ("贴片电阻", "陶瓷电容", "功率电感", "连接器")),
    "工业自动化": ("0.13", ("变频器", "伺服电机", "PLC模块", "工业传感器")),
    "电气设备": ("0.13", ("断路器", "配电柜", "变压器", "电力电缆")),
    "机械配件": ("0.13", ("轴承", "齿轮箱", "液压缸", "联轴器")),
    "五金工具": ("0.13", ("电钻", "扳手套装", "不锈钢螺栓", "角磨机")),
    "仪器仪表": ("0.13", ("压力变送器", "流量计", "示波器", "温控仪")),
    "化工原料": ("0.13", ("环氧树脂", "工业酒精", "聚乙烯颗粒", "钛白粉")),
    "包装材料": ("0.13", ("瓦楞纸箱", "缠绕膜", "木托盘", "气泡袋")),
    "办公用品": ("0.13", ("复印纸", "打印机硒鼓", "办公椅", "文件柜")),
    "劳保用品": ("0.13", ("安全帽", "防护手套", "劳保鞋", "反光背心")),
    "物流运输服务": ("0.09", ("整车运输", "零担运输", "仓储服务", "城配服务")),
    "技术服务": ("0.06", ("软件实施", "运维服务", "技术咨询", "系统集成")),
}
PRODUCT_COUNT = 200

# Faker's zh_CN cities mapped to their province (Faker's own province names), so a firm's
# region matches the city in its name; Taipei, Hong Kong and Macau are left out because
# mainland credit codes do not cover them.
# fmt: off
_CITY_PROVINCE = {
    "北京": "北京市", "上海": "上海市", "天津": "天津市", "重庆": "重庆市",
    "哈尔滨": "黑龙江省", "齐齐哈尔": "黑龙江省", "长春": "吉林省",
    "沈阳": "辽宁省", "辽阳": "辽宁省", "兴城": "辽宁省", "北镇": "辽宁省", "阜新": "辽宁省",
    "呼和浩特": "内蒙古自治区", "通辽": "内蒙古自治区", "兴安盟": "内蒙古自治区",
    "石家庄": "河北省", "辛集": "河北省", "邯郸": "河北省", "太原": "山西省",
    "乌鲁木齐": "新疆维吾尔自治区", "兰州": "甘肃省", "西宁": "青海省", "西安": "陕西省",
    "银川": "宁夏回族自治区", "郑州": "河南省", "济南": "山东省",
    "合肥": "安徽省", "六安": "安徽省", "巢湖": "安徽省", "马鞍山": "安徽省",
    "武汉": "湖北省", "荆门": "湖北省", "潜江": "湖北省", "大冶": "湖北省", "宜都": "湖北省",
    "长沙": "湖南省", "嘉禾": "湖南省",
    "南京": "江苏省", "淮安": "江苏省", "张家港": "江苏省", "海门": "江苏省",
    "成都": "四川省", "贵阳": "贵州省", "六盘水": "贵州省", "关岭": "贵州省", "昆明": "云南省",
    "南宁": "广西壮族自治区", "梧州": "广西壮族自治区", "柳州": "广西壮族自治区",
    "合山": "广西壮族自治区", "拉萨": "西藏自治区", "杭州": "浙江省", "南昌": "江西省",
    "福州": "福建省", "永安": "福建省", "宁德": "福建省", "海口": "海南省",
    "广州": "广东省", "佛山": "广东省", "深圳": "广东省", "潮州": "广东省", "惠州": "广东省",
    "汕尾": "广东省", "东莞": "广东省",
}
# First two digits of the administrative division code (GB/T 2260) per province.
_PROVINCE_CODE = {
    "北京市": 11, "天津市": 12, "河北省": 13, "山西省": 14, "内蒙古自治区": 15, "辽宁省": 21,
    "吉林省": 22, "黑龙江省": 23, "上海市": 31, "江苏省": 32, "浙江省": 33, "安徽省": 34,
    "福建省": 35, "江西省": 36, "山东省": 37, "河南省": 41, "湖北省": 42, "湖南省": 43,
    "广东省": 44, "广西壮族自治区": 45, "海南省": 46, "重庆市": 50, "四川省": 51, "贵州省": 52,
    "云南省": 53, "西藏自治区": 54, "陕西省": 61, "甘肃省": 62, "青海省": 63,
    "宁夏回族自治区": 64, "新疆维吾尔自治区": 65,
}
# fmt: on


def _unique(values) -> list[str]:
    """Values in first-seen order without repeats (Faker's lists repeat a few entries)."""
    return list(dict.fromkeys(values))


CITIES: tuple[str, ...] = tuple(c for c in _unique(_AddressZh.cities) if c in _CITY_PROVINCE)
# Trade names (字号); entries that already end in 公司 would read "…公司科技有限公司".
FIRM_PREFIXES: tuple[str, ...] = tuple(p for p in _unique(_CompanyZh.company_prefixes) if "公司" not in p)
_SURNAMES: tuple[str, ...] = tuple(_unique(_PersonZh.last_names))
_GIVEN_NAMES: tuple[str, ...] = tuple(_unique(_PersonZh.first_names))
_NAME_WORDS: tuple[str, ...] = tuple(w for words in INDUSTRY_WORDS.values() for w in words)
# Distinct (city, trade name, industry word) combinations; firms past this get "第N分公司".
NAME_COMBINATIONS = len(CITIES) * len(FIRM_PREFIXES) * len(_NAME_WORDS)
# Ids have 7 digits (C/E + 7) and the credit-code bijection must not overflow a bigint.
MAX_CUSTOMERS = 9_000_000

assert set(_CITY_PROVINCE.values()) <= set(_AddressZh.provinces)
assert all(len(words) == len(INDUSTRY_WORDS["信息技术"]) for words in INDUSTRY_WORDS.values())

# --- generation ------------------------------------------------------------------------------


@dataclass
class GeneratedExtracts:
    """What one generator run wrote: the files, their data-row counts, and the planted defects."""

    files: dict[str, Path]
    row_counts: dict[str, int]
    planted: dict[str, int] = field(default_factory=dict)


def _sql_list(values) -> str:
    """A DuckDB list literal of strings."""
    return "[" + ", ".join(literal(v) for v in values) + "]"


def _coprime_multiplier(rng: random.Random, modulus: int) -> int:
    """A multiplier for the bijection x -> (a*x + b) mod modulus: any a coprime to modulus."""
    while True:
        a = rng.randrange(modulus // 3, modulus) | 1
        if math.gcd(a, modulus) == 1:
            return a


def _macros(seed: int, as_of: date, n_owners: int, rng: random.Random) -> list[str]:
    """SQL macros shared by every query: hashed uniforms, word lists, and per-line values."""
    categories = list(PRODUCT_CATEGORIES)
    tax_rates = [PRODUCT_CATEGORIES[c][0] for c in categories]
    # nouns of all categories in one list: category k's nouns start at 4*k
    nouns = [noun for c in categories for noun in PRODUCT_CATEGORIES[c][1]]
    n_cat = len(categories)
    words_per_industry = len(INDUSTRY_WORDS["信息技术"])
    province_codes = [_PROVINCE_CODE[_CITY_PROVINCE[c]] for c in CITIES]
    list_prices = [round(20 * 500 ** rng.random(), 2) for _ in range(PRODUCT_COUNT)]
    checksum_terms = " + ".join(f"d{k} * {w}" for k, w in zip(range(9), credit_code.WEIGHTS[8:], strict=True))
    return [
        # A uniform in [0, 1) from 53 bits of hash(key, salt, seed); same inputs, same number.
        f"create temp macro u(k, salt) as ((hash(k::bigint, salt, {seed}::bigint) >> 11)::double / 9007199254740992.0)",
        # A standard normal by Box-Muller from two hashed uniforms.
        "create temp macro nz(k, salt) as (sqrt(-2 * ln(1 - u(k, salt || ':a'))) * cos(2 * pi() * u(k, salt || ':b')))",
        "create temp macro pick(xs, k, salt) as (xs[1 + floor(u(k, salt) * len(xs))::bigint])",
        f"create temp macro city_name(x) as ({_sql_list(CITIES)}[x + 1])",
        f"create temp macro province_name(x) as ({_sql_list(_CITY_PROVINCE[c] for c in CITIES)}[x + 1])",
        f"create temp macro province_code(x) as ({list(province_codes)}[x + 1])",
        f"create temp macro firm_prefix(x) as ({_sql_list(FIRM_PREFIXES)}[x + 1])",
        f"create temp macro name_word(x) as ({_sql_list(_NAME_WORDS)}[x + 1])",
        f"create temp macro industry_name(x) as ({_sql_list(INDUSTRIES)}[x // {words_per_industry} + 1])",
        f"create temp macro owner_name(k) as (pick({_sql_list(_SURNAMES[:100])}, k, 'owner_surname')"
        f" || pick({_sql_list(_GIVEN_NAMES)}, k, 'owner_given'))",
        f"create temp macro n_owners() as ({n_owners})",
        f"create temp macro category_name(k) as ({_sql_list(categories)}[k + 1])",
        f"create temp macro category_tax(k) as ({_sql_list(tax_rates)}[k + 1])",
        f"create temp macro product_noun(k, j) as ({_sql_list(nouns)}[4 * k + j % 4 + 1])",
        f"create temp macro category_size(k) as (({PRODUCT_COUNT} - k + {n_cat - 1}) // {n_cat})",
        f"create temp macro category_tax_value(k) as ({[float(t) for t in tax_rates]}[k + 1])",
        f"create temp macro product_code(p) as ({_sql_list(f'P{p + 1:05d}' for p in range(PRODUCT_COUNT))}[p + 1])",
        # list prices, only to turn an amount into a plausible quantity: 20 to 10,000 CNY
        f"create temp macro list_price(p) as ({list_prices}[p + 1])",
        f"create temp macro as_of() as (date '{as_of.isoformat()}')",
        # credit code: value of body digit d0..d8 (base 31) and the checksum over all 17 places
        f"create temp macro cc_char(v) as ({_sql_list(credit_code.CHARSET)}[v + 1])",
        "create temp macro cc_check(region, d0, d1, d2, d3, d4, d5, d6, d7, d8) as ("
        "(31 - (9 * 1 + 1 * 3"
        " + (region // 100000) * 9 + (region // 10000 % 10) * 27 + (region // 1000 % 10) * 19"
        " + (region // 100 % 10) * 26 + (region // 10 % 10) * 16 + (region % 10) * 17"
        f" + {checksum_terms}) % 31) % 31)",
        # --- per order line; `lk` is the line key order_key * 8 + line index ---------------
        f"create temp macro line_category(lk, home_cat, home_share) as ("
        f"case when u(lk, 'home') < home_share then home_cat else floor(u(lk, 'category') * {n_cat})::int end)",
        f"create temp macro line_product(lk, cat) as ("
        f"cat + {n_cat} * floor(u(lk, 'product') * category_size(cat))::int)",
        # the true tax-inclusive amount: the customer's typical line, log-normal spread (sigma 0.6)
        "create temp macro line_amount(lk, typical, cat) as (greatest(1,"
        " round(typical * exp(0.6 * nz(lk, 'amount') - 0.18) * (1 + category_tax_value(cat)), 2))::decimal(18,2))",
        "create temp macro order_line_amount(ok, j, nl, typical, home_cat, home_share) as ("
        "case when j < nl then line_amount(ok * 8 + j, typical, line_category(ok * 8 + j, home_cat, home_share))"
        " else 0 end)",
    ]


def _build_firms(con, n: int, n_erp_only: int, rng: random.Random) -> None:
    """One row per firm (CRM firms first, then ERP-only firms): name, code, size, habits."""
    total = n + n_erp_only
    # Affine bijections x -> (a*x + b) mod m spread firm numbers over names and codes without
    # repeats; a stays small enough that a*x fits in a bigint for MAX_CUSTOMERS firms and more.
    # The name number is then read as mixed-radix digits: city, trade name, industry word.
    name_mult = _coprime_multiplier(rng, NAME_COMBINATIONS)
    name_add = rng.randrange(NAME_COMBINATIONS)
    code_space = 31**9
    code_mult = rng.randrange(10**11, 8 * 10**11)
    code_mult += code_mult % 31 == 0  # coprime to 31**9
    code_add = rng.randrange(code_space)
    n_city, n_prefix = len(CITIES), len(FIRM_PREFIXES)
    digits = ", ".join(f"(code_ix // {31 ** (8 - k)} % 31)::int as d{k}" for k in range(9))
    code_chars = " || ".join(f"cc_char(d{k})" for k in range(9))
    con.execute(f"""
        create temp table firms as
        with base as (
            select
                i,
                i < {n} as in_crm,
                ({name_mult} * (i % {NAME_COMBINATIONS}) + {name_add}) % {NAME_COMBINATIONS} as name_ix,
                i // {NAME_COMBINATIONS} as branch,
                ({code_mult} * i + {code_add}) % {code_space} as code_ix
            from range({total}) t(i)
        ),
        parts as (
            select
                *,
                (name_ix % {n_city})::int as city_ix,
                (name_ix // {n_city} % {n_prefix})::int as prefix_ix,
                (name_ix // {n_city * n_prefix})::int as word_ix,
                u(i, 'bracket') < 0.25 as bracket_form,
                province_code((name_ix % {n_city})::int) * 10000
                    + (1 + floor(u(i, 'city_code') * 19)::int) * 100
                    + (1 + floor(u(i, 'district_code') * 18)::int) as region_code,
                {digits}
            from base
        )
        select
            i, in_crm, city_ix, prefix_ix, word_ix, bracket_form, branch,
            city_name(city_ix) as city,
            firm_prefix(prefix_ix) || name_word(word_ix) as trade,
            case when branch > 0 then '第' || branch || '分公司' else '' end as branch_suffix,
            case when bracket_form then trade || '(' || city || ')有限公司'
                 else city || trade || '有限公司' end || branch_suffix as name,
            industry_name(word_ix) as industry,
            province_name(city_ix) as region,
            '91' || region_code::varchar || {code_chars}
                || cc_char(cc_check(region_code, d0, d1, d2, d3, d4, d5, d6, d7, d8)) as credit_code,
            -- days since the first deal: 0-15 years for CRM firms, 0-10 for ERP-only firms
            floor(u(i, 'first_deal') * case when in_crm then 5479 else 3653 end)::int as first_deal_days,
            -- annual tax-exclusive spend aimed at, in 10k CNY: Lomax (Pareto II), alpha 1.2
            greatest(0.5, 120 * (pow(greatest(1 - u(i, 'size'), 1e-3), -1 / 1.2) - 1)) as spend_target,
            least(0.32, greatest(-0.02, 0.12 + 0.065 * nz(i, 'margin'))) as margin,
            floor(u(i, 'home_category') * {len(PRODUCT_CATEGORIES)})::int as home_cat,
            0.45 + 0.5 * u(i, 'home_share') as home_share,
            u(i, 'churn') < 0.07 as churned,
            90 + floor(u(i, 'churn_gap') * 400)::int as churn_gap,
            case when u(i, 'terms') < 0.5 then 30 when u(i, 'terms') < 0.85 then 60 else 90 end as pay_term,
            -- bigger firms pay more reliably: the share of invoices paid late falls with size
            case when u(i, 'payer') < 0.6 + 0.35 * u(i, 'size') then 0.03
                 when u(i, 'payer') < 0.9 + 0.08 * u(i, 'size') then 0.25 else 0.6 end as late_share
        from parts
        order by i
    """)


def _build_crm(con) -> None:
    """CRM rows: each firm's record, plus a respelled duplicate for some; ids shuffled by hash."""
    r = DEFECT_RATES
    con.execute(f"""
        create temp table crm as
        with dups as (select * from firms where in_crm and u(i, 'duplicate') < {r["crm_duplicate_spelling"]}),
        original as (
            select
                i, false as is_dup, name as customer_name,
                case when u(i, 'missing_credit_code') >= {r["missing_credit_code"]} then credit_code end as credit_code,
                '1' || (3 + floor(u(i, 'phone_2') * 7)::int)
                    || lpad(floor(u(i, 'phone') * 1e9)::bigint::varchar, 9, '0') as phone,
                u(i, 'missing_phone') < {r["missing_phone"]} as phone_missing,
                floor(u(i, 'owner') * n_owners())::int as owner_ix,
                floor(u(i, 'updated') * least(first_deal_days, 1000))::int as updated_days,
                floor(u(i, 'updated_s') * 36000)::int + 28800 as updated_secs
            from firms where in_crm
        ),
        duplicate as (
            select
                d.i, true,
                -- the respelling: full-width brackets/letters/digits where the name has them,
                -- else 有限责任公司 for 有限公司 or spaces between the name's parts
                case
                    when regexp_matches(d.name, '[()A-Za-z0-9]')
                        then translate(d.name, '()0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
                                       '（）０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ')
                    when u(d.i, 'respell') < 0.5 then replace(d.name, '有限公司', '有限责任公司')
                    else d.city || ' ' || d.trade || ' 有限公司' || d.branch_suffix
                end,
                case when u(d.i, 'duplicate_code') >= {r["crm_duplicate_without_credit_code"]} then d.credit_code end,
                case when u(d.i, 'duplicate_phone') < {r["crm_duplicate_other_phone"]}
                     then '1' || (3 + floor(u(d.i, 'dphone_2') * 7)::int)
                          || lpad(floor(u(d.i, 'dphone') * 1e9)::bigint::varchar, 9, '0')
                     else o.phone end,
                o.phone_missing and u(d.i, 'duplicate_phone') >= {r["crm_duplicate_other_phone"]},
                floor(u(d.i, 'dup_owner') * n_owners())::int,
                floor(u(d.i, 'dup_updated') * least(d.first_deal_days, 400))::int,
                floor(u(d.i, 'dup_updated_s') * 36000)::int + 28800
            from dups d join original o using (i)
        ),
        both_ as (select * from original union all select * from duplicate)
        select
            row_number() over (order by u(2 * b.i + b.is_dup::int, 'crm_id'), b.i, b.is_dup) as crm_num,
            'C' || lpad(crm_num::varchar, 7, '0') as crm_customer_id,
            b.i, b.is_dup, b.customer_name, b.credit_code,
            f.industry, f.region,
            case when not b.phone_missing then b.phone end as phone,
            pick(['contact', 'sales', 'info', 'purchase'], f.i, 'email') || (f.i + 1) || '@example.com' as email,
            owner_name(b.owner_ix) as owner,
            case when u(f.i, 'missing_first_deal_date') >= {r["missing_first_deal_date"]}
                 then as_of() - f.first_deal_days end as first_deal_date,
            case when u(f.i, 'missing_industry_rank') >= {r["missing_industry_rank"]}
                 -- bigger firms tend to rank higher in their industry, match demand better and
                 -- matter more strategically: blend the firm's size draw with its own draw
                 then 1 + floor(500 * pow(1 - (0.65 * u(f.i, 'size') + 0.35 * u(f.i, 'industry_rank')), 2.5))::int
            end as industry_rank,
            case when u(f.i, 'missing_demand_match') >= {r["missing_demand_match"]}
                 then round(100 * pow(0.5 * u(f.i, 'size') + 0.5 * u(f.i, 'demand_match'), 0.7), 2)::decimal(5,2)
            end as demand_match_pct,
            case when u(f.i, 'missing_strategic_level') >= {r["missing_strategic_level"]} then
                case when 0.75 * u(f.i, 'size') + 0.25 * u(f.i, 'strategic') >= 0.88 then 'national_key'
                     when 0.75 * u(f.i, 'size') + 0.25 * u(f.i, 'strategic') >= 0.72 then 'regional_leader'
                     when 0.75 * u(f.i, 'size') + 0.25 * u(f.i, 'strategic') >= 0.35 then 'ordinary'
                     else 'non_core' end
            end as strategic_level,
            (as_of() - b.updated_days)::timestamp + to_seconds(b.updated_secs) as updated_at
        from both_ b join firms f using (i)
        order by crm_num
    """)


def _build_orders(con, lines_per_customer: float) -> None:
    """One row per order, sorted by date so order ids rise with time; lines come from these."""
    r = DEFECT_RATES
    con.execute(f"""
        create temp table customers as
        with sized as (
            select
                *,
                -- order count grows with the square root of size, the amount per line with the rest
                greatest(1, round(100 * sqrt(spend_target)))::bigint as activity,
                least(1096, first_deal_days + 1) as span
            from firms
        ),
        totals as (select sum(activity) as total_activity, count(*) as firms from sized),
        counted as (
            select
                s.*,
                greatest(1, round({lines_per_customer / 3.0!r} * t.firms * s.activity / t.total_activity))::bigint
                    as n_orders,
                -- orders the customer would have at 20 lines per customer; spend targets refer to it
                greatest(1, round(20 / 3.0 * t.firms * s.activity / t.total_activity))::bigint as n_orders_ref,
                case when s.churned and s.span - s.churn_gap >= 60 then s.churn_gap else 0 end as gap
            from sized s, totals t
        )
        select
            i, erp_num, home_cat, home_share, margin, pay_term, late_share, span, gap, n_orders,
            -- typical tax-exclusive line amount, so that annual spend comes near spend_target
            spend_target * 10000 * (span / 365.0) / (3 * n_orders_ref) as typical_line,
            sum(n_orders) over (order by i rows between unbounded preceding and current row) - n_orders
                as first_order_key
        from counted join erp_ids using (i)
        order by i
    """)
    con.execute(f"""
        create temp table orders as
        with expanded as (
            select c.*, unnest(range(c.n_orders)) as k from customers c
        ),
        dated as (
            select
                *,
                first_order_key + k as order_key,
                as_of() - (gap + floor(u(first_order_key + k, 'order_day') * (span - gap))::int) as order_date
            from expanded
        )
        select
            row_number() over (order by order_date, order_key) as order_seq,
            'SO' || lpad(order_seq::varchar, 9, '0') as order_id,
            'E' || lpad(erp_num::varchar, 7, '0') as erp_customer_id,
            order_key, i, order_date,
            case when u(order_key, 'status') < {r["order_cancelled"]} then 'cancelled'
                 when u(order_key, 'status') < {r["order_cancelled"] + r["order_draft"]} then 'draft'
                 else 'confirmed' end as status,
            1 + floor(u(order_key, 'lines') * 5)::int as n_lines,
            typical_line, margin, home_cat, home_share, pay_term, late_share
        from dated
        order by order_date, order_key
    """)


_LINES_VIEW = """
    create temp view order_lines as
    with lines as (
        -- orders is stored in order_seq order and unnest keeps it: the file needs no sort
        select o.*, unnest(range(o.n_lines)) as j from orders o
    ),
    keyed as (
        select *, order_key * 8 + j as lk, line_category(order_key * 8 + j, home_cat, home_share) as cat
        from lines
    ),
    valued as (
        select
            *,
            line_product(lk, cat) as p,
            line_amount(lk, typical_line, cat) as true_amount,
            u(lk, 'na_amount') < {na_rate} as na_amount,
            u(lk, 'bad_date') < {bad_date_rate} and not na_amount as bad_date,
            u(lk, 'outlier') < {outlier_rate} and status = 'confirmed' and not na_amount and not bad_date as outlier
        from keyed
    )
    select
        order_id,
        (j + 1)::int as line_no,
        erp_customer_id,
        case when not bad_date then order_date::varchar
             -- an impossible date: month 13 or day 32
             when u(lk, 'bad_date_kind') < 0.5
                 then left(order_date::varchar, 5) || '13' || right(order_date::varchar, 3)
             else left(order_date::varchar, 8) || '32' end as order_date,
        status,
        product_code(p) as product_id,
        greatest(1, round(true_amount::double / list_price(p)))::bigint as quantity,
        case when na_amount then 'N/A'
             when outlier then (true_amount * 10)::varchar
             else true_amount::varchar end as amount_incl_tax,
        category_tax(cat) as tax_rate,
        -- cost from the true amount, so an extra-zero outlier shows as an absurd margin
        round(true_amount::double / (1 + category_tax_value(cat))
              * (1 - (margin + 0.03 * nz(lk, 'line_margin'))), 2)::decimal(18,2) as cost_excl_tax,
        'CNY' as currency,
        na_amount, bad_date, outlier
    from valued
""".format(
    na_rate=DEFECT_RATES["unparseable_order_amount"],
    bad_date_rate=DEFECT_RATES["unparseable_order_date"],
    outlier_rate=DEFECT_RATES["outlier_extra_zero"],
)

_RECEIVABLES_VIEW = """
    create temp view receivables as
    with invoiced as (
        select
            *,
            order_date + floor(u(order_key, 'invoice_day') * 8)::int as invoice_date,
            u(order_key, 'payment') as pay_u
        from orders
        where status = 'confirmed'
    ),
    paid as (
        select
            *,
            invoice_date + pay_term as due_date,
            case when u(order_key, 'bad_debt') < 0.02 then null
                 when pay_u < late_share then invoice_date + pay_term + 1 + floor(u(order_key, 'late_days') * 90)::int
                 else invoice_date + floor(u(order_key, 'paid_day') * pay_term)::int
            end as paid_on
        from invoiced
        where invoice_date <= as_of()
    )
    select
        'INV' || lpad(order_seq::varchar, 9, '0') as invoice_id,
        erp_customer_id,
        invoice_date,
        due_date,
        -- the invoice bills the true line amounts (an outlier is an order-entry error only)
        (order_line_amount(order_key, 0, n_lines, typical_line, home_cat, home_share)
         + order_line_amount(order_key, 1, n_lines, typical_line, home_cat, home_share)
         + order_line_amount(order_key, 2, n_lines, typical_line, home_cat, home_share)
         + order_line_amount(order_key, 3, n_lines, typical_line, home_cat, home_share)
         + order_line_amount(order_key, 4, n_lines, typical_line, home_cat, home_share))::decimal(18,2) as amount,
        case when paid_on <= as_of() then paid_on end as paid_date
    from paid
"""


def _select_contract(entity: str, source: str, order_by: str | None = None) -> str:
    """A select of exactly the contract's columns, in its order, from ``source``."""
    columns = ", ".join(ENTITIES[entity].column_names)
    order = f" order by {order_by}" if order_by else ""
    return f"select {columns} from {source}{order}"


def generate_demo_extracts(
    landing_dir: Path,
    *,
    customers: int = 2000,
    seed: int = 42,
    as_of: date,
    lines_per_customer: float = 20.0,
    memory_limit: str = "2GB",
) -> GeneratedExtracts:
    """Write one CSV per contract entity into ``landing_dir`` and return counts and planted defects.

    ``customers`` CRM firms (plus ERP-only firms and CRM duplicates), about
    ``customers * lines_per_customer`` order lines over the three years to ``as_of``.
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS:,}")
    if lines_per_customer <= 0:
        raise ValueError("lines_per_customer must be positive")
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_erp_only = round(customers * DEFECT_RATES["erp_only_customer"])
    n_owners = max(5, customers // 60)

    with tempfile.TemporaryDirectory(prefix="tiering-generate-") as spill:
        con = duckdb.connect()
        try:
            con.execute(f"set memory_limit = '{memory_limit}'")
            con.execute(f"set temp_directory = '{spill}'")
            # keeps scan order through unnest and projection, so big files need no sort
            con.execute("set preserve_insertion_order = true")
            con.execute("set enable_progress_bar = false")
            for macro in _macros(seed, as_of, n_owners, rng):
                con.execute(macro)
            _build_firms(con, customers, n_erp_only, rng)
            con.execute("""
                create temp table erp_ids as
                select i, row_number() over (order by u(i, 'erp_id'), i) as erp_num from firms
            """)
            _build_crm(con)
            _build_orders(con, lines_per_customer)
            con.execute(_LINES_VIEW)
            con.execute(_RECEIVABLES_VIEW)
            _build_small_tables(con)

            sources = {
                "crm_customers": ("crm", "crm_num"),
                "erp_customers": ("erp_customers_t", "erp_customer_id"),
                "erp_products": ("products", "product_id"),
                "erp_orders": ("order_lines", None),  # already in order_seq, line_no order
                "erp_receivables": ("receivables", None),  # already in order_seq order
                "crm_complaints": ("complaints", "ticket_id"),
            }
            # Write every file as *.csv.part and rename them all at the end, so that nothing
            # watching the landing folder sees a half-written extract.
            parts: dict[str, Path] = {}
            for entity, (source, order_by) in sources.items():
                part = landing_dir / f"{entity}_{as_of:%Y-%m-%d}.csv.part"
                con.execute(
                    f"copy ({_select_contract(entity, source, order_by)}) to {literal(part)}"
                    " (format csv, header, timestampformat '%Y-%m-%d %H:%M:%S', dateformat '%Y-%m-%d')"
                )
                parts[entity] = part
            row_counts, planted = _count(con)
        finally:
            con.close()
    files: dict[str, Path] = {}
    for entity, part in parts.items():
        files[entity] = part.with_suffix("")  # drops ".part"
        if entity == "crm_customers":
            _prepend_bom(part, files[entity])
        else:
            part.replace(files[entity])
    planted["erp_only_customer"] = n_erp_only
    planted = {name: planted[name] for name in DEFECT_RATES}
    return GeneratedExtracts(files=files, row_counts=row_counts, planted=planted)


def _build_small_tables(con) -> None:
    """Products, ERP customers and complaints: small enough to sort."""
    n_cat = len(PRODUCT_CATEGORIES)
    con.execute(f"""
        create temp table products as
        select
            'P' || lpad((p + 1)::varchar, 5, '0') as product_id,
            product_noun(p % {n_cat}, p // {n_cat}) || ' '
                || chr(65 + floor(u(p, 'model') * 26)::int) || '-' || (101 + p // {n_cat}) as product_name,
            category_name(p % {n_cat}) as product_category,
            -- the first product of every category stays active, so each category counts
            p < {n_cat} or u(p, 'inactive') >= 0.1 as is_active
        from range({PRODUCT_COUNT}) t(p)
    """)
    con.execute("""
        create temp table erp_customers_t as
        select
            'E' || lpad(e.erp_num::varchar, 7, '0') as erp_customer_id,
            -- the ERP keeps the registered name, with full-width brackets
            translate(f.name, '()', '（）') as customer_name,
            f.credit_code,
            (as_of() - f.first_deal_days)::timestamp
                + to_seconds(28800 + floor(u(f.i, 'erp_created') * 36000)::int) as created_at
        from firms f join erp_ids e using (i)
    """)
    con.execute("""
        create temp table complaints as
        with complaining as (
            select f.i, 1 + floor(u(f.i, 'complaint_count') * 4)::int as n, least(1096, f.first_deal_days + 1) as span
            from firms f
            where f.in_crm and u(f.i, 'complains') < 0.15
        ),
        tickets as (
            select i, span, i * 8 + unnest(range(n)) as tk from complaining
        ),
        opened as (
            select
                t.*,
                floor(u(tk, 'opened_day') * span)::int as days_ago,
                (as_of() - days_ago)::timestamp
                    + to_seconds(28800 + floor(u(tk, 'opened_s') * 43200)::int) as opened_at,
                -- some tickets of a duplicated firm were logged against the duplicate record
                coalesce(
                    case when u(tk, 'on_duplicate') < 0.3
                         then (select crm_customer_id from crm d where d.i = t.i and d.is_dup) end,
                    (select crm_customer_id from crm o where o.i = t.i and not o.is_dup)
                ) as crm_customer_id
            from tickets t
        )
        select
            'T' || lpad(row_number() over (order by opened_at, tk)::varchar, 8, '0') as ticket_id,
            crm_customer_id,
            opened_at,
            case when u(tk, 'severity') < 0.5 then 'low'
                 when u(tk, 'severity') < 0.85 then 'medium'
                 else 'high' end as severity,
            -- recent tickets are often still open, old ones seldom
            case when u(tk, 'open') < (case when days_ago < 30 then 0.6 else 0.05 end) then 'open'
                 else 'closed' end as status
        from opened
    """)


def _count(con) -> tuple[dict[str, int], dict[str, int]]:
    """Row counts and planted-defect counts, computed from the same tables and views the files came from."""
    crm = con.execute("""
        select
            count(*),
            count(*) filter (where is_dup),
            count(*) filter (where is_dup and credit_code is null),
            count(*) filter (where not is_dup and credit_code is null),
            count(*) filter (where first_deal_date is null),
            count(*) filter (where industry_rank is null),
            count(*) filter (where demand_match_pct is null),
            count(*) filter (where strategic_level is null),
            count(*) filter (where phone is null)
        from crm
    """).fetchone()
    dup_other_phone = con.execute(f"""
        select count(*) from firms
        where in_crm and u(i, 'duplicate') < {DEFECT_RATES["crm_duplicate_spelling"]}
          and u(i, 'duplicate_phone') < {DEFECT_RATES["crm_duplicate_other_phone"]}
    """).fetchone()[0]
    lines = con.execute("""
        select
            count(*),
            count(*) filter (where status = 'cancelled'),
            count(*) filter (where status = 'draft'),
            count(*) filter (where outlier),
            count(*) filter (where na_amount),
            count(*) filter (where bad_date)
        from order_lines
    """).fetchone()
    row_counts = {
        "crm_customers": crm[0],
        "erp_customers": con.execute("select count(*) from erp_customers_t").fetchone()[0],
        "erp_products": con.execute("select count(*) from products").fetchone()[0],
        "erp_orders": lines[0],
        "erp_receivables": con.execute("select count(*) from receivables").fetchone()[0],
        "crm_complaints": con.execute("select count(*) from complaints").fetchone()[0],
    }
    planted = {
        "crm_duplicate_spelling": crm[1],
        "crm_duplicate_without_credit_code": crm[2],
        "crm_duplicate_other_phone": dup_other_phone,
        "missing_credit_code": crm[3],
        "missing_first_deal_date": crm[4],
        "missing_industry_rank": crm[5],
        "missing_demand_match": crm[6],
        "missing_strategic_level": crm[7],
        "missing_phone": crm[8],
        "order_cancelled": lines[1],
        "order_draft": lines[2],
        "outlier_extra_zero": lines[3],
        "unparseable_order_amount": lines[4],
        "unparseable_order_date": lines[5],
    }
    return {k: int(v) for k, v in row_counts.items()}, {k: int(v) for k, v in planted.items()}


def _prepend_bom(part: Path, final: Path) -> None:
    """Copy ``part`` to ``final`` behind a UTF-8 byte-order mark, then remove ``part``.

    DuckDB's CSV writer has no BOM option; the CRM export has one to exercise BOM handling.
    """
    staged = part.with_name(part.name + ".bom")
    with open(part, "rb") as src, open(staged, "wb") as dst:
        dst.write(b"\xef\xbb\xbf")
        shutil.copyfileobj(src, dst, length=1 << 20)
    part.unlink()
    staged.replace(final)


def main(argv: list[str] | None = None) -> int:
    """Command line: write demo extracts and print row and planted-defect counts."""
    parser = argparse.ArgumentParser(prog="python -m tiering.demo.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--landing-dir", type=Path, required=True)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--lines-per-customer", type=float, default=20.0)
    parser.add_argument("--memory-limit", default="2GB")
    args = parser.parse_args(argv)
    result = generate_demo_extracts(
        args.landing_dir,
        customers=args.customers,
        seed=args.seed,
        as_of=args.as_of,
        lines_per_customer=args.lines_per_customer,
        memory_limit=args.memory_limit,
    )
    for entity, path in result.files.items():
        print(f"{entity:<18} {result.row_counts[entity]:>12,}  {path}")
    print("planted defects:")
    for name, count in result.planted.items():
        print(f"  {name:<36} {count:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
