{#- dbt's own macro, with one addition: `__as_of_date__` in a test's `where` config becomes this
    run's as-of date. Tests on the history marts check the date being built, so their cost does
    not grow with the history and a past date cannot block tonight's run. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__as_of_date__', as_of_date()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
