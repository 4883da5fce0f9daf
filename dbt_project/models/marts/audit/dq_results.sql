-- Validation history for auditors: every Great Expectations result of every run, as appended by
-- the ingest assets (never overwritten). Sample values were masked before they were stored.
-- Why an expectation could not be evaluated (message) stays in raw._dq_results and the run log.
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
        unexpected_sample
    from dq_results
)

select * from final
