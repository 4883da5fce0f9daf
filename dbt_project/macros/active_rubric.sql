{#- The active rubric preset (var `rubric`, from TIERING_RUBRIC) as a SQL string literal.
    Rubric seeds hold every preset; a model reads its rows with
    `where rubric = {{ active_rubric() }}`. -#}
{% macro active_rubric() -%}
    '{{ var("rubric", "default") | replace("'", "''") }}'
{%- endmacro %}
