-- A returned row is a weighted dimension with no indicator: its score could never be computed.
select dimensions.dimension
from {{ ref('rubric_dimensions') }} as dimensions
left join {{ ref('rubric_indicators') }} as indicators
    on dimensions.dimension = indicators.dimension
where indicators.indicator is null
