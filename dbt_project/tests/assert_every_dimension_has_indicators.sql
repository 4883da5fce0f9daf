-- A returned row is a weighted dimension of a preset with no indicator: its score could never be computed.
{{ config(meta={'dagster': {'ref': {'name': 'rubric_indicators'}}}) }}
select
    dimensions.rubric,
    dimensions.dimension
from {{ ref('rubric_dimensions') }} as dimensions
left join {{ ref('rubric_indicators') }} as indicators
    on
        dimensions.rubric = indicators.rubric
        and dimensions.dimension = indicators.dimension
where indicators.indicator is null
