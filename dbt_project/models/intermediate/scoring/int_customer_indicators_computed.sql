-- Raw indicator values, one row per customer and indicator, before any scoring. A null
-- raw_value is a missing indicator; the rubric's missing_policy decides what happens to it.
-- Definitions are in the rubric_indicators seed and in _scoring__models.yml.
with customers as (
    select * from {{ ref('int_customers_unified') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

products as (
    select * from {{ ref('stg_erp__products') }}
),

active_categories as (
    select count(distinct product_category) as active_category_count
    from products
    where is_active
),

measured as (
    select
        customers.customer_id,
        coalesce(customer_orders.period_spend_cny, 0) as period_spend_cny,
        customer_orders.period_revenue_excl_tax_cny,
        customer_orders.period_cost_excl_tax_cny,
        coalesce(customer_orders.period_category_count, 0) as period_category_count,
        active_categories.active_category_count,
        coalesce(customers.first_deal_date, customers.erp_created_date, customer_orders.first_order_date) as relationship_start_date
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    cross join active_categories
),

with_months as (
    select
        measured.*,
        (extract(year from {{ as_of_date() }}) - extract(year from relationship_start_date)) * 12
            + extract(month from {{ as_of_date() }}) - extract(month from relationship_start_date)
            - case when extract(day from {{ as_of_date() }}) < extract(day from relationship_start_date) then 1 else 0 end
            as cooperation_months
    from measured
),

unpivoted as (
    select customer_id, 'annual_spend' as indicator,
        {{ divide('period_spend_cny', 10000, scale=6) }} as raw_value
    from with_months

    union all

    select customer_id, 'profit_margin' as indicator,
        {{ divide('100 * (period_revenue_excl_tax_cny - period_cost_excl_tax_cny)', 'period_revenue_excl_tax_cny') }} as raw_value
    from with_months

    union all

    select customer_id, 'cooperation_years' as indicator,
        case when cooperation_months >= 0 then {{ divide('cooperation_months', 12) }} end as raw_value
    from with_months

    union all

    select customer_id, 'cross_purchase_rate' as indicator,
        {{ divide('100 * period_category_count', 'active_category_count') }} as raw_value
    from with_months
),

final as (
    select
        customer_id,
        indicator,
        raw_value,
        raw_value is null as is_missing
    from unpivoted
)

select * from final
