-- Dimension scores per customer: the sum of the weighted indicator scores of the dimension
-- (indicator weights within a dimension sum to 100 %, so a dimension score is 0-100).
with indicator_scores as (
    select * from {{ ref('int_indicator_scores_banded') }}
),

final as (
    select
        customer_id,
        dimension,
        sum(weighted_score) as dimension_score,
        max(case when is_pending then 1 else 0 end) = 1 as is_pending,
        {{ dbt.listagg(
            "case when is_pending then indicator end",
            "', '",
            "order by indicator"
        ) }} as pending_indicators
    from indicator_scores
    group by customer_id, dimension
)

select * from final
