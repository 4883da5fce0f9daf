-- One row per golden customer: the survivor record's attributes, with the earliest known
-- start of the relationship from every record that was matched to it.
with matched as (
    select * from {{ ref('int_customers_matched') }}
),

crm_customers as (
    select * from {{ ref('stg_crm__customers') }}
),

erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

relationship_starts as (
    select
        matched.customer_id,
        min(crm_customers.first_deal_date) as first_deal_date,
        min(cast(erp_customers.created_at as date)) as erp_created_date,
        max(case when matched.source_system = 'crm' then matched.source_customer_id end) as crm_customer_id,
        max(case when matched.source_system = 'erp' then matched.source_customer_id end) as erp_customer_id,
        count(*) as source_record_count
    from matched
    left join crm_customers
        on matched.source_system = 'crm'
        and matched.source_customer_id = crm_customers.crm_customer_id
    left join erp_customers
        on matched.source_system = 'erp'
        and matched.source_customer_id = erp_customers.erp_customer_id
    group by matched.customer_id
),

survivors as (
    select *
    from matched
    where matched.customer_id = matched.source_customer_id
),

final as (
    select
        survivors.customer_id,
        survivors.source_system as survivor_system,
        survivors.customer_name,
        survivors.credit_code,
        crm_customers.industry,
        crm_customers.region,
        crm_customers.owner_name,
        crm_customers.industry_rank,
        crm_customers.demand_match_pct,
        crm_customers.strategic_level,
        relationship_starts.first_deal_date,
        relationship_starts.erp_created_date,
        relationship_starts.crm_customer_id,
        relationship_starts.erp_customer_id,
        relationship_starts.source_record_count
    from survivors
    inner join relationship_starts
        on survivors.customer_id = relationship_starts.customer_id
    left join crm_customers
        on survivors.source_system = 'crm'
        and survivors.source_customer_id = crm_customers.crm_customer_id
)

select * from final
