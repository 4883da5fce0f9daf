{#- The one home of the tax-exclusive amount (不含税金额): an amount including tax divided by
    (1 + the line's tax rate). `tax_exclusive` is the exact quotient (for statistics such as the
    outlier rules); `tax_exclusive_cny` rounds it to the cent, as every published amount is. -#}
{% macro tax_exclusive(amount_incl_tax, tax_rate) -%}
    {{ amount_incl_tax }} / (1 + {{ tax_rate }})
{%- endmacro %}

{% macro tax_exclusive_cny(amount_incl_tax, tax_rate) -%}
    cast(round({{ tax_exclusive(amount_incl_tax, tax_rate) }}, 2) as decimal(18, 2))
{%- endmacro %}
