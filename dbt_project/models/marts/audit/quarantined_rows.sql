-- Every row that did not parse, with its file, row number and reason; phone numbers and emails in
-- the raw record are masked (138****1234, z***@example.com).
with quarantined as (
    select * from {{ ref('stg_ingest__quarantined_rows') }}
),

final as (
    select
        entity,
        source_file,
        source_row,
        file_checksum,
        batch_id,
        loaded_at,
        reason,
        {{ mask_contacts('raw_record') }} as raw_record_masked
    from quarantined
)

select * from final
