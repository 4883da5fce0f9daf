{#- One text line per row of a configuration seed, in a fixed order: the input to rubric_version.
    With per_rubric, only the rows of the active preset count, so each preset has its own version. -#}
{% macro rubric_rows(seed_name, columns, per_rubric=false) -%}
    select
        '{{ seed_name }}' as seed_name,
        {{ dbt.concat(["'" ~ seed_name ~ "|'"] + columns_as_text(columns)) }} as row_text
    from {{ ref(seed_name) }}
    {%- if per_rubric %}
    where rubric = {{ active_rubric() }}
    {%- endif %}
{%- endmacro %}

{% macro columns_as_text(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}
