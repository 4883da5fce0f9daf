{{ config(
    materialized=as_of_date_materialization(), incremental_strategy=as_of_date_strategy(), partition_by=as_of_date_partitions(),
    unique_key='as_of_date'
) }}
-- The run's books must balance; a dbt test on is_balanced stops the run before publishing when one
-- does not. Three kinds of check:
--   file_rows: per landed file, rows read (ledger) = rows found in the raw table + rows quarantined;
--   customer_records: source customer records = golden customers + merged records;
--   confirmed_spend / confirmed_spend_in_period: spend of confirmed lines = spend attributed to
--     golden customers + spend on unknown ERP customers + spend excluded or capped away as
--     outliers, to the cent (amounts on the configured basis).
with files as (
    select * from {{ ref('stg_ingest__files') }}
),

landed_rows as (
    select * from {{ ref('stg_ingest__landed_rows') }}
),

quarantined as (
    select * from {{ ref('stg_ingest__quarantined_rows') }}
),

matched as (
    select * from {{ ref('int_customers_matched') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_priced') }}
),

attributed as (
    select * from {{ ref('int_order_lines_attributed') }}
),

outliers as (
    select * from {{ ref('int_order_lines_outliers_flagged') }}
    where is_applied
),

settings as (
    select * from {{ ref('int_scoring_periods_resolved') }}
),

quarantine_counts as (
    select
        file_checksum,
        entity,
        count(*) as rows_quarantined
    from quarantined
    group by file_checksum, entity
),

file_checks as (
    select
        'file_rows' as check_name,
        files.source_file as subject,
        'rows read' as expected_label,
        cast(files.rows_read as decimal(20, 2)) as expected_value,
        'rows loaded + rows quarantined' as actual_label,
        cast(coalesce(landed_rows.rows_landed, 0) + coalesce(quarantine_counts.rows_quarantined, 0) as decimal(20, 2))
            as actual_value,
        files.entity || ', sha256 ' || files.file_checksum
        || ', loaded ' || cast(coalesce(landed_rows.rows_landed, 0) as {{ dbt.type_string() }})
        || ', quarantined ' || cast(coalesce(quarantine_counts.rows_quarantined, 0) as {{ dbt.type_string() }}) as detail
    from files
    left join landed_rows
        on
            files.file_checksum = landed_rows.file_checksum
            and files.entity = landed_rows.entity
    left join quarantine_counts
        on
            files.file_checksum = quarantine_counts.file_checksum
            and files.entity = quarantine_counts.entity
),

customer_checks as (
    select
        'customer_records' as check_name,
        'crm and erp customer records' as subject,
        'source records' as expected_label,
        cast(count(*) as decimal(20, 2)) as expected_value,
        'golden customers + merged records' as actual_label,
        cast(count(distinct customer_id) + sum(case when is_merged then 1 else 0 end) as decimal(20, 2)) as actual_value,
        'merged by credit_code '
        || cast(sum(case when is_merged and match_rule = 'credit_code' then 1 else 0 end) as {{ dbt.type_string() }})
        || ', by name ' || cast(sum(case when is_merged and match_rule = 'name' then 1 else 0 end) as {{ dbt.type_string() }})
        || ', by phone '
        || cast(sum(case when is_merged and match_rule = 'phone' then 1 else 0 end) as {{ dbt.type_string() }}) as detail
    from matched
),

line_spend as (
    select
        order_lines.order_id,
        order_lines.line_no,
        order_lines.is_in_spend_period,
        order_lines.spend_amount
    from order_lines
),

outlier_spend as (
    select
        outliers.order_id,
        outliers.line_no,
        case
            when settings.amount_basis = 'incl_tax' then coalesce(outliers.corrected_value, 0)
            else coalesce({{ tax_exclusive_cny('outliers.corrected_value', 'outliers.tax_rate') }}, 0)
        end as corrected_spend
    from outliers
    cross join settings
),

spend_by_line as (
    select
        line_spend.is_in_spend_period,
        line_spend.spend_amount,
        case when outlier_spend.order_id is not null then line_spend.spend_amount - outlier_spend.corrected_spend else 0 end
            as outlier_spend_removed
    from line_spend
    left join outlier_spend
        on
            line_spend.order_id = outlier_spend.order_id
            and line_spend.line_no = outlier_spend.line_no
),

-- Each total once, in one pass over the lines and one over the attributed lines.
line_totals as (
    select
        coalesce(sum(spend_amount), 0) as spend_all,
        coalesce(sum(case when is_in_spend_period then spend_amount end), 0) as spend_period,
        coalesce(sum(outlier_spend_removed), 0) as removed_all,
        coalesce(sum(case when is_in_spend_period then outlier_spend_removed end), 0) as removed_period
    from spend_by_line
),

attributed_totals as (
    select
        coalesce(sum(spend_amount), 0) as attributed_all,
        coalesce(sum(case when is_in_spend_period then spend_amount end), 0) as attributed_period,
        coalesce(sum(case when customer_id is not null then spend_amount end), 0) as known_all,
        coalesce(sum(case when customer_id is not null and is_in_spend_period then spend_amount end), 0)
            as known_period,
        coalesce(sum(case when customer_id is null then spend_amount end), 0) as unknown_all,
        coalesce(sum(case when customer_id is null and is_in_spend_period then spend_amount end), 0)
            as unknown_period
    from attributed
),

{% for scope in ['all', 'period'] %}
    spend_{{ scope }} as (
        select
            '{{ "confirmed_spend" if scope == "all" else "confirmed_spend_in_period" }}' as check_name,
            '{{ "confirmed order lines, every date" if scope == "all" else "confirmed order lines in the spend period" }}'
                as subject,
            'confirmed-order spend' as expected_label,
            cast(line_totals.spend_{{ scope }} as decimal(20, 2)) as expected_value,
            'attributed + unknown customer + outliers removed' as actual_label,
            cast(attributed_totals.attributed_{{ scope }} as decimal(20, 2))
            + cast(line_totals.removed_{{ scope }} as decimal(20, 2)) as actual_value,
            'attributed to customers ' || cast(attributed_totals.known_{{ scope }} as {{ dbt.type_string() }})
            || ', unknown customer ' || cast(attributed_totals.unknown_{{ scope }} as {{ dbt.type_string() }})
            || ', removed as outliers ' || cast(line_totals.removed_{{ scope }} as {{ dbt.type_string() }}) as detail
        from line_totals
        cross join attributed_totals
    ),
{% endfor %}

checks as (
    select * from file_checks
    union all
    select * from customer_checks
    union all
    select * from spend_all
    union all
    select * from spend_period
),

final as (
    select
        settings.as_of_date,
        checks.check_name,
        checks.subject,
        checks.expected_label,
        checks.expected_value,
        checks.actual_label,
        checks.actual_value,
        checks.actual_value - checks.expected_value as difference,
        checks.actual_value = checks.expected_value as is_balanced,
        checks.detail
    from checks
    cross join settings
)

select * from final
