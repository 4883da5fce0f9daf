-- rubric_version: a short hash of every row of every scoring seed, so each published row
-- can be traced to the exact configuration that made it.
with seed_rows as (
    {{ rubric_rows('rubric_dimensions', ['dimension', 'dimension_name_zh', 'dimension_name_en', 'weight_pct']) }}
    union all
    {{ rubric_rows('rubric_indicators', ['indicator', 'dimension', 'unit', 'weight_pct', 'scoring_method', 'direction', 'missing_policy']) }}
    union all
    {{ rubric_rows('rubric_indicator_bands', ['indicator', 'lower_bound', 'upper_bound', 'score']) }}
    union all
    {{ rubric_rows('rubric_tiers', ['tier', 'tier_name_zh', 'tier_name_en', 'min_score', 'max_score', 'strategy', 'sort_order']) }}
    union all
    {{ rubric_rows('rubric_settings', ['setting', 'setting_value']) }}
),

final as (
    select
        substring({{ dbt.hash(dbt.listagg('row_text', "'\n'", 'order by row_text')) }}, 1, 12) as rubric_version,
        count(*) as configuration_rows
    from seed_rows
)

select * from final
