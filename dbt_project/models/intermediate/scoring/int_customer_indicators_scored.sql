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
-- `lowest_band` gives it the lowest score of the indicator's scale, flagged as imputed: the
-- lowest band's score (40 on the default bands), the lowest category's, and 0 for linear and
-- percentile, whose scales start at 0. A known-worst value (never ordered, is_worst_value) is
-- not missing: it takes that same lowest score as a measured value, unflagged. missing_reason
-- (from int_customer_indicators_computed, or unknown_category here) says why a value is empty;
-- a missing value is never silently scored as 0.
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

-- The bands and the categories of the indicators scored by them, for the lookups below. An open
-- bound becomes a limit that no value reaches (the widest value of raw_value's type), so each
-- lookup is an equality on the indicator and comparisons with the row's own value: written
-- with `is null or`, or with a condition on the row alone, the lookup compared every row with
-- every band (a nested-loop join; 1.3 s more at a million customers).
band_ranges as (
    select
        bands.indicator,
        bands.score,
        coalesce(bands.lower_bound, cast(-99999999999999999999999999999999.999999 as decimal(38, 6))) as lower_limit,
        coalesce(bands.upper_bound, cast(99999999999999999999999999999999.999999 as decimal(38, 6))) as upper_limit
    from bands
    inner join indicators
        on bands.indicator = indicators.indicator
    where indicators.scoring_method = 'bands'
),

category_scores as (
    select
        categories.indicator,
        categories.category,
        categories.score
    from categories
    inner join indicators
        on categories.indicator = indicators.indicator
    where indicators.scoring_method = 'categories'
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

-- Read twice: whole by the scores, and for the few percentile-scored indicators by
-- percentile_scores. Computed for each read rather than kept: keeping its 11.5 million rows
-- at a million customers took longer than computing the percentile indicators again.
measured as {{ not_materialized() }} (
    select
        indicator_values.customer_id,
        indicator_values.indicator,
        indicator_values.raw_value,
        indicator_values.raw_category,
        indicator_values.is_outlier_affected,
        indicator_values.is_imputed as is_rule_imputed,
        indicator_values.is_worst_value,
        indicator_values.missing_reason as measured_missing_reason,
        indicator_values.imputation_rule as rule_imputation,
        indicators.scoring_method,
        indicators.direction,
        indicators.linear_min,
        indicators.linear_max
    from indicator_values
    inner join indicators
        on indicator_values.indicator = indicators.indicator
),

-- Each score is looked up beside its row (no row is split off and joined back): bands by a
-- range join on the indicator's bands, categories by their name, linear inline, and the
-- percentile over the few rows scored that way.
linear_ratios as (
    select
        measured.*,
        case
            when measured.scoring_method = 'linear' and measured.raw_value is not null
                then {{ divide(
                    'measured.raw_value - measured.linear_min', 'measured.linear_max - measured.linear_min', scale=6
                ) }}
        end as fraction
    from measured
),

linear_fractions as (
    select
        linear_ratios.*,
        -- The linear score's share of the way from min to max, within [0, 1].
        case
            when linear_ratios.fraction < 0 then 0
            when linear_ratios.fraction > 1 then 1
            else linear_ratios.fraction
        end as bounded_fraction
    from linear_ratios
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

scored as (
    select
        linear_fractions.*,
        case linear_fractions.scoring_method
            when 'bands' then band_ranges.score
            when 'linear'
                then cast(round(100 * case
                        when linear_fractions.direction = 'lower_is_better' then 1 - linear_fractions.bounded_fraction
                        else linear_fractions.bounded_fraction
                    end, 4) as decimal(9, 4))
            when 'percentile' then percentile_scores.score
            when 'categories' then category_scores.score
        end as method_score,
        case linear_fractions.scoring_method
            when 'bands' then lowest_band_scores.lowest_score
            when 'categories' then lowest_category_scores.lowest_score
            else 0
        end as lowest_score
    from linear_fractions
    -- A band holds its lower bound, not its upper; a missing value is in no band.
    left join band_ranges
        on
            linear_fractions.indicator = band_ranges.indicator
            and linear_fractions.raw_value >= band_ranges.lower_limit
            and linear_fractions.raw_value < band_ranges.upper_limit
    left join category_scores
        on
            linear_fractions.indicator = category_scores.indicator
            and linear_fractions.raw_category = category_scores.category
    left join percentile_scores
        on
            linear_fractions.customer_id = percentile_scores.customer_id
            and linear_fractions.indicator = percentile_scores.indicator
    left join lowest_band_scores
        on linear_fractions.indicator = lowest_band_scores.indicator
    left join lowest_category_scores
        on linear_fractions.indicator = lowest_category_scores.indicator
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
        scored.method_score is null and not scored.is_worst_value as is_missing,
        cast(case
            when scored.method_score is not null then scored.method_score
            when scored.is_worst_value then scored.lowest_score
            when indicators.missing_policy = 'lowest_band' then scored.lowest_score
        end as decimal(9, 4)) as score,
        coalesce(
            scored.measured_missing_reason,
            case when scored.method_score is null and scored.raw_category is not null then 'unknown_category' end
        ) as missing_reason
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
        cast(with_policy.score * with_policy.weight_pct * 0.01 as decimal(9, 4)) as weighted_score,
        dimensions.weight_pct as dimension_weight,
        cast(with_policy.score * with_policy.weight_pct * dimensions.weight_pct * 0.0001 as decimal(9, 4))
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
        with_policy.is_outlier_affected,
        with_policy.missing_reason
    from with_policy
    inner join dimensions
        on with_policy.dimension = dimensions.dimension
)

select * from final
