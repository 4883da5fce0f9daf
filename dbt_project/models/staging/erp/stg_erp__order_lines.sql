-- Latest delivery wins: extracts are re-delivered whole or in part, so each erp_orders key keeps
-- the row of the newest file (and the last row within it); deliveries whose every key came again
-- later are not read (macro latest_delivered_rows). Otherwise: names and types only,
-- and the status read as a code (trimmed, lower-cased): `Confirmed` is a confirmed line.
with source as (
    {{ latest_delivered_rows('erp_orders', ['order_id', 'line_no']) }}
),

final as (
    select
        order_id,
        line_no,
        erp_customer_id,
        order_date,
        {{ normalize_code('status') }} as order_status,
        product_id,
        quantity,
        amount_incl_tax,
        tax_rate,
        cost_excl_tax,
        currency,
        _source_file as source_file,
        _source_row as source_row,
        _load_seq as load_seq,
        delivery_rank
    from source
)

select * from final
