{#- Where DuckDB's SQL and Spark's differ. Each macro dispatches on the adapter: default__ is the
    SQL the project always ran (DuckDB, and Postgres-like engines); spark__ is the same meaning
    in Spark SQL (Spark 4.3 and later). Models call these, never engine-specific SQL. -#}

{#- Models that keep every as-of date and replace the run's date. DuckDB deletes that date's
    rows and inserts them again: the history marts with the project's history_table
    materialization (macros/history_table.sql), which writes each row once, and
    int_customer_tiers_stabilized, which reads its own previous state (is_incremental), with
    dbt's incremental materialization (delete+insert on unique_key as_of_date), as other
    engines do. Spark's Parquet tables have no DELETE: they are partitioned by as_of_date and
    the run's partition is overwritten (insert_overwrite, dynamic partition mode), which
    replaces the same rows. -#}
{% macro as_of_date_materialization() -%}
    {{ return(adapter.dispatch('as_of_date_materialization', 'tiering')()) }}
{%- endmacro %}

{% macro default__as_of_date_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro duckdb__as_of_date_materialization() -%}
    {{ return('history_table') }}
{%- endmacro %}

{% macro as_of_date_strategy() -%}
    {{ return(adapter.dispatch('as_of_date_strategy', 'tiering')()) }}
{%- endmacro %}

{% macro default__as_of_date_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__as_of_date_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro as_of_date_partitions() -%}
    {{ return(adapter.dispatch('as_of_date_partitions', 'tiering')()) }}
{%- endmacro %}

{% macro default__as_of_date_partitions() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__as_of_date_partitions() -%}
    {{ return(['as_of_date']) }}
{%- endmacro %}

{#- Regular expressions: Spark replaces every match without DuckDB's 'g' flag, writes a group
    as $1 (not \1), and unescapes backslashes in string literals. RE2's \s is [\t\n\f\r ];
    Java's also matches \x0B, so the set is spelled out. -#}
{% macro spark__strip_whitespace(expression) -%}
    regexp_replace({{ expression }}, '[\\t\\n\\f\\r ]', '')
{%- endmacro %}

{% macro spark__normalize_phone(column) -%}
    nullif(regexp_replace(regexp_replace({{ column }}, '[^0-9]', ''), '^86(1[0-9]{10})$', '$1'), '')
{%- endmacro %}

{% macro spark__mask_contacts(expression) -%}
    regexp_replace(
        regexp_replace({{ expression }}, '(^|[^0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})([^0-9]|$)', '$1$2****$3$4'),
        '([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)', '$1***@$2')
{%- endmacro %}

{#- normalize_company_name with Java regexes (see above for the rules). -#}
{% macro spark__normalize_company_name(column) -%}
    {%- set half_widthed = company_name_half_widthed(column) -%}
    replace(
        regexp_replace(
            regexp_replace(lower({{ half_widthed }}), '(^|[^a-z0-9])(co|company)?[\\t\\n\\f\\r .,]*(ltd|limited)[\\t\\n\\f\\r .]*$', '$1有限公司'),
            '[\\t\\n\\f\\r ()\\[\\].,、]', ''),
        '有限责任公司', '有限公司')
{%- endmacro %}

{% macro spark__regexp_contains(expression, pattern) -%}
    ({{ expression }} rlike {{ pattern }})
{%- endmacro %}

{#- Jaro-Winkler similarity, 0-1. DuckDB compares the UTF-8 bytes of the two strings; Spark
    (4.3+) compares characters, which scores Chinese names differently (北京 / 南京: 0.900 in
    DuckDB, 0.667 in Spark). Spark is given the bytes as Latin-1 characters, one per byte, so
    both engines compute the same number and the dedup threshold means the same. -#}
{% macro spark__name_similarity(left, right) -%}
    jaro_winkler_similarity(decode(encode({{ left }}, 'UTF-8'), 'ISO-8859-1'), decode(encode({{ right }}, 'UTF-8'), 'ISO-8859-1'))
{%- endmacro %}

{#- dbt-spark's listagg drops the ORDER BY (collect_list, in no fixed order); Spark 4 has an
    ordered listagg ... within group. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not supported on Spark in this project") }}
    {%- elif order_by_clause -%}
        listagg({{ measure }}, {{ delimiter_text }}) within group ({{ order_by_clause }})
    {%- else -%}
        listagg({{ measure }}, {{ delimiter_text }})
    {%- endif -%}
{%- endmacro %}

{#- Seeds on Spark. dbt-spark 1.11's session mode binds an empty cell as the text 'None' and
    does not escape quotes; every cell is written as an escaped literal instead, cast to its
    column type. Column types are declared as DuckDB spells them (varchar): Spark wants string. -#}
{% macro spark_seed_type(type) -%}
    {{ return('string' if (type | trim | lower) == 'varchar' else type) }}
{%- endmacro %}

{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}null
    {%- else -%}'{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {% set sql %}
        create table {{ this.render() }} (
            {%- for col_name in agate_table.column_names -%}
                {%- set type = spark_seed_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }} {{ type }} {%- if not loop.last -%}, {%- endif -%}
            {%- endfor -%}
        )
        {{ file_format_clause() }}
        {{ location_clause() }}
        {{ comment_clause() }}
    {% endset %}
    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}
    {{ return(sql) }}
{% endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {% set batch_size = get_batch_size() %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(batch_size) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = spark_seed_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}{% do statements.append(sql) %}{% endif %}
    {% endfor %}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- The landed extracts and the ingest audit tables (raw.*), registered in the Spark catalog
    at the start of every dbt run. The ingest writes each as Parquet under
    <warehouse>/raw.db/<table>/ (tiering.spark.landing); a table is dropped and registered again
    so that a new column of the landed file is seen, which leaves its files in place. On DuckDB
    the raw schema is the warehouse's own: nothing to do. -#}
{% macro register_landed_tables() -%}
    {{ return(adapter.dispatch('register_landed_tables', 'tiering')()) }}
{%- endmacro %}

{% macro default__register_landed_tables() -%}
{%- endmacro %}

{% macro spark__register_landed_tables() -%}
    {%- if execute -%}
        {%- set location = var('spark_dir', '../data/spark') ~ '/warehouse/raw.db' -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for node in graph.sources.values() if node.schema == 'raw' -%}
            {%- do run_query('drop table if exists raw.' ~ node.identifier) -%}
            {%- do run_query("create table raw." ~ node.identifier ~ " using parquet location '" ~ location ~ "/" ~ node.identifier ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Window: the first non-null value. Spark spells IGNORE NULLS as first_value's second argument. -#}
{% macro spark__first_non_null(expression) -%}
    first_value({{ expression }}, true)
{%- endmacro %}

{#- dbt's accepted_values test quotes every value: DuckDB reads 'True' as a boolean, Spark (ANSI)
    refuses to compare a boolean with a string. A boolean value is written as a boolean. -#}
{% macro spark__test_accepted_values(model, column_name, values, quote=True) %}
with all_values as (
    select {{ column_name }} as value_field, count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from all_values
where value_field not in (
    {%- for value in values -%}
        {%- if value is sameas true or value is sameas false -%}{{ value }}
        {%- elif quote -%}'{{ value }}'
        {%- else -%}{{ value }}
        {%- endif -%}
        {%- if not loop.last -%}, {% endif -%}
    {%- endfor -%}
)
{% endmacro %}

{#- A partitioned Spark table stores its partition column (as_of_date) last. Published tables
    must have the columns in the model's order on every engine, so after each partitioned model
    its order is written beside the warehouse (<spark_dir>/column_order/<schema>.<table>/, JSON),
    where publishing reads it without opening the catalog. -#}
{% macro record_column_order() -%}
    {{ return(adapter.dispatch('record_column_order', 'tiering')()) }}
{%- endmacro %}

{% macro default__record_column_order() -%}
{%- endmacro %}

{% macro spark__record_column_order() -%}
    {%- if execute and model.resource_type == 'model' and config.get('partition_by') -%}
        {%- set described = run_query('describe query ' ~ model.compiled_code) -%}
        {%- set columns = [] -%}
        {%- for row in described.rows -%}{%- do columns.append([row[0], row[1]]) -%}{%- endfor -%}
        insert overwrite directory '{{ var("spark_dir", "../data/spark") }}/column_order/{{ this.schema }}.{{ this.identifier }}'
        using json select '{{ tojson(columns) | replace("\\", "\\\\") | replace("'", "\\'") }}' as columns
    {%- endif -%}
{%- endmacro %}

{#- Exact decimal division (macro divide). DuckDB divides a DECIMAL in DOUBLE and rounds that;
    Spark keeps a DECIMAL quotient and rounds it exactly, so a quotient that DuckDB holds as
    ...4999999 and Spark as ...5 would round apart. Spark divides in DOUBLE too, so both engines
    publish the same digits. -#}
{% macro spark__divide(numerator, denominator, scale=4, precision=18) -%}
    cast(round(cast(cast({{ numerator }} as decimal(38, 10)) as double) / nullif({{ denominator }}, 0), {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- exact_ratio on Spark: no HUGEINT and no floor division of decimals, so the floor is taken
    exactly: (n - r) / d with r = ((n % d) + d) % d, the remainder with the divisor's sign, is a
    whole number, and DECIMAL(38, 0) holds it exactly. -#}
{% macro spark__exact_ratio(numerator, denominator, input_scale, scale) -%}
    {#- The powers of ten as DECIMAL: an INT literal product (100 * 100000000) would overflow. -#}
    {%- set n = "(cast((" ~ numerator ~ ") * cast(" ~ (10 ** input_scale) ~ " as decimal(38, 0)) as decimal(38, 0)) * cast(" ~ (10 ** scale) ~ " as decimal(38, 0)))" -%}
    {%- set d = "cast((" ~ denominator ~ ") * cast(" ~ (10 ** input_scale) ~ " as decimal(38, 0)) as decimal(38, 0))" -%}
    case when {{ d }} <> 0 then cast(
        cast(({{ n }} - ((({{ n }} % {{ d }}) + {{ d }}) % {{ d }})) / {{ d }} as decimal(38, 0)) * {{ _decimal_unit(scale) }}
    as decimal(38, {{ scale }})) end
{%- endmacro %}

{#- DuckDB decides for itself whether a common table expression that a query reads twice is
    computed once and kept whole, then read back, or computed again for each read; it mostly
    keeps it. Where one of the reads keeps only a few of its rows (a filter that reaches into
    it), computing it again for each read is cheaper than keeping millions of rows:
    `name as {{ not_materialized() }} (...)` asks for that, as NOT MATERIALIZED. Other
    engines get a plain CTE, planned as each plans it, and the same rows. Postgres knows the
    words but is not given them: engines built on its adapter (Redshift) do not. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'tiering')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{#- The other way round: DuckDB 2.0 computes again for each read a common table expression
    that it judges cheap (projections over one input), however costly its expressions are.
    Where a CTE that is read more than once computes regular expressions over every row,
    `name as {{ computed_once() }} (...)` keeps it, as MATERIALIZED. Other engines get a plain
    CTE, as for not_materialized. -#}
{% macro computed_once() -%}
    {{ return(adapter.dispatch('computed_once', 'tiering')()) }}
{%- endmacro %}

{% macro default__computed_once() -%}
{%- endmacro %}

{% macro duckdb__computed_once() -%}
    materialized
{%- endmacro %}
