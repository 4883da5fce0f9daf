-- The spend period and amount basis of this run, resolved from rubric_settings and the as-of
-- date: one row. Both ends of every period are inclusive.
--   trailing_12_months     the 12 months up to and including the as-of date;
--   calendar_year          the last complete calendar year: the year ending on the last 31 Dec
--                          on or before the as-of date (as of 31 Dec, that year itself);
--   fiscal_year            the last complete fiscal year, starting in fiscal_year_start_month;
--   calendar_year_to_date  1 Jan of the as-of date's year up to the as-of date;
--   fiscal_year_to_date    the start of the fiscal year holding the as-of date up to it.
-- The prior period (churn signals, spend growth) has the same length and ends the day before
-- the period starts: the 12 months before a 12-month period, the same number of days before a
-- year-to-date one.
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

year_starts as (
    select
        pivoted.spend_period,
        pivoted.amount_basis,
        pivoted.spend_period in ('trailing_12_months', 'calendar_year', 'fiscal_year') as is_twelve_months,
        case
            when pivoted.spend_period in ('fiscal_year', 'fiscal_year_to_date') then pivoted.fiscal_year_start_month
            else 1
        end as year_start_month
    from pivoted
),

-- The first day of the (fiscal) year that holds the as-of date, and of the one that holds the
-- day after it: the latter is where the last complete year ends.
anchors as (
    select
        year_starts.*,
        {%- for name, day in [
            ('current_year_start', as_of_date()),
            ('next_day_year_start', dbt.dateadd('day', 1, as_of_date())),
        ] %}
            cast({{ dbt.dateadd(
                'month',
                'year_starts.year_start_month - 1',
                dbt.date_trunc('year', dbt.dateadd('month', '1 - year_starts.year_start_month', day))
            ) }} as date) as {{ name }},
        {%- endfor %}
        cast({{ dbt.dateadd('day', 1, dbt.dateadd('month', -12, as_of_date())) }} as date) as trailing_start
    from year_starts
),

periods as (
    select
        {{ as_of_date() }} as as_of_date,
        anchors.spend_period,
        anchors.amount_basis,
        anchors.is_twelve_months,
        case
            when anchors.spend_period in ('calendar_year', 'fiscal_year')
                then cast({{ dbt.dateadd('month', -12, 'anchors.next_day_year_start') }} as date)
            when anchors.spend_period in ('calendar_year_to_date', 'fiscal_year_to_date') then anchors.current_year_start
            else anchors.trailing_start
        end as period_start,
        case
            when anchors.spend_period in ('calendar_year', 'fiscal_year')
                then cast({{ dbt.dateadd('day', -1, 'anchors.next_day_year_start') }} as date)
            else {{ as_of_date() }}
        end as period_end
    from anchors
),

final as (
    select
        periods.as_of_date,
        periods.spend_period,
        periods.amount_basis,
        periods.period_start,
        periods.period_end,
        case
            -- the 12 months up to the day before, by the same rule as the trailing period
            when periods.is_twelve_months
                then cast({{
                    dbt.dateadd('day', 1, dbt.dateadd('month', -12, dbt.dateadd('day', -1, 'periods.period_start')))
                }} as date)
            else cast({{ dbt.dateadd(
                'day',
                '-1 - ' ~ dbt.datediff('periods.period_start', 'periods.period_end', 'day'),
                'periods.period_start'
            ) }} as date)
        end as prior_period_start,
        cast({{ dbt.dateadd('day', -1, 'periods.period_start') }} as date) as prior_period_end
    from periods
)

select * from final
