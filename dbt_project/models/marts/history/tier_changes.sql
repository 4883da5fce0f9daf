{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(), unique_key='as_of_date',
    on_schema_change='append_new_columns'
) }}
-- Every change of a customer's effective tier, with the reason (cycle, spend_trigger or
-- inactivity_trigger), the composite before and after, and the indicators that moved most.
-- "Before" is the last tiering that set the old tier (the anchor: initial, cycle or trigger),
-- not the previous as-of date: the tier was kept on the days between, so the change is
-- explained against the figures it was decided on (composite_before_date).
with stabilized as (
    select * from {{ ref('int_customer_tiers_stabilized') }}
    where as_of_date = {{ as_of_date() }}
),

indicator_scores as (
    select * from {{ ref('customer_indicator_scores') }}
),

tiers as (
    select * from {{ ref('rubric_tiers') }}
),

changes as (
    select *
    from stabilized
    where
        retier_reason in ('cycle', 'spend_trigger', 'inactivity_trigger')
        and effective_tier <> previous_effective_tier
),

-- The scores a change compares, of the changed customers only: on the night and on the anchor
-- date. The history holds every date; joined on the few dates compared, DuckDB reads only
-- theirs, where reading all of it would cost more every night.
compared_dates as (
    select changes.as_of_date as compared_date from changes
    union
    select changes.previous_anchor_date as compared_date from changes
),

compared_scores as (
    select
        indicator_scores.customer_id,
        indicator_scores.as_of_date,
        indicator_scores.indicator,
        indicator_scores.weighted_score
    from indicator_scores
    inner join compared_dates
        on indicator_scores.as_of_date = compared_dates.compared_date
    where indicator_scores.customer_id in (select changes.customer_id from changes)
),

indicator_moves as (
    select
        changes.customer_id,
        after_scores.indicator,
        after_scores.weighted_score - coalesce(before_scores.weighted_score, 0) as weighted_score_change,
        row_number() over (
            partition by changes.customer_id
            order by abs(after_scores.weighted_score - coalesce(before_scores.weighted_score, 0)) desc, after_scores.indicator
        ) as move_rank
    from changes
    inner join compared_scores as after_scores
        on
            changes.customer_id = after_scores.customer_id
            and changes.as_of_date = after_scores.as_of_date
    left join compared_scores as before_scores
        on
            changes.customer_id = before_scores.customer_id
            and changes.previous_anchor_date = before_scores.as_of_date
            and after_scores.indicator = before_scores.indicator
),

top_moves as (
    select
        customer_id,
        {{ dbt.listagg(
            dbt.concat(["indicator", "' '", "case when weighted_score_change >= 0 then '+' else '' end",
                        "cast(cast(weighted_score_change as decimal(9, 2)) as " ~ dbt.type_string() ~ ")"]),
            "', '",
            "order by move_rank"
        ) }} as indicators_moved_most
    from indicator_moves
    where move_rank <= 3 and weighted_score_change <> 0
    group by customer_id
),

final as (
    select
        changes.customer_id,
        changes.as_of_date,
        changes.previous_effective_tier as from_tier,
        changes.effective_tier as to_tier,
        changes.retier_reason as reason,
        changes.previous_anchor_composite_score as composite_before,
        changes.composite_score as composite_after,
        top_moves.indicators_moved_most,
        from_tiers.sort_order < to_tiers.sort_order as is_downgrade,
        changes.previous_as_of_date,
        changes.anchor_spend_cny as spend_at_change_cny,
        changes.previous_anchor_date as composite_before_date
    from changes
    left join top_moves
        on changes.customer_id = top_moves.customer_id
    left join tiers as from_tiers
        on changes.previous_effective_tier = from_tiers.tier
    left join tiers as to_tiers
        on changes.effective_tier = to_tiers.tier
)

select * from final
