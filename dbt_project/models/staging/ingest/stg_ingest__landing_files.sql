with source as (
    select * from {{ source('ingest', '_landing_files') }}
),

final as (
    select
        run_id,
        as_of_date,
        checked_at,
        file_name,
        entity,
        status,
        reason,
        size_bytes,
        file_checksum,
        rows_read,
        rows_loaded,
        rows_quarantined
    from source
)

select * from final
