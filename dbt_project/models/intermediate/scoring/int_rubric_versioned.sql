-- rubric_version: a short hash of the active configuration (the preset's rows of every rubric
-- seed, and the shared tiers, settings and industry growth rates), so each published row can be
-- traced to the exact configuration that made it. Switching preset switches the version.
with seed_rows as (
    select 'rubric' as seed_name, {{ dbt.concat(["'rubric|'", active_rubric()]) }} as row_text
    union all
    {{ rubric_rows('rubric_dimensions', ['dimension', 'dimension_name_zh', 'dimension_name_en', 'weight_pct'], per_rubric=true) }}
    union all
    {{ rubric_rows('rubric_indicators', [
        'indicator', 'dimension', 'unit', 'weight_pct', 'scoring_method', 'direction', 'linear_min', 'linear_max',
        'missing_policy'
    ], per_rubric=true) }}
    union all
    {{ rubric_rows('rubric_indicator_bands', ['indicator', 'lower_bound', 'upper_bound', 'score'], per_rubric=true) }}
    union all
    {{ rubric_rows('rubric_indicator_categories', ['indicator', 'category', 'score'], per_rubric=true) }}
    union all
    {{ rubric_rows('rubric_tiers', [
        'tier', 'tier_name_zh', 'tier_name_en', 'min_score', 'max_score', 'strategy', 'sort_order'
    ]) }}
    union all
    {{ rubric_rows('rubric_settings', ['setting', 'setting_value']) }}
    union all
    {{ rubric_rows('industry_growth_rates', ['industry', 'growth_rate_pct']) }}
),

final as (
    select
        {{ active_rubric() }} as rubric,
        substring({{ dbt.hash(dbt.listagg('row_text', "'\n'", 'order by row_text')) }}, 1, 12) as rubric_version,
        count(*) as configuration_rows
    from seed_rows
)

select * from final
