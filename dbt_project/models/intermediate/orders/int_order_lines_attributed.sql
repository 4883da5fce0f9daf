-- Confirmed order lines, attributed to golden customers, with the tax-exclusive revenue and the
-- spend amount on the configured basis, after the outlier rules: a line whose applied action is
-- `exclude` is left out (it is listed in int_order_lines_outliers_flagged), a `cap` replaces its
-- amount by the rule's limit. Cancelled and draft lines are not sales and are left out here
-- (they stay in staging for audit).
with order_lines as (
    select * from {{ ref('stg_erp__order_lines') }}
),

products as (
    select * from {{ ref('stg_erp__products') }}
),

matched as (
    select * from {{ ref('int_customers_matched') }}
    where source_system = 'erp'
),

settings as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

outlier_actions as (
    select * from {{ ref('int_order_lines_outliers_flagged') }}
    where is_applied
),

confirmed as (
    select
        order_lines.*,
        outlier_actions.action as outlier_action,
        outlier_actions.rule as outlier_rule,
        case
            when outlier_actions.action = 'cap' then outlier_actions.corrected_value
            else order_lines.amount_incl_tax
        end as cleaned_amount_incl_tax
    from order_lines
    left join outlier_actions
        on
            order_lines.order_id = outlier_actions.order_id
            and order_lines.line_no = outlier_actions.line_no
    where
        order_lines.order_status = 'confirmed'
        and (outlier_actions.action is null or outlier_actions.action <> 'exclude')
),

priced as (
    select
        confirmed.order_id,
        confirmed.line_no,
        confirmed.erp_customer_id,
        matched.customer_id,
        confirmed.order_date,
        confirmed.product_id,
        products.product_category,
        confirmed.cleaned_amount_incl_tax as amount_incl_tax,
        cast(round(confirmed.cleaned_amount_incl_tax / (1 + confirmed.tax_rate), 2) as decimal(18, 2)) as revenue_excl_tax,
        confirmed.cost_excl_tax,
        confirmed.outlier_action is not null as is_outlier_affected,
        confirmed.outlier_rule
    from confirmed
    left join matched
        on confirmed.erp_customer_id = matched.source_customer_id
    left join products
        on confirmed.product_id = products.product_id
),

final as (
    select
        priced.*,
        case
            when settings.amount_basis = 'incl_tax' then priced.amount_incl_tax
            else priced.revenue_excl_tax
        end as spend_amount,
        priced.order_date between settings.period_start and settings.period_end as is_in_spend_period
    from priced
    cross join settings
)

select * from final
