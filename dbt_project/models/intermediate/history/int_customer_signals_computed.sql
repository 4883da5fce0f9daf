-- Per customer at the as-of date: spend in this period and the one before, confirmed orders,
-- overdue receivables and recent complaints. The raw material of the churn-risk list and
-- of the per-tier effect tracking.
with receivables as (
    select * from {{ ref('stg_erp__receivables') }}
),

complaints as (
    select * from {{ ref('stg_crm__complaints') }}
),

customers as (
    select * from {{ ref('int_customers_unified') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

settings as (
    select * from {{ ref('int_retier_settings_resolved') }}
),

order_activity as (
    select
        customers.customer_id,
        customer_orders.period_spend_cny,
        customer_orders.prior_period_spend_cny,
        customer_orders.period_order_count,
        customer_orders.last_order_date
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
),

overdue as (
    select
        matched.customer_id,
        count(*) as overdue_invoice_count,
        sum(receivables.invoice_amount) as overdue_amount_cny
    from receivables
    {{ join_golden_customer('receivables.erp_customer_id', 'erp', alias='matched') }}
    where
        receivables.invoice_date <= {{ as_of_date() }}
        and receivables.due_date < {{ as_of_date() }}
        and (receivables.paid_date is null or receivables.paid_date > {{ as_of_date() }})
    group by matched.customer_id
),

recent_complaints as (
    select
        matched.customer_id,
        count(*) as recent_complaint_count
    from complaints
    {{ join_golden_customer('complaints.crm_customer_id', 'crm', alias='matched') }}
    cross join settings
    where
        cast(complaints.opened_at as date) <= {{ as_of_date() }}
        and cast(complaints.opened_at as date)
        > cast({{ dbt.dateadd('day', '-settings.churn_complaint_window_days', as_of_date()) }} as date)
    group by matched.customer_id
),

final as (
    select
        customers.customer_id,
        {{ as_of_date() }} as as_of_date,
        coalesce(order_activity.period_spend_cny, 0) as period_spend_cny,
        coalesce(order_activity.prior_period_spend_cny, 0) as prior_period_spend_cny,
        coalesce(order_activity.period_order_count, 0) as period_order_count,
        order_activity.last_order_date,
        coalesce(overdue.overdue_invoice_count, 0) as overdue_invoice_count,
        coalesce(overdue.overdue_amount_cny, 0) as overdue_amount_cny,
        coalesce(recent_complaints.recent_complaint_count, 0) as recent_complaint_count,
        order_activity.last_order_date is null
        or order_activity.last_order_date
        <= cast({{ dbt.dateadd('month', '-settings.inactivity_trigger_months', as_of_date()) }} as date)
            as is_inactive,
        coalesce(order_activity.prior_period_spend_cny, 0) > 0
        and coalesce(order_activity.period_spend_cny, 0) * 100
        < order_activity.prior_period_spend_cny * (100 - settings.churn_spend_drop_pct)
            as has_spend_drop,
        customers.owner_name
    from customers
    left join order_activity
        on customers.customer_id = order_activity.customer_id
    left join overdue
        on customers.customer_id = overdue.customer_id
    left join recent_complaints
        on customers.customer_id = recent_complaints.customer_id
    cross join settings
)

select * from final
