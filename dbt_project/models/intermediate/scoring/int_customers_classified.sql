-- The classifications users expect beside the tier (docs/method.md), per golden customer:
--   abc_class   Pareto on spend in the spend period: customers sorted by spend (largest first,
--               then customer_id); A while the spend of the customers before it is below the
--               A cut-off share of all spend, B while below the B cut-off, C after (and C
--               for no spend);
--   rfm_r/f/m   quintile scores 1-5 (5 best): R on days since the last confirmed order (fewer
--               is better; never ordered is worst), F on confirmed orders in the spend period,
--               M on spend in the spend period; ties broken by customer_id so runs repeat;
--   rfm_segment the Chinese 8-class model: R, F and M each high or low against the average of
--               the customers who ever ordered (R high = fewer days than the average; F, M high
--               = above the average);
--   value_potential_class  S high value high potential, A high value low potential, B low
--               value high potential, C low value low potential, against the thresholds in
--               rubric_settings; empty when either score is missing (pending, or a preset
--               without those dimensions).
with measures as (
    select * from {{ ref('int_customer_measures_collected') }}
),

tiered as (
    select * from {{ ref('int_customers_tiered') }}
),

settings as (
    select * from {{ ref('rubric_settings') }}
),

thresholds as (
    select
        cast(max(case when setting = 'abc_a_cutoff_pct' then setting_value end) as decimal(9, 4)) as abc_a_cutoff_pct,
        cast(max(case when setting = 'abc_b_cutoff_pct' then setting_value end) as decimal(9, 4)) as abc_b_cutoff_pct,
        cast(max(case when setting = 'value_potential_value_threshold' then setting_value end) as decimal(9, 4))
            as value_threshold,
        cast(max(case when setting = 'value_potential_potential_threshold' then setting_value end) as decimal(9, 4))
            as potential_threshold
    from settings
),

recency as (
    select
        customer_id,
        period_spend_cny,
        period_order_count,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} as recency_days
    from measures
),

spend_ranked as (
    select
        customer_id,
        period_spend_cny,
        sum(period_spend_cny) over (
            order by period_spend_cny desc, customer_id
            rows between unbounded preceding and current row
        ) - period_spend_cny as spend_before_cny,
        sum(period_spend_cny) over () as total_spend_cny
    from recency
),

abc as (
    select
        spend_ranked.customer_id,
        {{ divide('100 * (spend_ranked.spend_before_cny + spend_ranked.period_spend_cny)', 'spend_ranked.total_spend_cny') }}
            as cumulative_spend_share_pct,
        case
            when spend_ranked.period_spend_cny <= 0 then 'C'
            when 100 * spend_ranked.spend_before_cny < thresholds.abc_a_cutoff_pct * spend_ranked.total_spend_cny then 'A'
            when 100 * spend_ranked.spend_before_cny < thresholds.abc_b_cutoff_pct * spend_ranked.total_spend_cny then 'B'
            else 'C'
        end as abc_class
    from spend_ranked
    cross join thresholds
),

averages as (
    select
        avg(recency_days) as avg_recency_days,
        avg(period_order_count) as avg_order_count,
        avg(period_spend_cny) as avg_spend_cny
    from recency
    where recency_days is not null
),

rfm as (
    select
        recency.customer_id,
        recency.recency_days,
        ntile(5) over (order by recency.recency_days desc nulls first, recency.customer_id) as rfm_r,
        ntile(5) over (order by recency.period_order_count, recency.customer_id) as rfm_f,
        ntile(5) over (order by recency.period_spend_cny, recency.customer_id) as rfm_m,
        coalesce(recency.recency_days < averages.avg_recency_days, false) as is_r_high,
        recency.period_order_count > averages.avg_order_count as is_f_high,
        recency.period_spend_cny > averages.avg_spend_cny as is_m_high
    from recency
    cross join averages
),

final as (
    select
        tiered.customer_id,
        abc.abc_class,
        abc.cumulative_spend_share_pct,
        rfm.recency_days,
        rfm.rfm_r,
        rfm.rfm_f,
        rfm.rfm_m,
        case
            when rfm.is_m_high and rfm.is_r_high and rfm.is_f_high then '重要价值客户'
            when rfm.is_m_high and rfm.is_r_high then '重要发展客户'
            when rfm.is_m_high and rfm.is_f_high then '重要保持客户'
            when rfm.is_m_high then '重要挽留客户'
            when rfm.is_r_high and rfm.is_f_high then '一般价值客户'
            when rfm.is_r_high then '一般发展客户'
            when rfm.is_f_high then '一般保持客户'
            else '一般挽留客户'
        end as rfm_segment,
        case
            when tiered.value_score is null or tiered.potential_score is null then null
            when tiered.value_score >= thresholds.value_threshold and tiered.potential_score >= thresholds.potential_threshold then 'S'
            when tiered.value_score >= thresholds.value_threshold then 'A'
            when tiered.potential_score >= thresholds.potential_threshold then 'B'
            else 'C'
        end as value_potential_class
    from tiered
    inner join abc
        on tiered.customer_id = abc.customer_id
    inner join rfm
        on tiered.customer_id = rfm.customer_id
    cross join thresholds
)

select * from final
