-- Raw indicator values after the declared imputation rules (seed cleaning_indicator_rules), one
-- row per customer and indicator. A value is never made up as 0:
--   annualise_covered_period: the relationship started inside the spend period (at least
--     min_covered_days ago), so the period is only partly covered; spend = the covered days'
--     spend / covered days × the period's days (the covered months' average × 12).
--   industry_median: a missing value becomes the median of the customers of the same industry.
--   none, or an indicator not listed: the value stays as measured; a missing one is left to the
--     rubric's missing_policy (pending 待评估, or lowest_band).
-- Only missing values are filled (and only measured spend is annualised): a customer without an
-- ERP record has no spend to annualise, and a known-worst value (never ordered) is not missing.
-- missing_reason stays beside an imputed value: it says why the value had to be imputed.
-- is_outlier_affected: the indicator is computed from order lines and an outlier rule excluded or
-- capped one of the customer's lines in the spend period.
with indicator_values as (
    select * from {{ ref('int_customer_indicators_computed') }}
),

indicator_rules as (
    select * from {{ ref('cleaning_indicator_rules') }}
),

customers as (
    select * from {{ ref('int_customers_unified') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

periods as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

coverage as (
    select
        customers.customer_id,
        customers.industry,
        coalesce(customer_orders.period_spend_cny, 0) as period_spend_cny,
        coalesce(customer_orders.is_outlier_affected, false) as is_outlier_affected,
        {{ dbt.datediff(
            'periods.period_start',
            'periods.period_end', 'day') }} + 1 as period_days,
        {{ dbt.datediff(
            'coalesce(customers.first_deal_date, customers.erp_created_date, customer_orders.first_order_date)',
            'periods.period_end', 'day') }} + 1 as covered_days,
        (
            coalesce(customers.first_deal_date, customers.erp_created_date, customer_orders.first_order_date)
            > periods.period_start
        ) as is_period_partly_covered
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    cross join periods
),

-- Read twice: whole by imputed, and for the industry_median indicators alone by
-- industry_medians. Computed for each read rather than kept (see not_materialized).
with_rules as {{ not_materialized() }} (
    select
        indicator_values.customer_id,
        indicator_values.indicator,
        indicator_values.raw_value as measured_value,
        indicator_values.raw_category,
        indicator_values.is_missing as is_measured_missing,
        indicator_values.is_worst_value,
        indicator_values.missing_reason,
        coalesce(indicator_rules.imputation_rule, 'none') as imputation_rule,
        indicator_rules.min_covered_days,
        coalesce(indicator_rules.uses_order_lines, false) as uses_order_lines,
        coverage.industry,
        coverage.period_spend_cny,
        coverage.period_days,
        coverage.covered_days,
        coverage.is_period_partly_covered,
        coverage.is_outlier_affected
    from indicator_values
    left join indicator_rules
        on indicator_values.indicator = indicator_rules.indicator
    left join coverage
        on indicator_values.customer_id = coverage.customer_id
),

industry_medians as (
    select indicator, industry, {{ median('measured_value') }} as industry_median_value
    from with_rules
    where imputation_rule = 'industry_median'
        and measured_value is not null
        and industry is not null
    group by indicator, industry
),

imputed as (
    select
        with_rules.*,
        case
            when with_rules.imputation_rule = 'annualise_covered_period'
                and with_rules.measured_value is not null
                and with_rules.is_period_partly_covered
                and with_rules.covered_days >= coalesce(with_rules.min_covered_days, 1)
                then {{ exact_ratio('with_rules.period_spend_cny * with_rules.period_days', 'with_rules.covered_days * 10000') }}
            when with_rules.imputation_rule = 'industry_median'
                and with_rules.is_measured_missing
                then cast(industry_medians.industry_median_value as decimal(18, 6))
        end as imputed_value
    from with_rules
    left join industry_medians
        on with_rules.indicator = industry_medians.indicator
            and with_rules.industry = industry_medians.industry
),

final as (
    select
        customer_id,
        indicator,
        coalesce(imputed_value, measured_value) as raw_value,
        measured_value,
        raw_category,
        coalesce(imputed_value, measured_value) is null and raw_category is null and not is_worst_value as is_missing,
        is_worst_value,
        missing_reason,
        imputed_value is not null as is_imputed,
        case when imputed_value is not null then imputation_rule end as imputation_rule,
        uses_order_lines and is_outlier_affected as is_outlier_affected
    from imputed
)

select * from final
