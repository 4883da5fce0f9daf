-- Composite score and tier per customer: composite = Σ dimension score × dimension weight,
-- placed in the tier whose band holds it. The composite is exact, truncated (never rounded) to
-- 4 decimals: the tier bounds have 4 decimals at most, so the published composite and the tier
-- always agree (89.99996 is 89.9999, key, not 90.0000). A customer with a pending indicator has no
-- composite and the tier `pending`. The default rubric's four dimension scores are pivoted
-- out; other presets' dimensions are in the long form (int_customer_dimensions_scored).
with dimension_scores as (
    select * from {{ ref('int_customer_dimensions_scored') }}
),

tiers as (
    select * from {{ ref('rubric_tiers') }}
),

composited as (
    select
        customer_id,
        max(case when dimension = 'value' then dimension_score end) as value_score,
        max(case when dimension = 'potential' then dimension_score end) as potential_score,
        max(case when dimension = 'risk' then dimension_score end) as risk_score,
        max(case when dimension = 'strategic' then dimension_score end) as strategic_score,
        -- exact (no rounding before banding), truncated to the 4 decimals the tier bounds have
        cast({{ exact_ratio('sum(dimension_score * dimension_weight)', 100, input_scale=8, scale=4) }} as decimal(9, 4))
            as weighted_total,
        max(case when is_pending then 1 else 0 end) = 1 as is_pending
    from dimension_scores
    group by customer_id
),

pending as (
    select
        customer_id,
        {{ dbt.listagg("pending_indicators", "', '", "order by dimension") }} as pending_indicators
    from dimension_scores
    where pending_indicators is not null
    group by customer_id
),

final as (
    select
        composited.customer_id,
        composited.value_score,
        composited.potential_score,
        composited.risk_score,
        composited.strategic_score,
        case when not composited.is_pending then composited.weighted_total end as composite_score,
        composited.is_pending,
        pending.pending_indicators,
        coalesce(scored_tiers.tier, 'pending') as tier
    from composited
    left join pending
        on composited.customer_id = pending.customer_id
    left join tiers as scored_tiers
        on
            not composited.is_pending
            and (scored_tiers.min_score is not null or scored_tiers.max_score is not null)
            and (scored_tiers.min_score is null or composited.weighted_total >= scored_tiers.min_score)
            and (scored_tiers.max_score is null or composited.weighted_total < scored_tiers.max_score)
)

select * from final
