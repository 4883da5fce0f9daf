-- A returned row is a golden customer whose records carry two different valid credit codes:
-- two firms merged, which the matching must never do.
select
    customer_id,
    count(distinct credit_code) as valid_credit_codes
from {{ ref('int_customers_matched') }}
where is_credit_code_valid
group by customer_id
having count(distinct credit_code) > 1
