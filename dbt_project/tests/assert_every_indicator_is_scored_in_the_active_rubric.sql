-- A returned row is an indicator of the active rubric with a customer but no score although
-- its value is present: a scoring method that found no band or category for the value.
select
    customer_id,
    indicator,
    raw_value,
    raw_category
from {{ ref('int_customer_indicators_scored') }}
where score is null and not is_pending
