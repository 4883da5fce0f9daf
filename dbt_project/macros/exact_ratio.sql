{#- numerator / denominator, exact, truncated down (floor) to `scale` decimals and typed
    DECIMAL(38, scale); null when the denominator is 0 or null. For values that are banded:
    floor keeps every comparison with a bound of at most `scale` decimals exactly as it is for
    the true quotient (v >= b exactly when floor(v) >= b), where rounding would lift 14.99996
    into a band that starts at 15. `divide()` stays for display values (shares, growth).

    Both operands must be exact numbers with at most `input_scale` decimals (money 2, counts
    0): they are scaled to integers and divided as integers, never through a floating-point
    quotient. Engines differ in integer division, so it is dispatched; every implementation
    floors (DuckDB's `//` and Postgres' div() truncate toward zero, so a negative quotient
    with a remainder steps down by one). -#}
{% macro exact_ratio(numerator, denominator, input_scale=2, scale=6) -%}
    {{ return(adapter.dispatch('exact_ratio', 'tiering')(numerator, denominator, input_scale, scale)) }}
{%- endmacro %}

{#- The power of ten below 1 as a decimal literal: 0.000001 for 6. -#}
{% macro _decimal_unit(scale) -%}
    {%- if scale == 0 -%}1{%- else -%}0.{{ '0' * (scale - 1) }}1{%- endif -%}
{%- endmacro %}

{#- An operand with at most `input_scale` decimals as an integer of `integer_type`: the operand
    × 10^input_scale. `narrow`: the product is first cast to DECIMAL(18, input_scale), which
    DuckDB keeps in 64 bits, so that no 128-bit division rescales it (see duckdb__exact_ratio). -#}
{% macro _scaled_integer(operand, input_scale, integer_type, narrow=false) -%}
    {%- if narrow -%}
        cast(cast(({{ operand }}) * {{ 10 ** input_scale }} as decimal(18, {{ input_scale }})) as {{ integer_type }})
    {%- else -%}
        cast(({{ operand }}) * cast({{ 10 ** input_scale }} as {{ integer_type }}) as {{ integer_type }})
    {%- endif -%}
{%- endmacro %}

{#- numerator // denominator floored, both scaled to integers of `integer_type` (`//` and `%`
    truncate toward zero); DECIMAL(38, 0) × 0.000001 is exact. -#}
{% macro _integer_exact_ratio(numerator, denominator, input_scale, scale, integer_type, narrow=false) -%}
    {%- set scaled_numerator = "(" ~ tiering._scaled_integer(numerator, input_scale, integer_type, narrow)
        ~ " * cast(" ~ (10 ** scale) ~ " as " ~ integer_type ~ "))" -%}
    {%- set scaled_denominator = tiering._scaled_integer(denominator, input_scale, integer_type, narrow) -%}
    case when {{ scaled_denominator }} <> 0 then cast(
        cast(
            {{ scaled_numerator }} // {{ scaled_denominator }}
            - case
                when {{ scaled_numerator }} % {{ scaled_denominator }} <> 0
                    and ({{ scaled_numerator }} < 0) <> ({{ scaled_denominator }} < 0) then 1
                else 0
            end
        as decimal(38, 0)) * {{ _decimal_unit(scale) }}
    as decimal(38, {{ scale }})) end
{%- endmacro %}

{#- HUGEINT (128-bit) operands. -#}
{% macro default__exact_ratio(numerator, denominator, input_scale, scale) -%}
    {{ tiering._integer_exact_ratio(numerator, denominator, input_scale, scale, 'hugeint') }}
{%- endmacro %}

{#- DuckDB: the same quotient in BIGINT whenever both scaled operands fit in one (any sum of
    money below 10^10 at 2 and 6 decimals), HUGEINT otherwise. HUGEINT division is done in
    software and costs about fifty times as much: at a million customers it was most of the
    scoring's time. CASE evaluates each branch for its own rows only.
    A sum of money is a DECIMAL(38, 2), which DuckDB holds in 128 bits, and casting one to
    BIGINT divides it by 100 in 128 bits. Below the bound its product by 10^input_scale fits
    DECIMAL(18, input_scale) when input_scale <= scale; that cast keeps the scale, so it only
    narrows the number, and the cast to BIGINT then divides in 64 bits: a profit margin for a
    million customers in 0.2 s instead of 2.5 s. -#}
{% macro duckdb__exact_ratio(numerator, denominator, input_scale, scale) -%}
    {%- set bound = 10 ** (18 - input_scale - scale) -%}
    case
        when abs({{ numerator }}) < {{ bound }} and abs({{ denominator }}) < {{ bound }}
            then {{ tiering._integer_exact_ratio(numerator, denominator, input_scale, scale, 'bigint',
                                                 narrow=input_scale <= scale) }}
        else {{ tiering._integer_exact_ratio(numerator, denominator, input_scale, scale, 'hugeint') }}
    end
{%- endmacro %}

{#- Postgres: NUMERIC is exact at any size; div() and mod() truncate toward zero. -#}
{% macro postgres__exact_ratio(numerator, denominator, input_scale, scale) -%}
    {%- set scaled_numerator = "(round(cast((" ~ numerator ~ ") as numeric) * " ~ (10 ** input_scale) ~ ") * " ~ (10 ** scale) ~ ")" -%}
    {%- set scaled_denominator = "round(cast((" ~ denominator ~ ") as numeric) * " ~ (10 ** input_scale) ~ ")" -%}
    case when {{ scaled_denominator }} <> 0 then cast(
        (
            div({{ scaled_numerator }}, {{ scaled_denominator }})
            - case
                when mod({{ scaled_numerator }}, {{ scaled_denominator }}) <> 0
                    and ({{ scaled_numerator }} < 0) <> ({{ scaled_denominator }} < 0) then 1
                else 0
            end
        ) * {{ _decimal_unit(scale) }}
    as decimal(38, {{ scale }})) end
{%- endmacro %}
