-- Latest delivery wins: extracts are re-delivered whole or in part, so each crm_complaints key keeps
-- the row of the newest file (and the last row within it); deliveries whose every key came again
-- later are not read (macro latest_delivered_rows). Otherwise: names and types only,
-- and severity and status read as codes (trimmed, lower-cased).
with source as (
    {{ latest_delivered_rows('crm_complaints', ['ticket_id']) }}
),

final as (
    select
        ticket_id as complaint_id,
        crm_customer_id,
        opened_at,
        {{ normalize_code('severity') }} as severity,
        {{ normalize_code('status') }} as complaint_status,
        _source_file as source_file,
        _source_row as source_row,
        _load_seq as load_seq,
        delivery_rank
    from source
)

select * from final
