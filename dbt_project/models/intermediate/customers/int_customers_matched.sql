-- The crosswalk: every CRM and ERP customer record and the golden customer it belongs to.
-- Records that share a credit code (统一社会信用代码) are one firm. The survivor, whose id
-- becomes customer_id, is the most recently updated CRM record, else the oldest ERP record.
-- A record without a credit code stands alone here; fuller matching (names, phones) is a
-- cleaning rule of its own.
with crm_customers as (
    select * from {{ ref('stg_crm__customers') }}
),

erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

source_records as (
    select
        'crm' as source_system,
        crm_customer_id as source_customer_id,
        customer_name,
        upper(trim(credit_code)) as credit_code,
        1 as system_priority,
        updated_at as record_at
    from crm_customers

    union all

    select
        'erp' as source_system,
        erp_customer_id as source_customer_id,
        customer_name,
        upper(trim(credit_code)) as credit_code,
        2 as system_priority,
        created_at as record_at
    from erp_customers
),

survivors_ranked as (
    select
        source_records.*,
        row_number() over (
            partition by credit_code
            order by
                system_priority,
                case when system_priority = 1 then record_at end desc nulls last,
                case when system_priority = 2 then record_at end asc nulls last,
                source_customer_id
        ) as survivor_rank
    from source_records
    where credit_code is not null
),

survivors as (
    select credit_code, source_customer_id as customer_id
    from survivors_ranked
    where survivor_rank = 1
),

final as (
    select
        source_records.source_system,
        source_records.source_customer_id,
        source_records.customer_name,
        source_records.credit_code,
        coalesce(survivors.customer_id, source_records.source_customer_id) as customer_id,
        case
            when survivors.customer_id is null then 'no_credit_code'
            when survivors.customer_id = source_records.source_customer_id then 'survivor'
            else 'credit_code'
        end as match_rule,
        coalesce(survivors.customer_id, source_records.source_customer_id)
            <> source_records.source_customer_id as is_merged
    from source_records
    left join survivors
        on source_records.credit_code = survivors.credit_code
)

select * from final
