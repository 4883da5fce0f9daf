{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date', on_schema_change='append_new_columns'
) }}
-- The evaluation sheet (客户信息评估表) in long form: for every customer and indicator, the
-- raw value, its score, its weight and the weighted score, and how a missing value was handled.
-- Σ weighted_score over a dimension is the dimension score; Σ composite_contribution over a
-- customer is the composite (up to rounding).
with indicator_scores as (
    select * from {{ ref('int_customer_indicators_scored') }}
),

rubric as (
    select * from {{ ref('int_rubric_versioned') }}
),

periods as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

final as (
    select
        indicator_scores.customer_id,
        periods.as_of_date,
        indicator_scores.dimension,
        indicator_scores.indicator,
        indicator_scores.indicator_name_zh,
        indicator_scores.indicator_name_en,
        indicator_scores.unit,
        indicator_scores.raw_value,
        indicator_scores.score,
        indicator_scores.weight,
        indicator_scores.weighted_score,
        indicator_scores.is_missing,
        indicator_scores.is_imputed,
        indicator_scores.imputation_rule,
        indicator_scores.is_pending,
        rubric.rubric_version,
        indicator_scores.raw_category,
        indicator_scores.scoring_method,
        indicator_scores.direction,
        indicator_scores.dimension_weight,
        indicator_scores.composite_contribution,
        indicator_scores.is_outlier_affected,
        rubric.rubric,
        indicator_scores.missing_reason
    from indicator_scores
    cross join rubric
    cross join periods
)

select * from final
