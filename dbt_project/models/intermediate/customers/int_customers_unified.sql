-- One row per golden customer. Survivorship, attribute by attribute:
--   customer_name: the survivor record's (see int_customers_matched);
--   credit_code: a valid code (all valid codes of a golden customer are equal), else the survivor's;
--   industry, region, owner, phone, email, industry rank, demand match, strategic level: the most
--     recently updated CRM record where the value is not empty;
--   first_deal_date and erp_created_date: the earliest of all matched records.
{%- set crm_attributes = [
    'industry', 'region', 'owner_name', 'phone', 'email', 'industry_rank', 'demand_match_pct', 'strategic_level'
] %}
with matched as (
    select * from {{ ref('int_customers_matched') }}
),

crm_customers as (
    select * from {{ ref('stg_crm__customers') }}
),

erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

-- One window for every attribute: the first non-empty value when the customer's CRM records are
-- ordered newest first.
crm_records as (
    select
        matched.customer_id,
        crm_customers.first_deal_date,
        {%- for attribute in crm_attributes %}
            {{ first_non_null('crm_customers.' ~ attribute) }} over (
                partition by matched.customer_id
                order by crm_customers.updated_at desc nulls last, crm_customers.crm_customer_id asc
                rows between unbounded preceding and unbounded following
            ) as {{ attribute }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from matched
    inner join crm_customers
        on matched.source_customer_id = crm_customers.crm_customer_id
    where matched.source_system = 'crm'
),

crm_attributes as (
    select
        customer_id,
        {%- for attribute in crm_attributes %}
            max({{ attribute }}) as {{ attribute }},
        {%- endfor %}
        min(first_deal_date) as first_deal_date
    from crm_records
    group by customer_id
),

erp_starts as (
    -- the system filter in where, not in the join condition, keeps this a hash join
    select
        matched.customer_id,
        min(cast(erp_customers.created_at as date)) as erp_created_date
    from matched
    inner join erp_customers
        on matched.source_customer_id = erp_customers.erp_customer_id
    where matched.source_system = 'erp'
    group by matched.customer_id
),

relationship_starts as (
    select
        matched.customer_id,
        max(case when matched.source_system = 'crm' and matched.is_survivor then matched.source_customer_id end)
            as survivor_crm_customer_id,
        max(case when matched.source_system = 'crm' then matched.source_customer_id end) as any_crm_customer_id,
        max(case when matched.source_system = 'erp' then matched.source_customer_id end) as erp_customer_id,
        max(case when matched.is_credit_code_valid then matched.credit_code end) as valid_credit_code,
        count(*) as source_record_count
    from matched
    group by matched.customer_id
),

survivors as (
    select *
    from matched
    where is_survivor
),

final as (
    select
        survivors.customer_id,
        survivors.source_system as survivor_system,
        survivors.customer_name,
        coalesce(relationship_starts.valid_credit_code, survivors.credit_code) as credit_code,
        crm_attributes.industry,
        crm_attributes.region,
        crm_attributes.owner_name,
        crm_attributes.phone,
        crm_attributes.email,
        crm_attributes.industry_rank,
        crm_attributes.demand_match_pct,
        crm_attributes.strategic_level,
        crm_attributes.first_deal_date,
        erp_starts.erp_created_date,
        coalesce(relationship_starts.survivor_crm_customer_id, relationship_starts.any_crm_customer_id) as crm_customer_id,
        relationship_starts.erp_customer_id,
        relationship_starts.source_record_count
    from survivors
    inner join relationship_starts
        on survivors.customer_id = relationship_starts.customer_id
    left join crm_attributes
        on survivors.customer_id = crm_attributes.customer_id
    left join erp_starts
        on survivors.customer_id = erp_starts.customer_id
)

select * from final
