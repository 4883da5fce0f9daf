-- Per golden customer: spend, revenue, cost, categories, orders and active months in the spend
-- period, spend in the prior period (same length, ending the day before the spend period starts;
-- int_scoring_periods_resolved; the churn signals compare the two), the first and last
-- confirmed order ever (up to the as-of date), and whether an outlier rule excluded or capped one
-- of its lines in the period. The one pass over the attributed order lines.
with order_lines as (
    select * from {{ ref('int_order_lines_attributed') }}
    where customer_id is not null
),

excluded_lines as (
    select * from {{ ref('int_order_lines_outliers_flagged') }}
    where is_applied and action = 'exclude'
),

settings as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

excluded_in_period as (
    select distinct matched.customer_id
    from excluded_lines
    {{ join_golden_customer('excluded_lines.erp_customer_id', 'erp', alias='matched') }}
    cross join settings
    where excluded_lines.order_date between settings.period_start and settings.period_end
),

aggregated as (
    select
        order_lines.customer_id,
        sum(case when order_lines.is_in_spend_period then order_lines.spend_amount else 0 end) as period_spend_cny,
        sum(case when order_lines.is_in_spend_period then order_lines.revenue_excl_tax else 0 end) as period_revenue_excl_tax_cny,
        sum(case when order_lines.is_in_spend_period then order_lines.cost_excl_tax else 0 end) as period_cost_excl_tax_cny,
        -- FILTER (standard SQL; DuckDB, Postgres, Trino and Spark take it) rather than a CASE
        -- inside count(distinct ...): at a million customers DuckDB runs this model in 7.6 s
        -- instead of 9.6 s.
        count(distinct order_lines.product_category) filter (where order_lines.is_in_spend_period)
            as period_category_count,
        count(distinct order_lines.order_id) filter (where order_lines.is_in_spend_period) as period_order_count,
        count(distinct extract(year from order_lines.order_date) * 100 + extract(month from order_lines.order_date))
        filter (where order_lines.is_in_spend_period) as period_active_month_count,
        min(order_lines.order_date) as first_order_date,
        max(case when order_lines.order_date <= settings.as_of_date then order_lines.order_date end) as last_order_date,
        max(case when order_lines.is_in_spend_period and order_lines.is_outlier_affected then 1 else 0 end)
        = 1 as has_capped_line_in_period,
        sum(case
            when order_lines.order_date between settings.prior_period_start and settings.prior_period_end
                then order_lines.spend_amount
        end) as prior_period_spend_cny
    from order_lines
    cross join settings
    group by order_lines.customer_id
),

final as (
    select
        aggregated.customer_id,
        aggregated.period_spend_cny,
        aggregated.period_revenue_excl_tax_cny,
        aggregated.period_cost_excl_tax_cny,
        aggregated.period_category_count,
        aggregated.period_order_count,
        aggregated.period_active_month_count,
        aggregated.first_order_date,
        aggregated.last_order_date,
        aggregated.has_capped_line_in_period or excluded_in_period.customer_id is not null as is_outlier_affected,
        aggregated.prior_period_spend_cny
    from aggregated
    left join excluded_in_period
        on aggregated.customer_id = excluded_in_period.customer_id
)

select * from final
