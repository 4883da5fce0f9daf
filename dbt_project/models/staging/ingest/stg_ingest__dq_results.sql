with source as (
    select * from {{ source('ingest', '_dq_results') }}
),

final as (
    select
        run_id,
        as_of_date,
        suite,
        expectation,
        {{ adapter.quote('column') }},
        severity,
        success,
        element_count,
        unexpected_count,
        unexpected_percent,
        unexpected_sample,
        message,
        validated_at
    from source
)

select * from final
