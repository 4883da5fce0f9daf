-- Each raw indicator value of the active rubric scored 0-100 by its indicator's scoring method,
-- then weighted within its dimension:
--   bands       the score of the band that holds the value (lower bound inclusive, upper
--               exclusive, an empty bound open); direction is in the band scores themselves;
--   linear      0 at linear_min and 100 at linear_max, straight between, clamped to 0-100
--               (lower_is_better: 100 at linear_min, 0 at linear_max);
--   percentile  100 x the share of the scored population whose value is at or below this one
--               (at or above for lower_is_better): the best value scores 100, ties score alike;
--   categories  the score of the category in rubric_indicator_categories.
-- A missing value (or a category the seed does not list) follows the indicator's
-- missing_policy: `pending` leaves it unscored and the customer pending evaluation (待评估);
-- `lowest_band` gives it the lowest score its method can give, flagged as imputed. A missing
-- value is never silently scored as 0.
with indicator_values as (
    select * from {{ ref('int_indicator_values_imputed') }}
),

indicators as (
    select * from {{ ref('rubric_indicators') }}
    where rubric = {{ active_rubric() }}
),

dimensions as (
    select * from {{ ref('rubric_dimensions') }}
    where rubric = {{ active_rubric() }}
),

bands as (
    select * from {{ ref('rubric_indicator_bands') }}
    where rubric = {{ active_rubric() }}
),

categories as (
    select * from {{ ref('rubric_indicator_categories') }}
    where rubric = {{ active_rubric() }}
),

lowest_band_scores as (
    select
        indicator,
        min(score) as lowest_score
    from bands
    group by indicator
),

lowest_category_scores as (
    select
        indicator,
        min(score) as lowest_score
    from categories
    group by indicator
),

measured as (
    select
        indicator_values.customer_id,
        indicator_values.indicator,
        indicator_values.raw_value,
        indicator_values.raw_category,
        indicator_values.is_outlier_affected,
        indicator_values.is_imputed as is_rule_imputed,
        indicator_values.imputation_rule as rule_imputation,
        indicators.scoring_method,
        indicators.direction,
        indicators.linear_min,
        indicators.linear_max
    from indicator_values
    inner join indicators
        on indicator_values.indicator = indicators.indicator
),

band_scores as (
    select
        measured.customer_id,
        measured.indicator,
        bands.score
    from measured
    inner join bands
        on
            measured.indicator = bands.indicator
            and (bands.lower_bound is null or measured.raw_value >= bands.lower_bound)
            and (bands.upper_bound is null or measured.raw_value < bands.upper_bound)
    where
        measured.scoring_method = 'bands'
        and measured.raw_value is not null
),

linear_fractions as (
    select
        customer_id,
        indicator,
        direction,
        {{ divide('raw_value - linear_min', 'linear_max - linear_min', scale=6) }} as fraction
    from measured
    where
        scoring_method = 'linear'
        and raw_value is not null
),

linear_scores as (
    select
        customer_id,
        indicator,
        cast(round(100 * case
            when direction = 'lower_is_better' then 1 - clamped_fraction
            else clamped_fraction
        end, 4) as decimal(9, 4)) as score
    from (
        select
            customer_id,
            indicator,
            direction,
            case when fraction < 0 then 0 when fraction > 1 then 1 else fraction end as clamped_fraction
        from linear_fractions
    ) as clamped
),

percentile_scores as (
    select
        customer_id,
        indicator,
        cast(round(100 * case
            when direction = 'lower_is_better'
                then cume_dist() over (partition by indicator order by raw_value desc)
            else cume_dist() over (partition by indicator order by raw_value asc)
        end, 4) as decimal(9, 4)) as score
    from measured
    where
        scoring_method = 'percentile'
        and raw_value is not null
),

category_scores as (
    select
        measured.customer_id,
        measured.indicator,
        categories.score
    from measured
    inner join categories
        on
            measured.indicator = categories.indicator
            and measured.raw_category = categories.category
    where measured.scoring_method = 'categories'
),

method_scores as (
    select
        customer_id,
        indicator,
        score
    from band_scores
    union all
    select
        customer_id,
        indicator,
        score
    from linear_scores
    union all
    select
        customer_id,
        indicator,
        score
    from percentile_scores
    union all
    select
        customer_id,
        indicator,
        score
    from category_scores
),

scored as (
    select
        measured.*,
        method_scores.score as method_score,
        case measured.scoring_method
            when 'bands' then lowest_band_scores.lowest_score
            when 'categories' then lowest_category_scores.lowest_score
            else 0
        end as lowest_score
    from measured
    left join method_scores
        on
            measured.customer_id = method_scores.customer_id
            and measured.indicator = method_scores.indicator
    left join lowest_band_scores
        on measured.indicator = lowest_band_scores.indicator
    left join lowest_category_scores
        on measured.indicator = lowest_category_scores.indicator
),

with_policy as (
    select
        scored.*,
        indicators.dimension,
        indicators.indicator_name_zh,
        indicators.indicator_name_en,
        indicators.unit,
        indicators.weight_pct,
        indicators.missing_policy,
        scored.method_score is null as is_missing,
        cast(case
            when scored.method_score is not null then scored.method_score
            when indicators.missing_policy = 'lowest_band' then scored.lowest_score
        end as decimal(9, 4)) as score
    from scored
    inner join indicators
        on scored.indicator = indicators.indicator
),

final as (
    select
        with_policy.customer_id,
        with_policy.dimension,
        with_policy.indicator,
        with_policy.indicator_name_zh,
        with_policy.indicator_name_en,
        with_policy.unit,
        with_policy.raw_value,
        with_policy.raw_category,
        with_policy.scoring_method,
        with_policy.direction,
        with_policy.score,
        with_policy.weight_pct as weight,
        cast(round(with_policy.score * with_policy.weight_pct / 100, 4) as decimal(9, 4)) as weighted_score,
        dimensions.weight_pct as dimension_weight,
        cast(round(with_policy.score * with_policy.weight_pct * dimensions.weight_pct / 10000, 4) as decimal(9, 4))
            as composite_contribution,
        with_policy.is_missing,
        -- Filled either by a cleaning rule (int_indicator_values_imputed) or by the rubric's
        -- lowest_band policy for a value still missing.
        with_policy.is_rule_imputed
        or (with_policy.is_missing and with_policy.missing_policy = 'lowest_band') as is_imputed,
        case
            when with_policy.is_rule_imputed then with_policy.rule_imputation
            when with_policy.is_missing and with_policy.missing_policy = 'lowest_band' then 'lowest_band'
        end as imputation_rule,
        with_policy.is_missing and with_policy.missing_policy = 'pending' as is_pending,
        with_policy.is_outlier_affected
    from with_policy
    inner join dimensions
        on with_policy.dimension = dimensions.dimension
)

select * from final
