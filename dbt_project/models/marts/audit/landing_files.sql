-- Every entry of the landing folder at every run, and what the run did with it: loaded,
-- skipped (the same content was loaded before, or was withdrawn) or not loaded, with the reason
-- (unknown entity, unsupported format, not a file, unreadable). Nothing lands unaccounted for.
with landing_files as (
    select * from {{ ref('stg_ingest__landing_files') }}
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
    from landing_files
)

select * from final
