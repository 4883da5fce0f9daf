{#- The one home of the golden-customer join: a source record's id (an ERP or CRM customer id
    on an order line, invoice or complaint) belongs to the golden customer its record was
    matched into (int_customers_matched, one row per source record). Joins the matching as
    `alias`, whose customer_id is the golden customer. `kind`: inner or left. -#}
{% macro join_golden_customer(source_id, source_system, alias='golden', kind='inner') -%}
    {{ kind }} join {{ ref('int_customers_matched') }} as {{ alias }}
        on
            {{ alias }}.source_system = '{{ source_system }}'
            and {{ source_id }} = {{ alias }}.source_customer_id
{%- endmacro %}
