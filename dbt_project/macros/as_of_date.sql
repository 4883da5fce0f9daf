{#- The evaluation date of this run, as a SQL date literal: the as_of_date var when given (dbt
    run by hand), else TIERING_AS_OF (the pipeline sets it to the run's partition), else today.
    TIERING_AS_OF is read only when a model runs, never while dbt parses the project: a new date
    each night then leaves dbt's saved parse valid, and dbt skips parsing the whole project. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date') -%}
    {%- if not value and execute -%}
        {%- set value = env_var('TIERING_AS_OF', '') | trim -%}
    {%- endif -%}
    {%- if value -%}cast('{{ value }}' as date){%- else -%}current_date{%- endif -%}
{%- endmacro %}
