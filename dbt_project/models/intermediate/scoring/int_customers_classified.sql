-- The classifications users expect beside the tier (docs/method.md), per golden customer. Equal values always get
-- equal classes: no class depends on customer_id or on the order rows happen to come in.
--   abc_class   Pareto on spend in the spend period: A while the customers with a higher spend
--               (strictly higher: customers with an equal spend do not count against each
--               other) make less than the A cut-off share of all spend, B while less than the B
--               cut-off, C after (and C for no spend);
--   rfm_r/f/m   quintile scores 1-5 (5 best) from each customer's percentile rank: the share of
--               customers with a worse value (strictly worse, so ties share it); quintile =
--               1 + the number of the bounds 20/40/60/80 % that share reaches. R on days since
--               the last confirmed order (fewer is better; never ordered is worst, and every
--               never-ordered customer shares R), F on confirmed orders in the spend period, M on
--               spend in the spend period;
--   rfm_segment the Chinese 8-class model: R, F and M each high or low against the average of
--               the customers who ever ordered (R high = fewer days than the average; F, M high
--               = above the average);
--   value_potential_class  S high value high potential, A high value low potential, B low
--               value high potential, C low value low potential: each axis against its own
--               threshold in rubric_settings (value_score >= 75, potential_score >= 60); empty
--               when either score is missing (pending, or a preset without those dimensions);
--   value_potential_score  value_score x value weight + potential_score x potential weight
--               (60 % / 40 % in rubric_settings): one figure that ranks customers across and
--               within the classes; the class does not depend on it. Empty when either is.
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
            as potential_threshold,
        cast(max(case when setting = 'value_potential_value_weight_pct' then setting_value end) as decimal(9, 4))
            as value_weight_pct,
        cast(max(case when setting = 'value_potential_potential_weight_pct' then setting_value end) as decimal(9, 4))
            as potential_weight_pct
    from settings
),

recency as (
    select
        customer_id,
        period_spend_cny,
        period_order_count,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }}
            as recency_days
    from measures
),

spend_ranked as (
    select
        customer_id,
        period_spend_cny,
        -- the spend of every customer spending at least as much as this one (ties included)
        sum(period_spend_cny) over (
            order by period_spend_cny desc
            range between unbounded preceding and current row
        ) as spend_at_or_above_cny,
        sum(period_spend_cny) over (partition by period_spend_cny) as tied_spend_cny,
        sum(period_spend_cny) over () as total_spend_cny
    from recency
),

abc as (
    select
        spend_ranked.customer_id,
        {{ divide('100 * spend_ranked.spend_at_or_above_cny', 'spend_ranked.total_spend_cny') }}
            as cumulative_spend_share_pct,
        case
            when spend_ranked.period_spend_cny <= 0 then 'C'
            when 100 * (spend_ranked.spend_at_or_above_cny - spend_ranked.tied_spend_cny)
                < thresholds.abc_a_cutoff_pct * spend_ranked.total_spend_cny then 'A'
            when 100 * (spend_ranked.spend_at_or_above_cny - spend_ranked.tied_spend_cny)
                < thresholds.abc_b_cutoff_pct * spend_ranked.total_spend_cny then 'B'
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

-- rank() - 1 over the customers ordered worst first = the customers with a strictly worse value.
rfm_ranked as (
    select
        recency.*,
        rank() over (order by recency.recency_days desc nulls first) - 1 as r_worse_count,
        rank() over (order by recency.period_order_count asc) - 1 as f_worse_count,
        rank() over (order by recency.period_spend_cny asc) - 1 as m_worse_count,
        count(*) over () as customer_count
    from recency
),

rfm as (
    select
        rfm_ranked.customer_id,
        rfm_ranked.recency_days,
        {%- for measure in ['r', 'f', 'm'] %}
            -- 1 + the quintile bounds (20, 40, 60, 80 %) that the share of worse customers reaches
            1{% for bound in range(1, 5) %}
                + case when 5 * rfm_ranked.{{ measure }}_worse_count >= {{ bound }} * rfm_ranked.customer_count then 1 else 0 end
            {%- endfor %} as rfm_{{ measure }},
        {%- endfor %}
        coalesce(rfm_ranked.recency_days < averages.avg_recency_days, false) as is_r_high,
        rfm_ranked.period_order_count > averages.avg_order_count as is_f_high,
        rfm_ranked.period_spend_cny > averages.avg_spend_cny as is_m_high
    from rfm_ranked
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
            when
                tiered.value_score >= thresholds.value_threshold
                and tiered.potential_score >= thresholds.potential_threshold
                then 'S'
            when tiered.value_score >= thresholds.value_threshold then 'A'
            when tiered.potential_score >= thresholds.potential_threshold then 'B'
            else 'C'
        end as value_potential_class,
        cast(
            tiered.value_score * thresholds.value_weight_pct * 0.01
            + tiered.potential_score * thresholds.potential_weight_pct * 0.01
            as decimal(9, 4)
        ) as value_potential_score
    from tiered
    inner join abc
        on tiered.customer_id = abc.customer_id
    inner join rfm
        on tiered.customer_id = rfm.customer_id
    cross join thresholds
)

select * from final
