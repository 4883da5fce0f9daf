{#- Use the folder's schema as written (staging, intermediate, marts, rubric), not
    <target>_<schema>: BI users and auditors see stable names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
