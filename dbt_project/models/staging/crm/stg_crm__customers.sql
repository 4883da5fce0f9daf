-- Latest delivery wins: extracts are re-delivered whole or in part, so each crm_customers key keeps
-- the row of the newest file (and the last row within it); deliveries whose every key came again
-- later are not read (macro delivered_rows). Otherwise: names and types only,
-- and strategic_level read as a code (trimmed, lower-cased), as rubric_indicator_categories spells it.
with source as (
    {{ delivered_rows('crm_customers') }}
),

ranked as (
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
        row_number() over (partition by crm_customer_id order by _load_seq desc, _source_row desc) as delivery_rank
    from source
),

final as (
    select * from ranked
    where delivery_rank = 1
)

select * from final
