{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date', on_schema_change='append_new_columns'
) }}
-- One row per golden customer and as-of date: scores, tier and the strategy that goes with
-- it. Re-running a date replaces that date's rows; other dates are kept as history.
with customers as (
    select * from {{ ref('int_customers_unified') }}
),

tiered as (
    select * from {{ ref('int_customers_tiered') }}
),

classified as (
    select * from {{ ref('int_customers_classified') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

indicator_values as (
    select * from {{ ref('int_customer_indicators_computed') }}
),

tiers as (
    select * from {{ ref('rubric_tiers') }}
),

rubric as (
    select * from {{ ref('int_rubric_versioned') }}
),

periods as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

stabilized as (
    select * from {{ ref('int_customer_tiers_stabilized') }}
    where as_of_date = {{ as_of_date() }}
),

key_figures as (
    select
        customer_id,
        max(case when indicator = 'annual_spend' then raw_value end) as annual_spend_10k_cny,
        max(case when indicator = 'profit_margin' then raw_value end) as profit_margin_pct
    from indicator_values
    where indicator in ('annual_spend', 'profit_margin')
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.customer_name,
        periods.as_of_date,
        tiered.value_score,
        tiered.composite_score,
        tiered.tier,
        tiers.tier_name_zh,
        tiers.tier_name_en,
        tiers.strategy,
        tiers.sort_order as tier_sort_order,
        rubric.rubric_version,
        rubric.rubric,
        tiered.potential_score,
        tiered.risk_score,
        tiered.strategic_score,
        classified.abc_class,
        classified.cumulative_spend_share_pct,
        classified.rfm_r,
        classified.rfm_f,
        classified.rfm_m,
        classified.rfm_segment,
        classified.recency_days as days_since_last_order,
        coalesce(customer_orders.period_order_count, 0) as period_order_count,
        classified.value_potential_class,
        tiered.is_pending,
        tiered.pending_indicators,
        key_figures.annual_spend_10k_cny,
        key_figures.profit_margin_pct,
        coalesce(customer_orders.period_spend_cny, 0) as period_spend_cny,
        customer_orders.last_order_date,
        customers.credit_code,
        customers.industry,
        customers.region,
        customers.owner_name,
        customers.crm_customer_id,
        customers.erp_customer_id,
        customers.source_record_count,
        periods.period_start as spend_period_start,
        periods.period_end as spend_period_end,
        periods.amount_basis,
        stabilized.effective_tier,
        effective_tiers.tier_name_zh as effective_tier_name_zh,
        stabilized.retier_reason,
        stabilized.anchor_date as last_tiered_date,
        classified.value_potential_score
    from customers
    inner join tiered
        on customers.customer_id = tiered.customer_id
    inner join classified
        on customers.customer_id = classified.customer_id
    inner join tiers
        on tiered.tier = tiers.tier
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    left join key_figures
        on customers.customer_id = key_figures.customer_id
    left join stabilized
        on customers.customer_id = stabilized.customer_id
    left join tiers as effective_tiers
        on stabilized.effective_tier = effective_tiers.tier
    cross join rubric
    cross join periods
)

select * from final
