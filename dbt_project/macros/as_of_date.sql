{#- The evaluation date of this run, as a SQL date literal. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date') -%}
    {%- if value -%}cast('{{ value }}' as date){%- else -%}current_date{%- endif -%}
{%- endmacro %}
