-- Latest delivery wins: extracts are re-delivered whole or in part, so each erp_products key keeps
-- the row of the newest file (and the last row within it); deliveries whose every key came again
-- later are not read (macro delivered_rows). Otherwise: names and types only.
with source as (
    {{ delivered_rows('erp_products') }}
),

ranked as (
    select
        product_id,
        product_name,
        product_category,
        is_active,
        _source_file as source_file,
        _source_row as source_row,
        _load_seq as load_seq,
        row_number() over (partition by product_id order by _load_seq desc, _source_row desc) as delivery_rank
    from source
),

final as (
    select * from ranked
    where delivery_rank = 1
)

select * from final
