{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date'
) }}
-- Tier migration from the previous as-of date to this one, by effective tier: how many
-- customers moved from each tier to each tier, and their spend. A customer first seen now
-- comes from `new`; one no longer present goes to `gone`, so each side reconciles with the
-- tier counts of its date.
with stabilized as (
    select * from {{ ref('int_customer_tiers_stabilized') }}
),

-- The previous date read from the model itself, not from `stabilized`: a second reference to
-- that CTE would make DuckDB materialise the whole history.
dates as (
    select
        {{ as_of_date() }} as as_of_date,
        (
            select max(history.as_of_date) from {{ ref('int_customer_tiers_stabilized') }} as history
            where history.as_of_date < {{ as_of_date() }}
        ) as from_as_of_date
),

-- The rows of the two dates compared, read once: the history holds every date, and joined on
-- these two DuckDB reads only theirs.
compared_dates as (
    select dates.as_of_date as compared_date from dates
    union all
    select dates.from_as_of_date as compared_date from dates
),

compared as (
    select stabilized.*
    from stabilized
    inner join compared_dates
        on stabilized.as_of_date = compared_dates.compared_date
),

current_tiers as (
    select compared.*
    from compared
    inner join dates
        on compared.as_of_date = dates.as_of_date
),

previous_tiers as (
    select compared.*
    from compared
    inner join dates
        on compared.as_of_date = dates.from_as_of_date
),

paired as (
    select
        coalesce(previous_tiers.effective_tier, 'new') as from_tier,
        coalesce(current_tiers.effective_tier, 'gone') as to_tier,
        coalesce(current_tiers.period_spend_cny, 0) as spend_cny,
        coalesce(previous_tiers.period_spend_cny, 0) as from_spend_cny
    from current_tiers
    full outer join previous_tiers
        on current_tiers.customer_id = previous_tiers.customer_id
),

final as (
    select
        dates.from_as_of_date,
        dates.as_of_date,
        paired.from_tier,
        paired.to_tier,
        count(*) as customer_count,
        {{ divide('sum(paired.spend_cny)', 10000, scale=6) }} as spend_10k,
        {{ divide('sum(paired.from_spend_cny)', 10000, scale=6) }} as from_spend_10k
    from paired
    cross join dates
    group by dates.from_as_of_date, dates.as_of_date, paired.from_tier, paired.to_tier
)

select * from final
