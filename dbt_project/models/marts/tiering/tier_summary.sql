{{ config(materialized='incremental', incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(), unique_key='as_of_date', on_schema_change='append_new_columns') }}
-- 分级分类结果汇总表: per tier and as-of date, customers, spend and margin. Shares are of the
-- tiered customers; pending customers (待评估) get their own row, outside the shares.
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
        tier,
        count(*) as customer_count,
        sum(period_spend_cny) as total_spend_cny,
        avg(profit_margin_pct) as avg_margin_pct
    from customer_tiers
    group by tier
),

tiered_totals as (
    select
        sum(customer_count) as tiered_customer_count,
        sum(total_spend_cny) as tiered_spend_cny
    from per_tier
    where tier <> 'pending'
),

final as (
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
        cast(round(per_tier.avg_margin_pct, 2) as decimal(9, 2)) as avg_margin_pct,
        tiers.strategy,
        tiers.sort_order,
        rubric.rubric_version
    from tiers
    left join per_tier
        on tiers.tier = per_tier.tier
    cross join tiered_totals
    cross join rubric
)

select * from final
