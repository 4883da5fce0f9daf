{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date'
) }}
-- 流失风险客户: customers whose risk signals fire at the as-of date, with the reason codes
-- and the owner who should follow up, ordered by the value at stake (spend in the period).
with signals as (
    select * from {{ ref('int_customer_signals_computed') }}
),

stabilized as (
    select * from {{ ref('int_customer_tiers_stabilized') }}
    where as_of_date = {{ as_of_date() }}
),

customers as (
    select * from {{ ref('int_customers_unified') }}
),

flagged as (
    select
        signals.*,
        {{ dbt.concat([
            "case when signals.is_inactive then 'inactive,' else '' end",
            "case when signals.has_spend_drop then 'spend_drop,' else '' end",
            "case when signals.overdue_invoice_count > 0 then 'overdue_receivables,' else '' end",
            "case when signals.recent_complaint_count > 0 then 'recent_complaints,' else '' end",
        ]) }} as reason_list
    from signals
    -- A customer that never bought anything is not at risk of leaving; it has not arrived.
    where signals.last_order_date is not null or signals.overdue_invoice_count > 0
),

final as (
    select
        flagged.customer_id,
        customers.customer_name,
        flagged.as_of_date,
        substring(flagged.reason_list, 1, {{ dbt.length('flagged.reason_list') }} - 1) as reasons,
        -- A keyword as a name, and a published column's: it stays.
        flagged.owner_name as owner,  -- noqa: RF04
        stabilized.effective_tier,
        {{ divide('flagged.period_spend_cny', 10000, scale=6) }} as spend_at_stake_10k,
        {{ divide('flagged.prior_period_spend_cny', 10000, scale=6) }} as prior_period_spend_10k,
        flagged.last_order_date,
        flagged.overdue_invoice_count,
        flagged.overdue_amount_cny,
        flagged.recent_complaint_count,
        row_number() over (order by flagged.period_spend_cny desc, flagged.prior_period_spend_cny desc, flagged.customer_id asc)
            as risk_rank
    from flagged
    inner join customers
        on flagged.customer_id = customers.customer_id
    left join stabilized
        on flagged.customer_id = stabilized.customer_id
    where flagged.reason_list <> ''
)

select * from final
