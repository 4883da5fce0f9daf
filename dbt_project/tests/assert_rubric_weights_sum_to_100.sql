-- A returned row is a preset's dimension whose indicator weights do not sum to 100 %, or a
-- preset whose dimension weights do not sum to 100 %.
{{ config(meta={'dagster': {'ref': {'name': 'rubric_indicators'}}}) }}
with indicator_weights as (
    select
        rubric,
        dimension as weight_group,
        sum(weight_pct) as total_weight_pct
    from {{ ref('rubric_indicators') }}
    group by rubric, dimension
),

dimension_weights as (
    select
        rubric,
        'all dimensions' as weight_group,
        sum(weight_pct) as total_weight_pct
    from {{ ref('rubric_dimensions') }}
    group by rubric
)

select * from indicator_weights
where total_weight_pct <> 100
union all
select * from dimension_weights
where total_weight_pct <> 100
