-- Latest delivery wins: extracts are re-delivered whole or in part, so each erp_customers key keeps
-- the row of the newest file (and the last row within it); deliveries whose every key came again
-- later are not read (macro latest_delivered_rows). Otherwise: names and types only.
with source as (
    {{ latest_delivered_rows('erp_customers', ['erp_customer_id']) }}
),

final as (
    select
        erp_customer_id,
        customer_name,
        credit_code,
        created_at,
        _source_file as source_file,
        _source_row as source_row,
        _load_seq as load_seq,
        delivery_rank
    from source
)

select * from final
