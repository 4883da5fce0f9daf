-- Raw indicator values, one row per customer and indicator the pipeline can measure (every
-- preset picks from these), before any scoring. A null raw_value (raw_category for a
-- categorical indicator) is a missing indicator; the rubric's missing_policy decides what
-- happens to it. Definitions are in the rubric_indicators seed and in _intermediate__models.yml.
-- Ratios are exact quotients truncated (floored) to 6 decimals (exact_ratio), never rounded: the
-- value published is the value banded, and a margin of 14.99996 % stays below a band that starts
-- at 15 % (band bounds have at most 4 decimals, so flooring never moves a value across one).
with measures as (
    select * from {{ ref('int_customer_measures_collected') }}
),

with_months as (
    select
        measures.*,
        (extract(year from as_of_date) - extract(year from relationship_start_date)) * 12
            + extract(month from as_of_date) - extract(month from relationship_start_date)
            - case when extract(day from as_of_date) < extract(day from relationship_start_date) then 1 else 0 end
            as cooperation_months,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} as days_since_last_order
    from measures
),

unpivoted as (
    select customer_id, 'annual_spend' as indicator,
        {{ exact_ratio('period_spend_cny', 10000) }} as raw_value,
        cast(null as {{ dbt.type_string() }}) as raw_category
    from with_months

    union all

    select customer_id, 'profit_margin' as indicator,
        {{ exact_ratio('100 * (period_revenue_excl_tax_cny - period_cost_excl_tax_cny)', 'period_revenue_excl_tax_cny') }}
            as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'cooperation_years' as indicator,
        case when cooperation_months >= 0 then {{ exact_ratio('cooperation_months', 12, input_scale=0) }} end as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'cross_purchase_rate' as indicator,
        {{ exact_ratio('100 * period_category_count', 'active_category_count', input_scale=0) }} as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'industry_growth_rate' as indicator,
        cast(industry_growth_rate_pct as decimal(18, 4)) as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'industry_rank' as indicator,
        cast(industry_rank as decimal(18, 4)) as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'demand_match' as indicator,
        cast(demand_match_pct as decimal(18, 4)) as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'on_time_payment_rate' as indicator,
        {{ exact_ratio('100 * period_invoices_on_time_count', 'period_invoices_due_count', input_scale=0) }} as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'complaint_count' as indicator,
        cast(period_complaint_count as decimal(18, 4)) as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'days_since_last_order' as indicator,
        cast(days_since_last_order as decimal(18, 4)) as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'strategic_level' as indicator,
        null as raw_value,
        strategic_level as raw_category
    from with_months

    union all

    select customer_id, 'order_count' as indicator,
        cast(period_order_count as decimal(18, 4)) as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'average_order_value' as indicator,
        {{ exact_ratio('period_spend_cny', '10000 * period_order_count') }} as raw_value,
        null as raw_category
    from with_months

    union all

    select customer_id, 'active_months' as indicator,
        cast(period_active_month_count as decimal(18, 4)) as raw_value,
        null as raw_category
    from with_months
),

final as (
    select
        customer_id,
        indicator,
        cast(raw_value as decimal(18, 6)) as raw_value,
        raw_category,
        raw_value is null and raw_category is null as is_missing
    from unpivoted
)

select * from final
