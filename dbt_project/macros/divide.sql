{#- Exact decimal division: rounded to `scale` places and typed DECIMAL, so that band
    comparisons (a margin of exactly 15 %) do not depend on floating point. Null when the
    denominator is 0. The numerator is cast first so that integer counts do not divide as
    integers on engines that do that (Postgres). -#}
{% macro divide(numerator, denominator, scale=4, precision=18) -%}
    {{ return(adapter.dispatch('divide', 'tiering')(numerator, denominator, scale, precision)) }}
{%- endmacro %}

{% macro default__divide(numerator, denominator, scale=4, precision=18) -%}
    cast(round(cast({{ numerator }} as decimal(38, 10)) / nullif({{ denominator }}, 0), {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}
