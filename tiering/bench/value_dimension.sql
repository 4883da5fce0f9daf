-- The value dimension (客户价值) of the default rubric per CRM customer, straight from the
-- extract files in one statement, as an analyst would write it: a baseline for the benchmark,
-- not part of the pipeline. It skips what the pipeline adds (dedup, outlier rules, quality
-- checks, history) and hard-codes the bands and weights.
--   annual spend  Σ tax-exclusive revenue of confirmed lines, 12 months to the as-of date, 10k CNY
--   margin        (revenue − cost) / revenue of the same lines, %
--   cooperation   whole months from the CRM first deal (else ERP created_at, else first order) / 12
--   cross-purchase distinct categories bought in the period / categories with an active product, %
-- Parameters: $landing (a glob prefix of the landing folder) and $as_of.
with orders as (
    select
        erp_customer_id,
        try_cast(order_date as date) as order_date,
        product_id,
        try_cast(amount_incl_tax as decimal(18, 2)) as amount_incl_tax,
        try_cast(tax_rate as decimal(6, 4)) as tax_rate,
        try_cast(cost_excl_tax as decimal(18, 2)) as cost_excl_tax
    from read_csv($landing || 'erp_orders*.csv', header = true, all_varchar = true)
    where status = 'confirmed'
),
lines as (
    select
        orders.*,
        round(amount_incl_tax / (1 + tax_rate), 2) as revenue,
        order_date between cast($as_of as date) - interval 12 month + interval 1 day and cast($as_of as date)
            as in_period
    from orders
    where order_date is not null and amount_incl_tax is not null and tax_rate is not null
),
products as (
    select product_id, product_category, is_active = 'true' as is_active
    from read_csv($landing || 'erp_products*.csv', header = true, all_varchar = true)
),
crm as (
    select crm_customer_id, credit_code, try_cast(first_deal_date as date) as first_deal_date
    from read_csv($landing || 'crm_customers*.csv', header = true, all_varchar = true)
),
erp as (
    select erp_customer_id, credit_code, cast(try_cast(created_at as timestamp) as date) as created_date
    from read_csv($landing || 'erp_customers*.csv', header = true, all_varchar = true)
),
per_erp as (
    select
        lines.erp_customer_id,
        sum(case when in_period then revenue end) as spend,
        sum(case when in_period then cost_excl_tax end) as cost,
        count(distinct case when in_period then products.product_category end) as categories,
        min(order_date) as first_order_date
    from lines
    left join products on lines.product_id = products.product_id
    group by lines.erp_customer_id
),
measured as (
    select
        crm.crm_customer_id,
        coalesce(per_erp.spend, 0) / 10000 as spend_10k,
        100 * (per_erp.spend - per_erp.cost) / nullif(per_erp.spend, 0) as margin_pct,
        coalesce(crm.first_deal_date, erp.created_date, per_erp.first_order_date) as start_date,
        100 * coalesce(per_erp.categories, 0)
        / (select count(distinct product_category) from products where is_active) as cross_purchase_pct
    from crm
    left join erp on crm.credit_code = erp.credit_code
    left join per_erp on erp.erp_customer_id = per_erp.erp_customer_id
),
with_years as (
    select
        *,
        (
            (year(cast($as_of as date)) - year(start_date)) * 12 + month(cast($as_of as date)) - month(start_date)
            - case when day(cast($as_of as date)) < day(start_date) then 1 else 0 end
        ) / 12 as cooperation_years
    from measured
)
select
    crm_customer_id,
    case when spend_10k >= 1000 then 100 when spend_10k >= 500 then 80 when spend_10k >= 100 then 60 else 40 end * 0.40
    + case
        when margin_pct >= 18 then 100 when margin_pct >= 15 then 90 when margin_pct >= 10 then 75
        when margin_pct >= 5 then 60 else 40
    end * 0.25
    + case when cooperation_years >= 5 then 100 when cooperation_years >= 3 then 80 when cooperation_years >= 1 then 60 else 40 end
    * 0.20
    + case
        when cross_purchase_pct >= 35 then 100 when cross_purchase_pct >= 20 then 80 when cross_purchase_pct >= 10 then 60
        else 40
    end * 0.15 as value_score
from with_years
where start_date is not null
