{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date', on_schema_change='append_new_columns'
) }}
-- 分级分类结果汇总表 of the effective tier (customer_tiers.effective_tier: the tier the business
-- acts on, which changes only at a re-tier cycle or when a trigger fires): the same columns and
-- rows as tier_summary, which summarises the computed tier.
{{ tier_summary('effective_tier', 'effective') }}
