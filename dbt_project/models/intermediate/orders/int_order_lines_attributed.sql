-- Confirmed order lines up to the as-of date, attributed to golden customers, with the
-- tax-exclusive revenue and the spend amount on the configured basis. Cancelled and draft
-- lines are not sales and are left out here (they stay in staging for audit).
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

confirmed as (
    select *
    from order_lines
    where order_status = 'confirmed'
        and order_date <= {{ as_of_date() }}
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
        confirmed.amount_incl_tax,
        cast(round(confirmed.amount_incl_tax / (1 + confirmed.tax_rate), 2) as decimal(18, 2)) as revenue_excl_tax,
        confirmed.cost_excl_tax
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
