-- Dimension scores per customer: the sum of the weighted indicator scores of the dimension
-- (indicator weights within a dimension sum to 100 %, so a dimension score is 0-100). A
-- dimension with a pending indicator has no score: a partial sum would understate it.
-- The indicator scores are read back from tonight's rows of customer_indicator_scores, the one
-- place they are written (int_customer_indicators_scored is a view).
with indicator_scores as (
    select * from {{ ref('customer_indicator_scores') }}
    where as_of_date = {{ as_of_date() }}
),

-- Only pending rows are listed; aggregating the list over every row would cost a sort per
-- customer and dimension.
pending as (
    select
        customer_id,
        dimension,
        {{ dbt.listagg("indicator", "', '", "order by indicator") }} as pending_indicators
    from indicator_scores
    where is_pending
    group by customer_id, dimension
),

scored as (
    select
        customer_id,
        dimension,
        max(dimension_weight) as dimension_weight,
        cast(case when max(case when is_pending then 1 else 0 end) = 0 then sum(weighted_score) end as decimal(9, 4))
            as dimension_score,
        max(case when is_pending then 1 else 0 end) = 1 as is_pending
    from indicator_scores
    group by customer_id, dimension
),

final as (
    select
        scored.customer_id,
        scored.dimension,
        scored.dimension_weight,
        scored.dimension_score,
        scored.is_pending,
        pending.pending_indicators
    from scored
    left join pending
        on
            scored.customer_id = pending.customer_id
            and scored.dimension = pending.dimension
)

select * from final
