{{ config(materialized='incremental', incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(), unique_key='as_of_date') }}
-- The effective tier: the computed tier is always published, but a customer's effective tier
-- changes only at the first run of a new re-tier cycle, or between cycles when a trigger
-- fires (spend moved by more than the threshold against the last tiering, or no confirmed
-- order for N months). Each as-of date's decision starts from the previous as-of date's
-- state, kept in this incremental model: run dates in order (a backfill does); re-running a
-- date replaces that date and gives the same answer.
with tiered as (
    select * from {{ ref('int_customers_tiered') }}
),

signals as (
    select * from {{ ref('int_customer_signals_computed') }}
),

settings as (
    select * from {{ ref('int_retier_settings_resolved') }}
),

current_state as (
    select
        tiered.customer_id,
        {{ as_of_date() }} as as_of_date,
        tiered.tier as computed_tier,
        tiered.composite_score,
        signals.period_spend_cny,
        signals.last_order_date,
        signals.is_inactive,
        case settings.retier_cycle
            when 'monthly' then cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
            when 'half_yearly' then cast({{ dbt.dateadd(
                'month',
                'case when extract(month from ' ~ as_of_date() ~ ') >= 7 then 6 else 0 end',
                dbt.date_trunc('year', as_of_date())
            ) }} as date)
            else cast({{ dbt.date_trunc('quarter', as_of_date()) }} as date)
        end as cycle_start_date,
        settings.spend_change_trigger_pct
    from tiered
    inner join signals
        on tiered.customer_id = signals.customer_id
    cross join settings
),

previous_state as (
    {% if is_incremental() %}
        select *
        from {{ this }}
        where as_of_date = (
            select max(as_of_date) from {{ this }}
            where as_of_date < {{ as_of_date() }}
        )
    {% else %}
    -- First build: no history yet, every customer is tiered for the first time.
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as date) as as_of_date,
        cast(null as {{ dbt.type_string() }}) as effective_tier,
        cast(null as decimal(9, 4)) as composite_score,
        cast(null as date) as anchor_date,
        cast(null as decimal(18, 2)) as anchor_spend_cny
    from settings
    where 1 = 0
{% endif %}
),

decided as (
    select
        current_state.*,
        previous_state.as_of_date as previous_as_of_date,
        previous_state.effective_tier as previous_effective_tier,
        previous_state.composite_score as previous_composite_score,
        previous_state.anchor_date as previous_anchor_date,
        previous_state.anchor_spend_cny as previous_anchor_spend_cny,
        case
            when previous_state.customer_id is null then 'initial'
            when previous_state.anchor_date < current_state.cycle_start_date then 'cycle'
            when previous_state.anchor_spend_cny = 0 and current_state.period_spend_cny > 0 then 'spend_trigger'
            when
                previous_state.anchor_spend_cny > 0
                and abs(current_state.period_spend_cny - previous_state.anchor_spend_cny) * 100
                > previous_state.anchor_spend_cny * current_state.spend_change_trigger_pct
                then 'spend_trigger'
            when current_state.is_inactive then 'inactivity_trigger'
        end as retier_reason
    from current_state
    left join previous_state
        on current_state.customer_id = previous_state.customer_id
),

final as (
    select
        customer_id,
        as_of_date,
        computed_tier,
        composite_score,
        case when retier_reason is null then previous_effective_tier else computed_tier end as effective_tier,
        retier_reason,
        case when retier_reason is null then previous_anchor_date else as_of_date end as anchor_date,
        cast(case when retier_reason is null then previous_anchor_spend_cny else period_spend_cny end as decimal(18, 2))
            as anchor_spend_cny,
        period_spend_cny,
        last_order_date,
        cycle_start_date,
        previous_as_of_date,
        previous_effective_tier,
        previous_composite_score
    from decided
)

select * from final
