with source as (
    select * from {{ source('ingest', '_quarantine') }}
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
        raw_record
    from source
)

select * from final
