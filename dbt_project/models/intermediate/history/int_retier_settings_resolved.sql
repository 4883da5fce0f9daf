-- The re-tier cycle and trigger thresholds of this run, from the retier_settings seed: one row.
with settings as (
    select * from {{ ref('retier_settings') }}
),

final as (
    select
        max(case when setting = 'retier_cycle' then setting_value end) as retier_cycle,
        cast(max(case when setting = 'spend_change_trigger_pct' then setting_value end) as decimal(9, 4))
            as spend_change_trigger_pct,
        cast(max(case when setting = 'inactivity_trigger_months' then setting_value end) as integer) as inactivity_trigger_months,
        cast(max(case when setting = 'churn_spend_drop_pct' then setting_value end) as decimal(9, 4)) as churn_spend_drop_pct,
        cast(max(case when setting = 'churn_complaint_window_days' then setting_value end) as integer)
            as churn_complaint_window_days
    from settings
)

select * from final
