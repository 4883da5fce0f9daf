-- Each raw indicator value scored 0-100 by its bands (lower bound inclusive, upper bound
-- exclusive; an empty bound is open), then weighted within its dimension. A missing value
-- follows the indicator's missing_policy: `pending` leaves it unscored and the customer
-- pending evaluation (待评估); `lowest_band` gives it the lowest band's score, flagged as
-- imputed. A missing value is never scored as 0. Values come after the cleaning rules'
-- imputation (int_indicator_values_imputed), which may already have filled a value.
with indicator_values as (
    select * from {{ ref('int_indicator_values_imputed') }}
),

indicators as (
    select * from {{ ref('rubric_indicators') }}
),

bands as (
    select * from {{ ref('rubric_indicator_bands') }}
),

lowest_bands as (
    select indicator, min(score) as lowest_score
    from bands
    group by indicator
),

banded as (
    select
        indicator_values.customer_id,
        indicator_values.indicator,
        indicator_values.raw_value,
        indicator_values.is_missing,
        indicator_values.is_imputed as is_rule_imputed,
        indicator_values.imputation_rule as rule_imputation,
        indicator_values.is_outlier_affected,
        bands.score as band_score
    from indicator_values
    left join bands
        on indicator_values.indicator = bands.indicator
        and (bands.lower_bound is null or indicator_values.raw_value >= bands.lower_bound)
        and (bands.upper_bound is null or indicator_values.raw_value < bands.upper_bound)
        and indicator_values.raw_value is not null
),

final as (
    select
        banded.customer_id,
        indicators.dimension,
        banded.indicator,
        indicators.indicator_name_zh,
        indicators.indicator_name_en,
        indicators.unit,
        banded.raw_value,
        case
            when not banded.is_missing then banded.band_score
            when indicators.missing_policy = 'lowest_band' then lowest_bands.lowest_score
        end as score,
        indicators.weight_pct as weight,
        cast(round(
            case
                when not banded.is_missing then banded.band_score
                when indicators.missing_policy = 'lowest_band' then lowest_bands.lowest_score
            end * indicators.weight_pct / 100, 4) as decimal(9, 4)) as weighted_score,
        banded.is_missing,
        banded.is_rule_imputed or (banded.is_missing and indicators.missing_policy = 'lowest_band') as is_imputed,
        case
            when banded.is_rule_imputed then banded.rule_imputation
            when banded.is_missing and indicators.missing_policy = 'lowest_band' then 'lowest_band'
        end as imputation_rule,
        banded.is_outlier_affected,
        banded.is_missing and indicators.missing_policy = 'pending' as is_pending
    from banded
    inner join indicators
        on banded.indicator = indicators.indicator
    left join lowest_bands
        on banded.indicator = lowest_bands.indicator
)

select * from final
