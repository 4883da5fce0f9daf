-- Confirmed order lines attributed to golden customers, after the outlier rules: a line whose
-- applied action is `exclude` is left out (it is listed in int_order_lines_outliers_flagged), a
-- `cap` replaces its amount by the rule's limit and reprices it. A view over
-- int_order_lines_priced: its readers each aggregate it once.
with order_lines as (
    select * from {{ ref('int_order_lines_priced') }}
),

outlier_actions as (
    select * from {{ ref('int_order_lines_outliers_flagged') }}
    where is_applied
),

settings as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

cleaned as (
    select
        order_lines.*,
        outlier_actions.action as outlier_action,
        outlier_actions.rule as outlier_rule,
        outlier_actions.corrected_value
    from order_lines
    left join outlier_actions
        on
            order_lines.order_id = outlier_actions.order_id
            and order_lines.line_no = outlier_actions.line_no
    where outlier_actions.action is null or outlier_actions.action <> 'exclude'
),

repriced as (
    select
        cleaned.order_id,
        cleaned.line_no,
        cleaned.erp_customer_id,
        cleaned.customer_id,
        cleaned.order_date,
        cleaned.product_category,
        case when cleaned.outlier_action = 'cap' then cleaned.corrected_value else cleaned.amount_incl_tax end
            as amount_incl_tax,
        case
            when cleaned.outlier_action = 'cap'
                then {{ tax_exclusive_cny('cleaned.corrected_value', 'cleaned.tax_rate') }}
            else cleaned.revenue_excl_tax
        end as revenue_excl_tax,
        cleaned.cost_excl_tax,
        cleaned.spend_amount as priced_spend_amount,
        cleaned.outlier_action is not null as is_outlier_affected,
        cleaned.outlier_action,
        cleaned.outlier_rule,
        cleaned.is_in_spend_period
    from cleaned
),

final as (
    select
        repriced.order_id,
        repriced.line_no,
        repriced.erp_customer_id,
        repriced.customer_id,
        repriced.order_date,
        repriced.product_category,
        repriced.amount_incl_tax,
        repriced.revenue_excl_tax,
        repriced.cost_excl_tax,
        repriced.is_outlier_affected,
        repriced.outlier_rule,
        case
            when repriced.outlier_action <> 'cap' or repriced.outlier_action is null then repriced.priced_spend_amount
            when settings.amount_basis = 'incl_tax' then repriced.amount_incl_tax
            else repriced.revenue_excl_tax
        end as spend_amount,
        repriced.is_in_spend_period
    from repriced
    cross join settings
)

select * from final
