{#- 分级分类结果汇总表 of one as-of date, grouped on `tier_column` of customer_tiers: `tier` (the
    computed tier) for tier_summary, `effective_tier` (the tier the business acts on, after the
    re-tier rules) for tier_summary_effective. Both tables have the same columns and rows:

    - one row per tier of rubric_tiers (a tier without customers shows 0), pending included;
      shares are of the tiered (not pending) customers, so pending has empty shares;
    - one total row (is_total_row, tier `total`, 合计): every customer and all their spend,
      pending included, so it reconciles with the confirmed orders; its shares are 100 (the sum
      of the tier rows' shares) when any tiered customer (or spend) exists, else 0;
    - avg_margin_pct is spend-weighted: Σ(margin × spend) / Σ spend over the customers that have
      a margin (revenue in the period), i.e. the margin of the group's business as a whole, not
      the mean of its customers' margins. Weighting is done on exact values; only the result is
      rounded (2 decimals). -#}
{% macro tier_summary(tier_column, tier_basis) -%}
with customer_tiers as (
    select * from {{ ref('customer_tiers') }}
    where as_of_date = {{ as_of_date() }}
),

tiers as (
    select * from {{ ref('rubric_tiers') }}
),

rubric as (
    select * from {{ ref('int_rubric_versioned') }}
),

per_tier as (
    select
        {{ tier_column }} as tier,
        count(*) as customer_count,
        sum(period_spend_cny) as total_spend_cny,
        sum(case when profit_margin_pct is not null then profit_margin_pct * period_spend_cny end)
            as margin_weighted_spend,
        sum(case when profit_margin_pct is not null then period_spend_cny end) as margin_spend_cny
    from customer_tiers
    group by {{ tier_column }}
),

tiered_totals as (
    select
        coalesce(sum(case when tier <> 'pending' then customer_count end), 0) as tiered_customer_count,
        coalesce(sum(case when tier <> 'pending' then total_spend_cny end), 0) as tiered_spend_cny,
        coalesce(sum(customer_count), 0) as customer_count,
        coalesce(sum(total_spend_cny), 0) as total_spend_cny,
        sum(margin_weighted_spend) as margin_weighted_spend,
        sum(margin_spend_cny) as margin_spend_cny
    from per_tier
),

tier_rows as (
    select
        {{ as_of_date() }} as as_of_date,
        tiers.tier,
        tiers.tier_name_zh,
        tiers.tier_name_en,
        coalesce(per_tier.customer_count, 0) as customer_count,
        case
            when tiers.tier <> 'pending' then
                coalesce({{ divide('100 * per_tier.customer_count', 'tiered_totals.tiered_customer_count') }}, 0)
        end as customer_share_pct,
        coalesce({{ divide('per_tier.total_spend_cny', 10000, scale=6) }}, 0) as total_spend_10k,
        case
            when tiers.tier <> 'pending' then
                coalesce({{ divide('100 * per_tier.total_spend_cny', 'tiered_totals.tiered_spend_cny') }}, 0)
        end as spend_share_pct,
        {{ divide('per_tier.margin_weighted_spend', 'per_tier.margin_spend_cny', scale=2, precision=9) }}
            as avg_margin_pct,
        tiers.strategy,
        tiers.sort_order,
        rubric.rubric_version,
        false as is_total_row
    from tiers
    left join per_tier
        on tiers.tier = per_tier.tier
    cross join tiered_totals
    cross join rubric
),

total_row as (
    select
        {{ as_of_date() }} as as_of_date,
        'total' as tier,
        '合计' as tier_name_zh,
        'Total' as tier_name_en,
        tiered_totals.customer_count,
        cast(case when tiered_totals.tiered_customer_count > 0 then 100 else 0 end as decimal(18, 4))
            as customer_share_pct,
        coalesce({{ divide('tiered_totals.total_spend_cny', 10000, scale=6) }}, 0) as total_spend_10k,
        cast(case when tiered_totals.tiered_spend_cny <> 0 then 100 else 0 end as decimal(18, 4))
            as spend_share_pct,
        {{ divide('tiered_totals.margin_weighted_spend', 'tiered_totals.margin_spend_cny', scale=2, precision=9) }}
            as avg_margin_pct,
        cast(null as {{ dbt.type_string() }}) as strategy,
        (select max(sort_order) + 1 from tiers) as sort_order,
        rubric.rubric_version,
        true as is_total_row
    from tiered_totals
    cross join rubric
),

final as (
    select * from tier_rows
    union all
    select * from total_row
)

select
    as_of_date,
    tier,
    tier_name_zh,
    tier_name_en,
    customer_count,
    customer_share_pct,
    total_spend_10k,
    spend_share_pct,
    avg_margin_pct,
    strategy,
    sort_order,
    rubric_version,
    is_total_row,
    '{{ tier_basis }}' as tier_basis
from final
{%- endmacro %}
