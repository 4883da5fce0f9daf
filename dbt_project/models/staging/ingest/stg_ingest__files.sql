with source as (
    select * from {{ source('ingest', '_ingested_files') }}
),

final as (
    select
        entity,
        source_file,
        file_checksum,
        batch_id,
        load_seq,
        loaded_at,
        rows_read,
        rows_loaded,
        rows_quarantined
    from source
)

select * from final
