{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date', on_schema_change='append_new_columns'
) }}
-- 分级分类结果汇总表 of the computed tier (customer_tiers.tier, what the rubric gives tonight):
-- per tier and as-of date, customers, spend and spend-weighted margin, and a total row.
-- Shares are of the tiered customers; pending customers (待评估) get their own row, outside
-- the shares. tier_summary_effective is the same summary of the effective tier.
{{ tier_summary('tier', 'computed') }}
