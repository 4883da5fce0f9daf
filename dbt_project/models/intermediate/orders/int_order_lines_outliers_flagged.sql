-- Every confirmed order line that an outlier rule (seed cleaning_outlier_rules) hits, one row per
-- line and rule, with the action the rule prescribes and whether that action is the one applied
-- to the line (when several rules hit a line, exclude beats cap beats flag, then sort_order).
-- Robust ranges use the median and the median absolute deviation (MAD), never the mean, so
-- that the outliers themselves do not widen the range.
with order_lines as (
    select * from {{ ref('int_order_lines_priced') }}
),

rules as (
    select * from {{ ref('cleaning_outlier_rules') }}
),

settings as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

priced as (
    select
        order_lines.order_id,
        order_lines.line_no,
        order_lines.erp_customer_id,
        order_lines.order_date,
        order_lines.product_category,
        order_lines.amount_incl_tax,
        order_lines.tax_rate,
        order_lines.cost_excl_tax,
        order_lines.revenue_excl_tax,
        case
            when order_lines.amount_incl_tax > 0 and order_lines.cost_excl_tax > 0
                then
                    ln(
                        cast({{ tax_exclusive('order_lines.amount_incl_tax', 'order_lines.tax_rate') }} as double)
                        / cast(order_lines.cost_excl_tax as double)
                    )
        end as log_markup,
        case
            when order_lines.amount_incl_tax > 0
                then ln(cast({{ tax_exclusive('order_lines.amount_incl_tax', 'order_lines.tax_rate') }} as double))
        end as log_revenue
    from order_lines
),

customer_markups as (
    select
        erp_customer_id,
        {{ median('log_markup') }} as median_log_markup,
        count(*) as markup_lines
    from priced
    where log_markup is not null
    group by erp_customer_id
),

category_markups as (
    select
        product_category,
        {{ median('log_markup') }} as median_log_markup,
        count(*) as markup_lines
    from priced
    where log_markup is not null
    group by product_category
),

category_medians as (
    select
        product_category,
        {{ median('log_revenue') }} as median_log_revenue,
        count(*) as category_lines
    from priced
    where log_revenue is not null
    group by product_category
),

category_ranges as (
    select
        priced.product_category,
        category_medians.median_log_revenue,
        category_medians.category_lines,
        1.4826 * {{ median('abs(priced.log_revenue - category_medians.median_log_revenue)') }} as robust_sd_log_revenue
    from priced
    inner join category_medians
        on priced.product_category = category_medians.product_category
    group by priced.product_category, category_medians.median_log_revenue, category_medians.category_lines
),

measured_raw as (
    select
        priced.*,
        customer_markups.median_log_markup as customer_median_log_markup,
        customer_markups.markup_lines as customer_markup_lines,
        category_markups.median_log_markup as category_median_log_markup,
        category_markups.markup_lines as category_markup_lines,
        category_ranges.median_log_revenue,
        category_ranges.category_lines,
        category_ranges.robust_sd_log_revenue
    from priced
    left join customer_markups
        on priced.erp_customer_id = customer_markups.erp_customer_id
    left join category_markups
        on priced.product_category = category_markups.product_category
    left join category_ranges
        on priced.product_category = category_ranges.product_category
),

-- The markup a line is compared with: its customer's median, or its product category's when the
-- customer has too few lines for a median to mean anything.
extra_zero_rule as (
    select * from rules
    where rule = 'amount_extra_zero'
),

measured as (
    select
        measured_raw.*,
        case
            when measured_raw.customer_markup_lines >= coalesce(extra_zero_rule.min_group_lines, 1)
                then measured_raw.customer_median_log_markup
            when measured_raw.category_markup_lines >= coalesce(extra_zero_rule.min_group_lines, 1)
                then measured_raw.category_median_log_markup
        end as median_log_markup,
        case
            when measured_raw.customer_markup_lines >= coalesce(extra_zero_rule.min_group_lines, 1) then 'customer'
            else 'category'
        end as markup_reference
    from measured_raw
    left join extra_zero_rule
        on 1 = 1
),

-- Each rule's threshold, one row; a rule absent from the seed tests nothing.
rule_thresholds as (
    select
        max(case when rule = 'non_positive_amount' then 1 else 0 end) = 1 as has_non_positive_amount,
        max(case when rule = 'amount_extra_zero' then threshold end) as extra_zero_threshold,
        max(case when rule = 'order_date_in_future' then 1 else 0 end) = 1 as has_order_date_in_future,
        max(case when rule = 'cost_far_above_revenue' then threshold end) as cost_threshold,
        max(case when rule = 'amount_far_above_category_range' then threshold end) as range_threshold,
        max(case when rule = 'amount_far_above_category_range' then min_group_lines end) as range_min_group_lines
    from rules
),

