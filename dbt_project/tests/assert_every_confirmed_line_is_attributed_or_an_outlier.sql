-- A returned row means confirmed order lines went missing (or were repeated) between
-- int_order_lines_priced and int_order_lines_attributed: the lines attributed plus the lines an
-- outlier rule excluded must be exactly the confirmed lines. Counted, not joined line by line:
-- the outlier table is small and keyed, so equal counts mean every line is accounted for.
{{ config(meta={'dagster': {'ref': {'name': 'int_order_lines_attributed'}}}) }}
with confirmed as (
    select count(*) as line_count
    from {{ ref('int_order_lines_priced') }}
),

attributed as (
    select count(*) as line_count
    from {{ ref('int_order_lines_attributed') }}
),

excluded as (
    select count(distinct {{ dbt.concat(["order_id", "'|'", "cast(line_no as " ~ dbt.type_string() ~ ")"]) }}) as line_count
    from {{ ref('int_order_lines_outliers_flagged') }}
    where is_applied and action = 'exclude'
)

select
    confirmed.line_count as confirmed_lines,
    attributed.line_count as attributed_lines,
    excluded.line_count as excluded_lines
from confirmed
cross join attributed
cross join excluded
where confirmed.line_count <> attributed.line_count + excluded.line_count
