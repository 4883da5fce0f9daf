-- Latest delivery wins: extracts are re-delivered whole or in part, so each crm_customers key keeps
-- the row of the newest file (and the last row within it); deliveries whose every key came again
-- later are not read (macro latest_delivered_rows). Otherwise: names and types only,
-- and strategic_level read as a code (trimmed, lower-cased), as rubric_indicator_categories spells it.
with source as (
    {{ latest_delivered_rows('crm_customers', ['crm_customer_id']) }}
),

final as (
    select
        crm_customer_id,
        customer_name,
        credit_code,
        industry,
        region,
        phone,
        email,
        owner as owner_name,
        first_deal_date,
        industry_rank,
        demand_match_pct,
        {{ normalize_code('strategic_level') }} as strategic_level,
        updated_at,
        _source_file as source_file,
        _source_row as source_row,
        _load_seq as load_seq,
        delivery_rank
    from source
)

select * from final