-- One pass over the lines tests every rule; only the few lines that break one go on.
candidates as (
    select measured.*
    from measured
    cross join rule_thresholds
    cross join settings
    where
        (rule_thresholds.has_non_positive_amount and measured.amount_incl_tax <= 0)
        or measured.log_markup - measured.median_log_markup >= ln(cast(rule_thresholds.extra_zero_threshold as double))
        or (rule_thresholds.has_order_date_in_future and measured.order_date > settings.as_of_date)
        or (
            measured.cost_excl_tax > rule_thresholds.cost_threshold * measured.revenue_excl_tax
            and measured.revenue_excl_tax > 0
        )
        or (
            measured.robust_sd_log_revenue > 0
            and measured.category_lines >= coalesce(rule_thresholds.range_min_group_lines, 1)
            and measured.log_revenue
            > measured.median_log_revenue + cast(rule_thresholds.range_threshold as double) * measured.robust_sd_log_revenue
        )
),

hits as (
    select
        measured.*,
        rules.rule,
        rules.reason_code,
        rules.action,
        rules.sort_order,
        cast(null as double) as limit_revenue,
        'amount_incl_tax ' || cast(measured.amount_incl_tax as {{ dbt.type_string() }}) || ' is not positive' as detail
    from candidates as measured
    inner join rules on rules.rule = 'non_positive_amount'
    where measured.amount_incl_tax <= 0

    union all

    select
        measured.*,
        rules.rule,
        rules.reason_code,
        rules.action,
        rules.sort_order,
        cast(measured.cost_excl_tax as double) * exp(measured.median_log_markup) as limit_revenue,
        'revenue / cost ' || cast(round(exp(measured.log_markup), 2) as {{ dbt.type_string() }})
        || ' vs the ' || measured.markup_reference || '''s median '
        || cast(round(exp(measured.median_log_markup), 2) as {{ dbt.type_string() }}) as detail
    from candidates as measured
    inner join rules on rules.rule = 'amount_extra_zero'
    where measured.log_markup - measured.median_log_markup >= ln(cast(rules.threshold as double))

    union all

    select
        measured.*,
        rules.rule,
        rules.reason_code,
        rules.action,
        rules.sort_order,
        cast(null as double) as limit_revenue,
        'order_date ' || cast(measured.order_date as {{ dbt.type_string() }}) || ' is after the as-of date' as detail
    from candidates as measured
    inner join rules on rules.rule = 'order_date_in_future'
    cross join settings
    where measured.order_date > settings.as_of_date

    union all

    select
        measured.*,
        rules.rule,
        rules.reason_code,
        rules.action,
        rules.sort_order,
        cast(null as double) as limit_revenue,
        'cost ' || cast(measured.cost_excl_tax as {{ dbt.type_string() }}) || ' vs revenue '
        || cast(measured.revenue_excl_tax as {{ dbt.type_string() }}) as detail
    from candidates as measured
    inner join rules on rules.rule = 'cost_far_above_revenue'
    where
        measured.cost_excl_tax > rules.threshold * measured.revenue_excl_tax
        and measured.revenue_excl_tax > 0

    union all

    select
        measured.*,
        rules.rule,
        rules.reason_code,
        rules.action,
        rules.sort_order,
        exp(measured.median_log_revenue + cast(rules.threshold as double) * measured.robust_sd_log_revenue) as limit_revenue,
        'revenue ' || cast(measured.revenue_excl_tax as {{ dbt.type_string() }}) || ' above the '
        || coalesce(measured.product_category, '?') || ' limit' as detail
    from candidates as measured
    inner join rules on rules.rule = 'amount_far_above_category_range'
    where
        measured.robust_sd_log_revenue > 0
        and measured.category_lines >= coalesce(rules.min_group_lines, 1)
        and measured.log_revenue > measured.median_log_revenue + cast(rules.threshold as double) * measured.robust_sd_log_revenue
),

ranked as (
    select
        hits.*,
        row_number() over (
            partition by hits.order_id, hits.line_no
            order by case hits.action when 'exclude' then 1 when 'cap' then 2 else 3 end, hits.sort_order
        ) as action_rank
    from hits
),

final as (
    select
        ranked.order_id,
        ranked.line_no,
        ranked.erp_customer_id,
        ranked.order_date,
        ranked.product_category,
        ranked.rule,
        ranked.reason_code,
        ranked.action,
        ranked.action_rank = 1 and ranked.action <> 'flag' as is_applied,
        'amount_incl_tax' as value_column,
        ranked.amount_incl_tax as original_value,
        case
            when ranked.action = 'exclude' then null
            when ranked.action = 'cap' and ranked.limit_revenue is not null
                then cast(round(ranked.limit_revenue * (1 + ranked.tax_rate), 2) as decimal(18, 2))
            else ranked.amount_incl_tax
        end as corrected_value,
        ranked.tax_rate,
        ranked.detail
    from ranked
)

select * from final
