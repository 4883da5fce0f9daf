-- Composite score and tier per customer: composite = Σ dimension score × dimension weight,
-- placed in the tier whose band holds it. A customer with a pending indicator has no
-- composite and the tier `pending`.
with dimension_scores as (
    select * from {{ ref('int_customer_dimensions_scored') }}
),

dimensions as (
    select * from {{ ref('rubric_dimensions') }}
),

tiers as (
    select * from {{ ref('rubric_tiers') }}
),

composited as (
    select
        dimension_scores.customer_id,
        max(case when dimension_scores.dimension = 'value' then dimension_scores.dimension_score end) as value_score,
        cast(round(sum(dimension_scores.dimension_score * dimensions.weight_pct / 100), 4) as decimal(9, 4)) as weighted_total,
        max(case when dimension_scores.is_pending then 1 else 0 end) = 1 as is_pending,
        {{ dbt.listagg("dimension_scores.pending_indicators", "', '", "order by dimension_scores.dimension") }} as pending_indicators
    from dimension_scores
    inner join dimensions
        on dimension_scores.dimension = dimensions.dimension
    group by dimension_scores.customer_id
),

final as (
    select
        composited.customer_id,
        composited.value_score,
        case when not composited.is_pending then composited.weighted_total end as composite_score,
        composited.is_pending,
        composited.pending_indicators,
        coalesce(scored_tiers.tier, 'pending') as tier
    from composited
    left join tiers as scored_tiers
        on not composited.is_pending
        and (scored_tiers.min_score is not null or scored_tiers.max_score is not null)
        and (scored_tiers.min_score is null or composited.weighted_total >= scored_tiers.min_score)
        and (scored_tiers.max_score is null or composited.weighted_total < scored_tiers.max_score)
)

select * from final
