{#- The rows of a raw extract table that can still be a key's latest: those of every delivery
    the ledger does not mark superseded. Ingest marks a delivery superseded once each of its
    keys is in a later delivery, so none of its rows would win the latest-delivery window; the
    window then ranks one delivery's rows when extracts are re-delivered whole every night,
    not every delivery the raw table has kept. A row's file is its delivery's, kept in the
    ledger (raw rows carry the delivery's load sequence and their row in the file). -#}
{% macro delivered_rows(entity) -%}
    select
        delivered.*,
        files.source_file as _source_file
    from {{ source('raw', entity) }} as delivered
    inner join {{ source('ingest', '_ingested_files') }} as files
        on delivered._load_seq = files.load_seq
    where files.entity = '{{ entity }}' and not files.superseded
{%- endmacro %}

{#- Each key's latest row among the deliveries read (delivered_rows), as delivery_rank = 1: the
    row of the newest delivery, and the last row of the key within it. Ingest quarantines a key
    that a file repeats, so the rows of one delivery hold each key once: when the rows read
    come from one delivery they are its keys' latest as they are, and the window that ranks a
    key's rows runs only when they come from more than one (a partial delivery after a whole
    one). On a night whose extracts are delivered whole the delivery before is superseded, and
    one is read. The ledger says how many: a delivery it records as loading no row is not
    counted, one whose count it does not know is. -#}
{% macro latest_delivered_rows(entity, key) -%}
    {%- set deliveries_read -%}
        (
            select count(*) from {{ source('ingest', '_ingested_files') }}
            where
                entity = '{{ entity }}' and not superseded
                and (rows_loaded is null or rows_loaded > 0)
        )
    {%- endset -%}
    select
        one_delivery.*,
        1 as delivery_rank
    from ({{ delivered_rows(entity) }}) as one_delivery
    where {{ deliveries_read }} <= 1

    union all

    select ranked.*
    from (
        select
            deliveries.*,
            row_number() over (
                partition by {% for column in key %}deliveries.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
                order by deliveries._load_seq desc, deliveries._source_row desc
            ) as delivery_rank
        from ({{ delivered_rows(entity) }}) as deliveries
        where {{ deliveries_read }} > 1
    ) as ranked
    where ranked.delivery_rank = 1
{%- endmacro %}
