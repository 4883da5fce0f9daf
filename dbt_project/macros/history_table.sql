{#- A table that keeps every as-of date, in which a run replaces the rows of the dates it
    writes: the history marts on DuckDB (customer_tiers, customer_indicator_scores, ...); config
    unique_key names the date column. It leaves the rows that dbt's incremental delete+insert
    on that key leaves; other engines use dbt's incremental materialization (macro
    as_of_date_materialization).

    dbt's incremental materialization on DuckDB first writes the new rows to a temporary table,
    then deletes the table's rows of their dates and inserts them from it: every row is written
    twice. Here the model's query is a view, whose rows are inserted into the table and then
    the older rows of the dates they carry are deleted, in one transaction: each row is written
    once. Rows a transaction inserts get row ids above every committed row's, so the older rows
    are those at or below the highest row id before the insert. At a million customers that
    spares customer_indicator_scores (11.5 M rows a night) a second write of every row, every
    night after the first.

    - the first run, or --full-refresh: the table is created from the query, as a table model is;
    - later runs: on_schema_change as for an incremental model (append_new_columns adds a new
      column, whose earlier dates stay null), then the insert and the delete.

    Each run records its write in the same transaction in <schema>._history_writes: the
    relation, a number that grows with each write of it, dbt's invocation id, and one row per
    date written (whole_table when the table was written whole; a row without a date when the
    run wrote no rows). Publishing reads it to count the rows a new serving version holds that
    the version before did not (tiering/publish/serving.py). -#}
{% materialization history_table, adapter='duckdb' %}
    {%- set date_column = config.require('unique_key') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set query_relation = target_relation.incorporate(path={'identifier': this.identifier ~ '__dbt_new_rows'}, type='view') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation = make_backup_relation(target_relation, 'table' if existing_relation is none else existing_relation.type) -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set full_refresh = should_full_refresh() or (existing_relation is not none and not existing_relation.is_table) -%}

    {#- Left behind by a run that was killed: never read, so dropped before this run. -#}
    {{ drop_relation_if_exists(load_cached_relation(query_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set writes = api.Relation.create(database=this.database, schema=this.schema, identifier='_history_writes') -%}
    {%- set relation_name = this.schema ~ '.' ~ this.identifier -%}
    {%- call statement('history_writes_table') -%}
        create table if not exists {{ writes }} (
            relation varchar, seq bigint, invocation_id varchar, as_of_date date, whole_table boolean,
            written_at timestamp
        )
    {%- endcall -%}
    {%- set record_write -%}
        insert into {{ writes }}
        select '{{ relation_name }}',
            coalesce((select max(seq) from {{ writes }} where relation = '{{ relation_name }}'), 0) + 1,
            '{{ invocation_id }}', written_date, whole_table, current_timestamp
        from
    {%- endset -%}

    {%- if existing_relation is none -%}
        {%- call statement('main') -%}
            {{ get_create_table_as_sql(False, target_relation, sql) }};
            {{ record_write }} (select cast(null as date) as written_date, true as whole_table)
        {%- endcall -%}
    {%- elif full_refresh -%}
        {%- call statement('main') -%}
            {{ get_create_table_as_sql(False, intermediate_relation, sql) }};
            {{ record_write }} (select cast(null as date) as written_date, true as whole_table)
        {%- endcall -%}
        {%- do adapter.rename_relation(existing_relation, backup_relation) -%}
        {%- do adapter.rename_relation(intermediate_relation, target_relation) -%}
    {%- else -%}
        {%- call statement('new_rows') -%}
            {{ get_create_view_as_sql(query_relation, sql) }}
        {%- endcall -%}
        {%- do adapter.expand_target_column_types(from_relation=query_relation, to_relation=target_relation) -%}
        {%- set dest_columns = process_schema_changes(on_schema_change, query_relation, existing_relation) -%}
        {%- if not dest_columns -%}
            {%- set dest_columns = adapter.get_columns_in_relation(existing_relation) -%}
        {%- endif -%}
        {%- set columns = get_quoted_csv(dest_columns | map(attribute='name')) -%}
        {%- set last_row = run_query('select coalesce(max(rowid), -1) from ' ~ target_relation).columns[0].values()[0] | int -%}
        {%- call statement('main') -%}
            insert into {{ target_relation }} ({{ columns }})
            select {{ columns }} from {{ query_relation }};
            delete from {{ target_relation }}
            where rowid <= {{ last_row }}
                and {{ date_column }} in (select {{ date_column }} from {{ target_relation }} where rowid > {{ last_row }});
            {{ record_write }} (
                select distinct cast({{ date_column }} as date) as written_date, false as whole_table
                from {{ target_relation }} where rowid > {{ last_row }}
                union all
                select cast(null as date), false
                where not exists (select 1 from {{ target_relation }} where rowid > {{ last_row }})
            )
        {%- endcall -%}
    {%- endif -%}

    {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh)) -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}
    {%- if full_refresh -%}
        {{ drop_relation_if_exists(backup_relation) }}
    {%- elif existing_relation is not none -%}
        {{ drop_relation_if_exists(query_relation) }}
    {%- endif %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
