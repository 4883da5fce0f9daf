-- A returned row is a confirmed order line that neither reached int_order_lines_attributed nor was
-- excluded by an outlier rule: a line dropped without a trace.
{{ config(meta={'dagster': {'ref': {'name': 'int_order_lines_attributed'}}}) }}
with confirmed as (
    select
        order_id,
        line_no
    from {{ ref('stg_erp__order_lines') }}
    where order_status = 'confirmed'
),

attributed as (
    select
        order_id,
        line_no
    from {{ ref('int_order_lines_attributed') }}
),

excluded as (
    select
        order_id,
        line_no
    from {{ ref('int_order_lines_outliers_flagged') }}
    where is_applied and action = 'exclude'
)

select
    confirmed.order_id,
    confirmed.line_no
from confirmed
left join attributed
    on confirmed.order_id = attributed.order_id and confirmed.line_no = attributed.line_no
left join excluded
    on confirmed.order_id = excluded.order_id and confirmed.line_no = excluded.line_no
where attributed.order_id is null and excluded.order_id is null
