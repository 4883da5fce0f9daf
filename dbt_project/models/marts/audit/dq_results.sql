-- Validation history for auditors: every Great Expectations result of every run, as appended by
-- the ingest assets (never overwritten). Sample values were masked before they were stored.
with dq_results as (
    select * from {{ ref('stg_ingest__dq_results') }}
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
    from dq_results
)

select * from final
