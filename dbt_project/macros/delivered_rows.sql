{#- The rows of a raw extract table that can still be a key's latest: those of every delivery
    the ledger does not mark superseded. Ingest marks a delivery superseded once each of its
    keys is in a later delivery, so none of its rows would win the latest-delivery window; the
    window then ranks one delivery's rows when extracts are re-delivered whole every night,
    not every delivery the raw table has kept. -#}
{% macro delivered_rows(entity) -%}
    select * from {{ source('raw', entity) }}
    where _load_seq in (
        select load_seq from {{ source('ingest', '_ingested_files') }}
        where entity = '{{ entity }}' and not superseded
    )
{%- endmacro %}
