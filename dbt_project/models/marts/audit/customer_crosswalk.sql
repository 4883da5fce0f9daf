{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date'
) }}
-- Every CRM and ERP customer record of the run, its golden customer_id, the rule that matched it
-- and whether it was merged into another record (see int_customers_matched).
with matched as (
    select * from {{ ref('int_customers_matched') }}
),

periods as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

final as (
    select
        periods.as_of_date,
        matched.source_system,
        matched.source_customer_id,
        matched.customer_id,
        matched.match_rule,
        matched.is_merged,
        matched.is_survivor,
        matched.customer_name,
        matched.normalized_name,
        matched.credit_code,
        matched.is_credit_code_valid,
        matched.cluster_record_count
    from matched
    cross join periods
)

select * from final
