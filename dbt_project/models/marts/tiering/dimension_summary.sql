{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date', on_schema_change='append_new_columns'
) }}
-- Average dimension scores per tier and as-of date: what sets the tiers apart. One row per
-- tier and dimension of the active rubric; pending customers count only in the dimensions
-- they could be scored on.
with dimension_scores as (
    select * from {{ ref('int_customer_dimensions_scored') }}
),

tiered as (
    select * from {{ ref('int_customers_tiered') }}
),

dimensions as (
    select * from {{ ref('rubric_dimensions') }}
    where rubric = {{ active_rubric() }}
),

tiers as (
    select * from {{ ref('rubric_tiers') }}
),

rubric as (
    select * from {{ ref('int_rubric_versioned') }}
),

per_tier as (
    select
        tiered.tier,
        dimension_scores.dimension,
        count(*) as customer_count,
        count(dimension_scores.dimension_score) as scored_customer_count,
        avg(dimension_scores.dimension_score) as avg_dimension_score,
        min(dimension_scores.dimension_score) as min_dimension_score,
        max(dimension_scores.dimension_score) as max_dimension_score
    from dimension_scores
    inner join tiered
        on dimension_scores.customer_id = tiered.customer_id
    group by tiered.tier, dimension_scores.dimension
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        tiers.tier,
        tiers.tier_name_zh,
        dimensions.dimension,
        dimensions.dimension_name_zh,
        dimensions.weight_pct as dimension_weight,
        coalesce(per_tier.customer_count, 0) as customer_count,
        coalesce(per_tier.scored_customer_count, 0) as scored_customer_count,
        cast(round(per_tier.avg_dimension_score, 2) as decimal(9, 2)) as avg_dimension_score,
        per_tier.min_dimension_score,
        per_tier.max_dimension_score,
        tiers.sort_order,
        rubric.rubric,
        rubric.rubric_version
    from tiers
    cross join dimensions
    left join per_tier
        on
            tiers.tier = per_tier.tier
            and dimensions.dimension = per_tier.dimension
    cross join rubric
)

select * from final
