-- The spend period and amount basis of this run, resolved from rubric_settings and the
-- as-of date: one row. Both ends of the period are inclusive.
with settings as (
    select * from {{ ref('rubric_settings') }}
),

pivoted as (
    select
        max(case when setting = 'spend_period' then setting_value end) as spend_period,
        max(case when setting = 'amount_basis' then setting_value end) as amount_basis,
        cast(max(case when setting = 'fiscal_year_start_month' then setting_value end) as integer) as fiscal_year_start_month
    from settings
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        pivoted.spend_period,
        pivoted.amount_basis,
        case pivoted.spend_period
            when 'calendar_year' then cast({{ dbt.date_trunc('year', as_of_date()) }} as date)
            when 'fiscal_year' then cast({{ dbt.dateadd(
                'month',
                'pivoted.fiscal_year_start_month - 1',
                dbt.date_trunc('year', dbt.dateadd('month', '1 - pivoted.fiscal_year_start_month', as_of_date()))
            ) }} as date)
            else cast({{ dbt.dateadd('day', 1, dbt.dateadd('month', -12, as_of_date())) }} as date)
        end as period_start,
        {{ as_of_date() }} as period_end
    from pivoted
)

select * from final
