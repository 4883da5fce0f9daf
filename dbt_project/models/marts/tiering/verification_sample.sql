{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date', on_schema_change='append_new_columns'
) }}
-- The sampling check (docs/method.md): for each as-of date, 10 % of the strategic customers (at
-- least one, rounded up), drawn reproducibly: customers are ordered by a hash of their id and
-- the as-of date, so the same run draws the same sample and another date draws afresh. Each
-- sampled customer's source figures stand next to the tier standard and its scores, for a
-- person to recompute by hand.
with tiered as (
    select * from {{ ref('int_customers_tiered') }}
),

measures as (
    select * from {{ ref('int_customer_measures_collected') }}
),

customers as (
    select * from {{ ref('int_customers_unified') }}
),

tiers as (
    select * from {{ ref('rubric_tiers') }}
),

rubric as (
    select * from {{ ref('int_rubric_versioned') }}
),

strategic as (
    select
        tiered.customer_id,
        tiered.composite_score,
        tiered.value_score,
        tiered.potential_score,
        tiered.risk_score,
        tiered.strategic_score,
        {{ dbt.hash(dbt.concat(['tiered.customer_id', "'|'", 'cast(' ~ as_of_date() ~ ' as ' ~ dbt.type_string() ~ ')'])) }}
            as sample_key
    from tiered
    where tiered.tier = 'strategic'
),

drawn as (
    select
        strategic.*,
        row_number() over (order by strategic.sample_key, strategic.customer_id) as sample_rank,
        count(*) over () as population_count
    from strategic
),

sampled as (
    select *
    from drawn
    -- rank <= (n + 9) / 10 keeps ceil(n / 10) customers, at least one, whether `/` divides
    -- integers exactly (DuckDB) or truncates (Postgres)
    where sample_rank <= (population_count + 9) / 10
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        sampled.customer_id,
        customers.customer_name,
        sampled.sample_rank,
        sampled.population_count as strategic_customer_count,
        tiers.tier,
        tiers.tier_name_zh,
        tiers.min_score as tier_min_score,
        tiers.max_score as tier_max_score,
        sampled.composite_score,
        sampled.value_score,
        sampled.potential_score,
        sampled.risk_score,
        sampled.strategic_score,
        measures.period_start as spend_period_start,
        measures.period_end as spend_period_end,
        measures.period_spend_cny,
        measures.period_revenue_excl_tax_cny,
        measures.period_cost_excl_tax_cny,
        measures.period_category_count,
        measures.active_category_count,
        measures.period_order_count,
        measures.relationship_start_date,
        measures.last_order_date,
        measures.period_invoices_due_count,
        measures.period_invoices_on_time_count,
        measures.period_complaint_count,
        measures.industry,
        measures.industry_growth_rate_pct,
        measures.industry_rank,
        measures.demand_match_pct,
        measures.strategic_level,
        customers.crm_customer_id,
        customers.erp_customer_id,
        rubric.rubric,
        rubric.rubric_version
    from sampled
    inner join measures
        on sampled.customer_id = measures.customer_id
    inner join customers
        on sampled.customer_id = customers.customer_id
    inner join tiers
        on tiers.tier = 'strategic'
    cross join rubric
)

select * from final
