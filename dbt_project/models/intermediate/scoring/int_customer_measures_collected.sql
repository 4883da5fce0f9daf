-- The source figures behind every indicator, one row per golden customer: spend, revenue and
-- cost, orders, categories, relationship start, invoices due and paid on time, complaints, and
-- the CRM attributes. Indicators are computed from these; auditors check them
-- (verification_sample).
with customers as (
    select * from {{ ref('int_customers_unified') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

products as (
    select * from {{ ref('stg_erp__products') }}
),

receivables as (
    select * from {{ ref('stg_erp__receivables') }}
),

complaints as (
    select * from {{ ref('stg_crm__complaints') }}
),

periods as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

industry_growth_rates as (
    select * from {{ ref('industry_growth_rates') }}
),

active_categories as (
    select count(distinct product_category) as active_category_count
    from products
    where is_active
),

-- Invoices of every ERP record of the customer that fell due in the spend period; on time
-- means paid on or before the due date (an invoice still unpaid is late).
invoices_due as (
    select
        matched.customer_id,
        count(*) as period_invoices_due_count,
        sum(case
            when receivables.paid_date is not null and receivables.paid_date <= receivables.due_date
                then 1
            else 0
        end) as period_invoices_on_time_count
    from receivables
    {{ join_golden_customer('receivables.erp_customer_id', 'erp', alias='matched') }}
    cross join periods
    where receivables.due_date between periods.period_start and periods.period_end
    group by matched.customer_id
),

-- Tickets logged against any CRM record of the customer, opened in the spend period.
period_complaints as (
    select
        matched.customer_id,
        count(*) as period_complaint_count
    from complaints
    {{ join_golden_customer('complaints.crm_customer_id', 'crm', alias='matched') }}
    cross join periods
    where cast(complaints.opened_at as date) between periods.period_start and periods.period_end
    group by matched.customer_id
),

final as (
    select
        customers.customer_id,
        -- Missing is not zero: a customer without an ERP record has no order or invoice figure at
        -- all (the order-based indicators are missing); one with an ERP record and no order in
        -- the period has spent 0. Likewise complaints need a CRM record.
        customers.erp_customer_id is not null as has_erp_record,
        customers.crm_customer_id is not null as has_crm_record,
        coalesce(customer_orders.period_spend_cny, 0) as period_spend_cny,
        customer_orders.period_revenue_excl_tax_cny,
        customer_orders.period_cost_excl_tax_cny,
        coalesce(customer_orders.period_category_count, 0) as period_category_count,
        active_categories.active_category_count,
        coalesce(customer_orders.period_order_count, 0) as period_order_count,
        coalesce(customer_orders.period_active_month_count, 0) as period_active_month_count,
        customer_orders.first_order_date,
        customer_orders.last_order_date,
        coalesce(customers.first_deal_date, customers.erp_created_date, customer_orders.first_order_date)
            as relationship_start_date,
        coalesce(invoices_due.period_invoices_due_count, 0) as period_invoices_due_count,
        coalesce(invoices_due.period_invoices_on_time_count, 0) as period_invoices_on_time_count,
        coalesce(period_complaints.period_complaint_count, 0) as period_complaint_count,
        customers.industry,
        industry_growth_rates.growth_rate_pct as industry_growth_rate_pct,
        customers.industry_rank,
        customers.demand_match_pct,
        customers.strategic_level,
        periods.as_of_date,
        periods.period_start,
        periods.period_end
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    left join invoices_due
        on customers.customer_id = invoices_due.customer_id
    left join period_complaints
        on customers.customer_id = period_complaints.customer_id
    left join industry_growth_rates
        on customers.industry = industry_growth_rates.industry
    cross join active_categories
    cross join periods
)

select * from final
