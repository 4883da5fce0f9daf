{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date'
) }}
-- 效果评估, per effective tier and as-of date, over the spend period: repurchase rate (share
-- of customers with two or more orders in the period), churn rate (share inactive for the
-- configured months), and spend growth against the period before.
with stabilized as (
    select * from {{ ref('int_customer_tiers_stabilized') }}
    where as_of_date = {{ as_of_date() }}
),

signals as (
    select * from {{ ref('int_customer_signals_computed') }}
),

tiers as (
    select * from {{ ref('rubric_tiers') }}
),

per_tier as (
    select
        stabilized.effective_tier as tier,
        count(*) as customer_count,
        sum(case when signals.period_order_count >= 2 then 1 else 0 end) as repurchasing_customers,
        sum(case when signals.is_inactive then 1 else 0 end) as inactive_customers,
        sum(signals.period_spend_cny) as period_spend_cny,
        sum(signals.prior_period_spend_cny) as prior_period_spend_cny
    from stabilized
    inner join signals
        on stabilized.customer_id = signals.customer_id
    group by stabilized.effective_tier
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        tiers.tier,
        tiers.tier_name_zh,
        coalesce(per_tier.customer_count, 0) as customer_count,
        {{ divide('100 * per_tier.repurchasing_customers', 'per_tier.customer_count', scale=2, precision=9) }}
            as repurchase_rate_pct,
        {{ divide('100 * per_tier.inactive_customers', 'per_tier.customer_count', scale=2, precision=9) }}
            as churn_rate_pct,
        {{ divide(
            '100 * (per_tier.period_spend_cny - per_tier.prior_period_spend_cny)', 'per_tier.prior_period_spend_cny',
            scale=2, precision=9
        ) }} as spend_growth_pct,
        {{ divide('per_tier.period_spend_cny', 10000, scale=6) }} as period_spend_10k,
        {{ divide('per_tier.prior_period_spend_cny', 10000, scale=6) }} as prior_period_spend_10k,
        tiers.sort_order
    from tiers
    left join per_tier
        on tiers.tier = per_tier.tier
)

select * from final
