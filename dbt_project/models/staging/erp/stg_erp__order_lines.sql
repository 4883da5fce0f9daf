-- Latest delivery wins: extracts are re-delivered whole or in part, so each erp_orders key keeps
-- the row of the newest file (and the last row within it); deliveries whose every key came again
-- later are not read (macro delivered_rows). Otherwise: names and types only,
-- and the status read as a code (trimmed, lower-cased): `Confirmed` is a confirmed line.
with source as (
    {{ delivered_rows('erp_orders') }}
),

ranked as (
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
        row_number() over (partition by order_id, line_no order by _load_seq desc, _source_row desc) as delivery_rank
    from source
),

final as (
    select * from ranked
    where delivery_rank = 1
)

select * from final
