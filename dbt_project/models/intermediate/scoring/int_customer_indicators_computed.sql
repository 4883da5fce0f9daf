-- Raw indicator values, one row per customer and indicator the pipeline can measure (every
-- preset picks from these), before any scoring. A null raw_value (raw_category for a
-- categorical indicator) is a missing indicator; the rubric's missing_policy decides what
-- happens to it. missing_reason says why a value is empty:
--   no_erp_record / no_crm_record  the source system has no record of the customer: no order,
--       invoice (ERP) or complaint and CRM attribute (CRM) figure exists. Missing, not zero; a
--       customer with an ERP record and no order in the period has spent 0;
--   no_revenue_in_period, no_order_in_period, no_invoice_due_in_period, no_active_category: the
--       ratio has no denominator;
--   empty_in_crm, industry_not_in_growth_rates, no_relationship_start,
--       relationship_starts_after_as_of_date: the attribute is not there;
--   never_ordered: days since the last order of a customer with an ERP record and no confirmed
--       order ever. Not missing: never is worse than any number of days, so it scores as the
--       worst value (is_worst_value), neither imputed nor pending. Definitions are in the
--       rubric_indicators seed and in _intermediate__models.yml.
-- Ratios are exact quotients truncated (floored) to 6 decimals (exact_ratio), never rounded: the
-- value published is the value banded, and a margin of 14.99996 % stays below a band that starts
-- at 15 % (band bounds have at most 4 decimals, so flooring never moves a value across one).
with measures as (
    select * from {{ ref('int_customer_measures_collected') }}
),

with_months as (
    select
        *,
        (
            (extract(year from as_of_date) - extract(year from relationship_start_date)) * 12
            + extract(month from as_of_date) - extract(month from relationship_start_date)
            - case when extract(day from as_of_date) < extract(day from relationship_start_date) then 1 else 0 end
        ) as cooperation_months,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }}
            as days_since_last_order,
        case when not has_erp_record then 'no_erp_record' end as erp_missing_reason,
        case when not has_crm_record then 'no_crm_record' end as crm_missing_reason
    from measures
),

unpivoted as (
    select
        customer_id,
        'annual_spend' as indicator,
        case when has_erp_record then {{ exact_ratio('period_spend_cny', 10000) }} end as raw_value,
        cast(null as {{ dbt.type_string() }}) as raw_category,
        cast(erp_missing_reason as {{ dbt.type_string() }}) as missing_reason
    from with_months

    union all

    select
        customer_id,
        'profit_margin' as indicator,
        case
            when has_erp_record then
                {{ exact_ratio('100 * (period_revenue_excl_tax_cny - period_cost_excl_tax_cny)', 'period_revenue_excl_tax_cny') }}
        end as raw_value,
        null as raw_category,
        coalesce(erp_missing_reason, case when coalesce(period_revenue_excl_tax_cny, 0) = 0 then 'no_revenue_in_period' end)
            as missing_reason
    from with_months

    union all

    select
        customer_id,
        'cooperation_years' as indicator,
        case when cooperation_months >= 0 then {{ exact_ratio('cooperation_months', 12, input_scale=0) }} end as raw_value,
        null as raw_category,
        case
            when relationship_start_date is null then 'no_relationship_start'
            when cooperation_months < 0 then 'relationship_starts_after_as_of_date'
        end as missing_reason
    from with_months

    union all

    select
        customer_id,
        'cross_purchase_rate' as indicator,
        case
            when has_erp_record then
                {{ exact_ratio('100 * period_category_count', 'active_category_count', input_scale=0) }}
        end as raw_value,
        null as raw_category,
        coalesce(erp_missing_reason, case when coalesce(active_category_count, 0) = 0 then 'no_active_category' end)
            as missing_reason
    from with_months

    union all

    select
        customer_id,
        'industry_growth_rate' as indicator,
        cast(industry_growth_rate_pct as decimal(18, 4)) as raw_value,
        null as raw_category,
        case
            when not has_crm_record then 'no_crm_record'
            when industry is null then 'empty_in_crm'
            when industry_growth_rate_pct is null then 'industry_not_in_growth_rates'
        end as missing_reason
    from with_months

    union all

    select
        customer_id,
        'industry_rank' as indicator,
        cast(industry_rank as decimal(18, 4)) as raw_value,
        null as raw_category,
        coalesce(crm_missing_reason, case when industry_rank is null then 'empty_in_crm' end) as missing_reason
    from with_months

    union all

    select
        customer_id,
        'demand_match' as indicator,
        cast(demand_match_pct as decimal(18, 4)) as raw_value,
        null as raw_category,
        coalesce(crm_missing_reason, case when demand_match_pct is null then 'empty_in_crm' end) as missing_reason
    from with_months

    union all

    select
        customer_id,
        'on_time_payment_rate' as indicator,
        case
            when has_erp_record then
                {{ exact_ratio('100 * period_invoices_on_time_count', 'period_invoices_due_count', input_scale=0) }}
        end as raw_value,
        null as raw_category,
        coalesce(erp_missing_reason, case when period_invoices_due_count = 0 then 'no_invoice_due_in_period' end)
            as missing_reason
    from with_months

    union all

    select
        customer_id,
        'complaint_count' as indicator,
        case when has_crm_record then cast(period_complaint_count as decimal(18, 4)) end as raw_value,
        null as raw_category,
        crm_missing_reason as missing_reason
    from with_months

    union all

    select
        customer_id,
        'days_since_last_order' as indicator,
        cast(days_since_last_order as decimal(18, 4)) as raw_value,
        null as raw_category,
        coalesce(erp_missing_reason, case when last_order_date is null then 'never_ordered' end) as missing_reason
    from with_months

    union all

    select
        customer_id,
        'strategic_level' as indicator,
        null as raw_value,
        strategic_level as raw_category,
        coalesce(crm_missing_reason, case when strategic_level is null then 'empty_in_crm' end) as missing_reason
    from with_months

    union all

    select
        customer_id,
        'order_count' as indicator,
        case when has_erp_record then cast(period_order_count as decimal(18, 4)) end as raw_value,
        null as raw_category,
        erp_missing_reason as missing_reason
    from with_months

    union all

    select
        customer_id,
        'average_order_value' as indicator,
        case when has_erp_record then {{ exact_ratio('period_spend_cny', '10000 * period_order_count') }} end as raw_value,
        null as raw_category,
        coalesce(erp_missing_reason, case when period_order_count = 0 then 'no_order_in_period' end) as missing_reason
    from with_months

    union all

    select
        customer_id,
        'active_months' as indicator,
        case when has_erp_record then cast(period_active_month_count as decimal(18, 4)) end as raw_value,
        null as raw_category,
        erp_missing_reason as missing_reason
    from with_months
),

final as (
    select
        customer_id,
        indicator,
        cast(raw_value as decimal(18, 6)) as raw_value,
        raw_category,
        raw_value is null and raw_category is null and coalesce(missing_reason <> 'never_ordered', true) as is_missing,
        coalesce(missing_reason = 'never_ordered', false) as is_worst_value,
        missing_reason
    from unpivoted
)

select * from final
