-- Rows in the raw extract tables per entity and file checksum: what the ledger says was loaded,
-- counted where it landed. Raw rows carry their delivery's load sequence; the ledger names its
-- file's checksum (a row whose delivery the ledger lacks is counted with no checksum).
with landed as (
    select
        'crm_customers' as entity,
        _load_seq as load_seq,
        count(*) as rows_landed
    from {{ source('raw', 'crm_customers') }}
    group by _load_seq

    union all

    select
        'crm_complaints' as entity,
        _load_seq as load_seq,
        count(*) as rows_landed
    from {{ source('raw', 'crm_complaints') }}
    group by _load_seq

    union all

    select
        'erp_customers' as entity,
        _load_seq as load_seq,
        count(*) as rows_landed
    from {{ source('raw', 'erp_customers') }}
    group by _load_seq

    union all

    select
        'erp_products' as entity,
        _load_seq as load_seq,
        count(*) as rows_landed
    from {{ source('raw', 'erp_products') }}
    group by _load_seq

    union all

    select
        'erp_orders' as entity,
        _load_seq as load_seq,
        count(*) as rows_landed
    from {{ source('raw', 'erp_orders') }}
    group by _load_seq

    union all

    select
        'erp_receivables' as entity,
        _load_seq as load_seq,
        count(*) as rows_landed
    from {{ source('raw', 'erp_receivables') }}
    group by _load_seq
),

files as (
    select * from {{ source('ingest', '_ingested_files') }}
),

final as (
    select
        landed.entity,
        files.file_checksum,
        cast(sum(landed.rows_landed) as {{ dbt.type_bigint() }}) as rows_landed
    from landed
    left join files
        on
            landed.entity = files.entity
            and landed.load_seq = files.load_seq
    group by landed.entity, files.file_checksum
)

select * from final
