-- Confirmed order lines (the latest delivery of each key), each priced once: golden customer,
-- product category, amounts in CNY (a line in another currency converted at the rate of its
-- order date, seed currency_rates; ingest has quarantined any line without one), tax-exclusive
-- revenue, spend on the configured basis and whether the line is in the spend period. Every
-- later step over order lines (outlier rules, attribution, aggregation, reconciliation) starts
-- here, so the lines are read and deduplicated once.
-- Cancelled and draft lines are not sales and stay in staging for audit.
with order_lines as (
    select * from {{ ref('stg_erp__order_lines') }}
    where order_status = 'confirmed'
),

products as (
    select * from {{ ref('stg_erp__products') }}
),

settings as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

rates as (
    select * from {{ ref('currency_rates') }}
),

converted as (
    select
        order_lines.*,
        rates.cny_per_unit,
        -- A CNY line (no rate) keeps its amount: no decimal multiplication for most lines.
        case
            when rates.cny_per_unit is null then cast(order_lines.amount_incl_tax as decimal(18, 2))
            else cast(round(order_lines.amount_incl_tax * rates.cny_per_unit, 2) as decimal(18, 2))
        end as amount_incl_tax_cny,
        case
            when rates.cny_per_unit is null then cast(order_lines.cost_excl_tax as decimal(18, 2))
            else cast(round(order_lines.cost_excl_tax * rates.cny_per_unit, 2) as decimal(18, 2))
        end as cost_excl_tax_cny
    from order_lines
    left join rates
        on
            upper(order_lines.currency) = rates.currency
            and order_lines.order_date between rates.valid_from and rates.valid_to
),

priced as (
    select
        order_lines.order_id,
        order_lines.line_no,
        order_lines.erp_customer_id,
        matched.customer_id,
        order_lines.order_date,
        products.product_category,
        order_lines.amount_incl_tax_cny as amount_incl_tax,
        order_lines.tax_rate,
        order_lines.cost_excl_tax_cny as cost_excl_tax,
        {{ tax_exclusive_cny('order_lines.amount_incl_tax_cny', 'order_lines.tax_rate') }}
            as revenue_excl_tax,
        order_lines.currency,
        order_lines.cny_per_unit
    from converted as order_lines
    {{ join_golden_customer('order_lines.erp_customer_id', 'erp', alias='matched', kind='left') }}
    left join products
        on order_lines.product_id = products.product_id
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
