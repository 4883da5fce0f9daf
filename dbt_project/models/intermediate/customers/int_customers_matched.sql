-- The crosswalk: every CRM and ERP customer record and the golden customer it belongs to.
-- Matching, in a fixed number of passes (no recursion, so it stays linear at a million records):
--   1. credit_code: records with the same valid 统一社会信用代码 (GB 32100-2015 check character) are one firm.
--   2. name: a record without a valid code joins the firm whose records share its normalised name
--      (normalize_company_name), if that name belongs to exactly one valid code; records of a name
--      that no valid code carries group by the name alone. A name shared by two valid codes
--      matches nothing: two different valid credit codes never merge.
--   3. phone: a group still without a valid code joins a firm with a code when one of its CRM
--      phone numbers belongs to exactly one such firm and the names are alike
--      (name_similarity ≥ var phone_match_min_name_similarity).
-- Survivor (its id becomes customer_id): CRM before ERP, then a valid code, then the most recently
-- updated CRM record (oldest ERP record), then the smallest id. Attribute survivorship is in
-- int_customers_unified.
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
        {{ normalize_credit_code('credit_code') }} as credit_code,
        {{ normalize_phone('phone') }} as phone_key,
        1 as system_priority,
        updated_at as record_at
    from crm_customers

    union all

    select
        'erp' as source_system,
        erp_customer_id as source_customer_id,
        customer_name,
        {{ normalize_credit_code('credit_code') }} as credit_code,
        cast(null as {{ dbt.type_string() }}) as phone_key,
        2 as system_priority,
        created_at as record_at
    from erp_customers
),

validated as (
    select
        source_records.*,
        {{ normalize_company_name('source_records.customer_name') }} as normalized_name,
        coalesce({{ credit_code_is_valid('source_records.credit_code') }}, false) as is_credit_code_valid
    from source_records
),

-- Read by name_codes (twice: a distinct count and a minimum) and by name_keyed, and each row's
-- normalised name and check character are regular expressions: computed once.
coded as {{ computed_once() }} (
    select
        validated.*,
        case when validated.is_credit_code_valid then validated.credit_code end as valid_credit_code
    from validated
),

name_codes as (
    select
        normalized_name,
        count(distinct valid_credit_code) as valid_code_count,
        min(valid_credit_code) as only_valid_code
    from coded
    where normalized_name is not null
    group by normalized_name
),

name_keyed as (
    select
        coded.*,
        case
            when coded.valid_credit_code is not null then 'code:' || coded.valid_credit_code
            when name_codes.valid_code_count = 1 then 'code:' || name_codes.only_valid_code
            when name_codes.valid_code_count = 0 then 'name:' || coded.normalized_name
            else 'record:' || coded.source_system || ':' || coded.source_customer_id
        end as name_cluster_key,
        case
            when coded.valid_credit_code is not null then 'credit_code'
            when name_codes.valid_code_count is not null and name_codes.valid_code_count <= 1 then 'name'
            else 'unmatched'
        end as key_rule
    from coded
    left join name_codes
        on coded.normalized_name = name_codes.normalized_name
),

phone_candidates as (
    select
        without_code.name_cluster_key as from_cluster_key,
        with_code.name_cluster_key as to_cluster_key
    from name_keyed as without_code
    inner join name_keyed as with_code
        on without_code.phone_key = with_code.phone_key
    where
        without_code.name_cluster_key not like 'code:%'
        and with_code.name_cluster_key like 'code:%'
        and {{ name_similarity('without_code.normalized_name', 'with_code.normalized_name') }}
        >= {{ var('phone_match_min_name_similarity') }}
),

phone_moves as (
    select
        from_cluster_key,
        min(to_cluster_key) as to_cluster_key
    from phone_candidates
    group by from_cluster_key
    having count(distinct to_cluster_key) = 1
),

clustered as (
    select
        name_keyed.*,
        coalesce(phone_moves.to_cluster_key, name_keyed.name_cluster_key) as cluster_key,
        case when phone_moves.to_cluster_key is not null then 'phone' else name_keyed.key_rule end as attach_rule
    from name_keyed
    left join phone_moves
        on name_keyed.name_cluster_key = phone_moves.from_cluster_key
),

ranked as (
    select
        clustered.*,
        count(*) over (partition by clustered.cluster_key) as cluster_size,
        row_number() over (
            partition by clustered.cluster_key
            order by
                clustered.system_priority asc,
                case when clustered.is_credit_code_valid then 0 else 1 end,
                case when clustered.system_priority = 1 then clustered.record_at end desc nulls last,
                case when clustered.system_priority = 2 then clustered.record_at end asc nulls last,
                clustered.source_customer_id
        ) as survivor_rank
    from clustered
),

survivors as (
    select
        cluster_key,
        source_customer_id as customer_id
    from ranked
    where survivor_rank = 1
),

final as (
    select
        ranked.source_system,
        ranked.source_customer_id,
        ranked.customer_name,
        ranked.normalized_name,
        ranked.credit_code,
        ranked.is_credit_code_valid,
        ranked.record_at,
        survivors.customer_id,
        ranked.cluster_key,
        case when ranked.cluster_size = 1 then 'unmatched' else ranked.attach_rule end as match_rule,
        ranked.survivor_rank = 1 as is_survivor,
        ranked.survivor_rank > 1 as is_merged,
        ranked.cluster_size as cluster_record_count
    from ranked
    inner join survivors
        on ranked.cluster_key = survivors.cluster_key
)

select * from final
