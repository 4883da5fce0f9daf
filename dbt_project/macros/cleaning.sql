{#- Cleaning helpers shared by the dedup, outlier and audit models. -#}

{#- A company name reduced to what identifies the firm, for matching only (never shown):
    - full-width ASCII (ＡＢＣ１２３), brackets （）［］【】〔〕 and punctuation ．，、 read as
      half-width, the ideographic space (U+3000) and the non-breaking space (U+00A0) as spaces:
      the part of NFKC that occurs in company names;
    - letters lower-cased;
    - the English legal form at the end (Co., Ltd. / CO. LTD. / Co Ltd / Company Limited /
      Ltd. / Limited) read as 有限公司; it needs a space or punctuation before it, so that
      "Teco Ltd" and "Te Co Ltd" stay apart;
    - whitespace, brackets of every style, full stops, commas and 、 removed, so that
      X(上海)有限公司 meets X上海有限公司;
    - 有限责任公司 read as 有限公司 (one legal form). 股份有限公司 is another legal form and stays
      apart: two records that differ in it are two firms unless a valid credit code says otherwise.
    Portable SQL: translate, lower, replace, and regexp_replace with a 'g' flag (DuckDB, Postgres). -#}
{% macro normalize_company_name(column) -%}
    {{ return(adapter.dispatch('normalize_company_name', 'tiering')(column)) }}
{%- endmacro %}

{#- The name with full-width characters read as half-width (the first step above). -#}
{% macro company_name_half_widthed(column) -%}
    {%- set full_width = "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ（）［］【】〔〕．，、　 " -%}
    {%- set half_width = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz()[]()().,,  " -%}
    {#- translate() is costly per row and most names have no full-width character: look first. -#}
    {{- "case when " ~ regexp_contains(column, "'[" ~ full_width ~ "]'") ~ " then translate("
        ~ column ~ ", '" ~ full_width ~ "', '" ~ half_width ~ "') else " ~ column ~ " end" -}}
{%- endmacro %}

{% macro default__normalize_company_name(column) -%}
    {%- set half_widthed = company_name_half_widthed(column) -%}
    replace(
        regexp_replace(
            regexp_replace(lower({{ half_widthed }}), '(^|[^a-z0-9])(co|company)?[\s.,]*(ltd|limited)[\s.]*$', '\1有限公司'),
            '[\s()\[\].,、]', '', 'g'),
        '有限责任公司', '有限公司')
{%- endmacro %}

{#- A coded value (a status, a level, a severity) as the code lists spell it: surrounding spaces
    trimmed and lower-cased, so that `Confirmed` and ` confirmed ` count as confirmed; empty is null. -#}
{% macro normalize_code(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{#- Remove every whitespace character. regexp_replace's flags differ between engines;
    DuckDB and Postgres both take 'g' for "all matches" (Spark: engine.sql). -#}
{% macro strip_whitespace(expression) -%}
    {{ return(adapter.dispatch('strip_whitespace', 'tiering')(expression)) }}
{%- endmacro %}

{% macro default__strip_whitespace(expression) -%}
    regexp_replace({{ expression }}, '\s', '', 'g')
{%- endmacro %}

{#- A phone number as digits only, without a +86 / 86 country prefix; empty when none. -#}
{% macro normalize_phone(column) -%}
    {{ return(adapter.dispatch('normalize_phone', 'tiering')(column)) }}
{%- endmacro %}

{% macro default__normalize_phone(column) -%}
    nullif(regexp_replace(regexp_replace({{ column }}, '[^0-9]', '', 'g'), '^86(1[0-9]{10})$', '\1'), '')
{%- endmacro %}

{#- True when a unified social credit code (统一社会信用代码) is 18 characters of the GB 32100-2015
    charset and its 18th character is the check character of the first 17; false otherwise,
    null when the code is empty. Portable SQL: position() and substring() only. -#}
{% macro credit_code_is_valid(column) -%}
    {%- set charset = "0123456789ABCDEFGHJKLMNPQRTUWXY" -%}
    {%- set weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] -%}
    case
        when {{ column }} is null then null
        when length({{ column }}) <> 18 then false
        {%- for i in range(1, 19) %}
        when {{ dbt.position("substring(" ~ column ~ ", " ~ i ~ ", 1)", "'" ~ charset ~ "'") }} = 0 then false
        {%- endfor %}
        else substring({{ column }}, 18, 1) = substring('{{ charset }}', cast((31 - (
            {%- for weight in weights %}
            ({{ dbt.position("substring(" ~ column ~ ", " ~ loop.index ~ ", 1)", "'" ~ charset ~ "'") }} - 1) * {{ weight }}{% if not loop.last %} +{% endif %}
            {%- endfor %}
        ) % 31) % 31 as integer) + 1, 1)
    end
{%- endmacro %}

{#- Phone numbers and emails inside free text masked as in the published tables:
    13812341234 → 138****1234, zhang.san@example.com → z***@example.com. -#}
{% macro mask_contacts(expression) -%}
    {{ return(adapter.dispatch('mask_contacts', 'tiering')(expression)) }}
{%- endmacro %}

{% macro default__mask_contacts(expression) -%}
    regexp_replace(
        regexp_replace({{ expression }}, '(^|[^0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})([^0-9]|$)', '\1\2****\3\4', 'g'),
        '([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)', '\1***@\2', 'g')
{%- endmacro %}

{#- The median of an aggregate group. DuckDB has median(); other engines spell it
    percentile_cont(0.5) within group (order by ...). -#}
{% macro median(expression) -%}
    {%- if target.type == 'duckdb' -%}median({{ expression }}){%- else -%}percentile_cont(0.5) within group (order by {{ expression }}){%- endif -%}
{%- endmacro %}

{#- Similarity of two strings, 0-1 (1 = equal). DuckDB's jaro_winkler_similarity; other
    engines need their own (e.g. Snowflake JAROWINKLER_SIMILARITY / 100; Spark: engine.sql). -#}
{% macro name_similarity(left, right) -%}
    {{ return(adapter.dispatch('name_similarity', 'tiering')(left, right)) }}
{%- endmacro %}

{% macro default__name_similarity(left, right) -%}
    jaro_winkler_similarity({{ left }}, {{ right }})
{%- endmacro %}

{#- The first non-null value of a window, for survivorship ("the newest non-empty value").
    Used as {{ first_non_null('x') }} over (...). -#}
{% macro first_non_null(expression) -%}
    {{ return(adapter.dispatch('first_non_null', 'tiering')(expression)) }}
{%- endmacro %}

{% macro default__first_non_null(expression) -%}
    first_value({{ expression }} ignore nulls)
{%- endmacro %}

{#- Does the text contain a match of the regular expression (anywhere, not the whole text)? -#}
{% macro regexp_contains(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_contains', 'tiering')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_contains(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regexp_contains(expression, pattern) -%}
    ({{ expression }} ~ {{ pattern }})
{%- endmacro %}

{#- A unified social credit code as its holder meant it: full-width digits and letters
    (９１３１００００ＭＡ…, typed with a Chinese input method) read as half-width, every space
    removed, upper case; empty when nothing is left. Matching and the check character then see
    the code itself. -#}
{% macro normalize_credit_code(column) -%}
    {%- set full_width = "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ" -%}
    {%- set half_width = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" -%}
    {%- set half_widthed = "case when " ~ regexp_contains(column, "'[" ~ full_width ~ "]'") ~ " then translate("
        ~ column ~ ", '" ~ full_width ~ "', '" ~ half_width ~ "') else " ~ column ~ " end" -%}
    nullif(upper({{ strip_whitespace(half_widthed) }}), '')
{%- endmacro %}
