-- A returned row is a pair of rates of one currency whose validity ranges overlap, or a range
-- that ends before it starts: an order line on such a date would have two rates, or none.
with rates as (
    select * from {{ ref('currency_rates') }}
)

select
    earlier.currency,
    earlier.valid_from,
    earlier.valid_to,
    later.valid_from as overlapping_valid_from
from rates as earlier
inner join rates as later
    on
        earlier.currency = later.currency
        and earlier.valid_from < later.valid_from
        and earlier.valid_to >= later.valid_from

union all

select
    currency,
    valid_from,
    valid_to,
    null as overlapping_valid_from
from rates
where valid_to < valid_from
