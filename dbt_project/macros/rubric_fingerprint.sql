{#- One text line per row of a configuration seed, in a fixed order: the input to rubric_version. -#}
{% macro rubric_rows(seed_name, columns) -%}
    select
        '{{ seed_name }}' as seed_name,
        {{ dbt.concat(["'" ~ seed_name ~ "|'"] + columns_as_text(columns)) }} as row_text
    from {{ ref(seed_name) }}
{%- endmacro %}

{% macro columns_as_text(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}
