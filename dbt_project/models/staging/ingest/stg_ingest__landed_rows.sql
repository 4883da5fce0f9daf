-- Rows in the raw extract tables per entity and file checksum: what the ledger says was loaded,
-- counted where it landed.
with landed as (
    select
        'crm_customers' as entity,
        _file_checksum as file_checksum,
        count(*) as rows_landed
    from {{ source('raw', 'crm_customers') }}
    group by _file_checksum

    union all

    select
        'crm_complaints' as entity,
        _file_checksum as file_checksum,
        count(*) as rows_landed
    from {{ source('raw', 'crm_complaints') }}
    group by _file_checksum

    union all

    select
        'erp_customers' as entity,
        _file_checksum as file_checksum,
        count(*) as rows_landed
    from {{ source('raw', 'erp_customers') }}
    group by _file_checksum

    union all

    select
        'erp_products' as entity,
        _file_checksum as file_checksum,
        count(*) as rows_landed
    from {{ source('raw', 'erp_products') }}
    group by _file_checksum

    union all

    select
        'erp_orders' as entity,
        _file_checksum as file_checksum,
        count(*) as rows_landed
    from {{ source('raw', 'erp_orders') }}
    group by _file_checksum

    union all

    select
        'erp_receivables' as entity,
        _file_checksum as file_checksum,
        count(*) as rows_landed
    from {{ source('raw', 'erp_receivables') }}
    group by _file_checksum
),

final as (
    select * from landed
)

select * from final
