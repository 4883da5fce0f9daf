{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date'
) }}
-- Each order line an outlier rule flagged: the rule, its reason code and action, the original and
-- the corrected amount (empty when the line was excluded), and whether that action was applied.
with flagged as (
    select * from {{ ref('int_order_lines_outliers_flagged') }}
),

periods as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

final as (
    select
        periods.as_of_date,
        flagged.order_id,
        flagged.line_no,
        flagged.erp_customer_id,
        matched.customer_id,
        flagged.order_date,
        flagged.product_category,
        flagged.rule,
        flagged.reason_code,
        flagged.action,
        flagged.is_applied,
        flagged.value_column,
        flagged.original_value,
        flagged.corrected_value,
        flagged.order_date between periods.period_start and periods.period_end as is_in_spend_period,
        flagged.detail
    from flagged
    {{ join_golden_customer('flagged.erp_customer_id', 'erp', alias='matched', kind='left') }}
    cross join periods
)

select * from final
