-- A returned row is a dimension whose indicator weights do not sum to 100 %, or the set of
-- dimension weights when those do not sum to 100 %.
with indicator_weights as (
    select dimension as weight_group, sum(weight_pct) as total_weight_pct
    from {{ ref('rubric_indicators') }}
    group by dimension
),

dimension_weights as (
    select 'all dimensions' as weight_group, sum(weight_pct) as total_weight_pct
    from {{ ref('rubric_dimensions') }}
)

select * from indicator_weights where total_weight_pct <> 100
union all
select * from dimension_weights where total_weight_pct <> 100
