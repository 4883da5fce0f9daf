-- A returned row is an indicator of the active rubric with a customer but no score although
-- its value is present: a scoring method that found no band or category for the value.
select
    customer_id,
    indicator,
    raw_value,
    raw_category
from {{ ref('customer_indicator_scores') }}
where as_of_date = {{ as_of_date() }} and score is null and not is_pending
