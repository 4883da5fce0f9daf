-- Latest delivery wins: extracts are re-delivered whole or in part, so each erp_receivables key keeps
-- the row of the newest file (and the last row within it); deliveries whose every key came again
-- later are not read (macro delivered_rows). Otherwise: names and types only.
with source as (
    {{ delivered_rows('erp_receivables') }}
),

ranked as (
    select
        invoice_id,
        erp_customer_id,
        invoice_date,
        due_date,
        amount as invoice_amount,
        paid_date,
        _source_file as source_file,
        _source_row as source_row,
        _load_seq as load_seq,
        row_number() over (partition by invoice_id order by _load_seq desc, _source_row desc) as delivery_rank
    from source
),

final as (
    select * from ranked
    where delivery_rank = 1
)

select * from final
