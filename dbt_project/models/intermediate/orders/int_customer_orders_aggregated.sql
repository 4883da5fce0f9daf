-- Per golden customer: spend, revenue, cost, categories, orders and active months in the spend
-- period, and the first and last confirmed order ever (up to the as-of date).
with order_lines as (
    select * from {{ ref('int_order_lines_attributed') }}
    where customer_id is not null
),

final as (
    select
        customer_id,
        sum(case when is_in_spend_period then spend_amount else 0 end) as period_spend_cny,
        sum(case when is_in_spend_period then revenue_excl_tax else 0 end) as period_revenue_excl_tax_cny,
        sum(case when is_in_spend_period then cost_excl_tax else 0 end) as period_cost_excl_tax_cny,
        count(distinct case when is_in_spend_period then product_category end) as period_category_count,
        count(distinct case when is_in_spend_period then order_id end) as period_order_count,
        count(distinct case when is_in_spend_period
            then extract(year from order_date) * 100 + extract(month from order_date) end) as period_active_month_count,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from order_lines
    group by customer_id
)

select * from final
