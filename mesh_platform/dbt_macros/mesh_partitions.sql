{#-
  Partitioned products (the platform's dbt macros; a domain's dbt_project.yml lists this
  folder in macro-paths). The platform passes the Dagster partition range of a run in the
  environment: MESH_PARTITION_START (inclusive) and MESH_PARTITION_END (exclusive), ISO dates
  (a changed env var re-parses only the models that read it; changed --vars re-parse the whole
  project). By hand, the vars mesh_partition_start / mesh_partition_end work too and win.
  Without either a model covers all of history.

  An incremental model replaces exactly that range, on every adapter:
    DuckDB    incremental_strategy='replace_range': delete the range, insert the new rows,
              in the materialisation's one transaction
    BigQuery  incremental_strategy='insert_overwrite' with static `partitions`: BigQuery
              replaces exactly those day partitions (a MERGE on the partition filter)
  so a day that lost all its rows upstream is emptied too (delete+insert on a key, or
  dynamic insert_overwrite, would leave its old rows behind).
-#}

{% macro mesh_partition_range() -%}
  {%- set start = var('mesh_partition_start', env_var('MESH_PARTITION_START', '') or none) -%}
  {%- set end = var('mesh_partition_end', env_var('MESH_PARTITION_END', '') or none) -%}
  {%- if (start is none) != (end is none) -%}
    {{ exceptions.raise_compiler_error("pass both mesh_partition_start and mesh_partition_end, or neither") }}
  {%- endif -%}
  {{ return(none if start is none else (modules.datetime.date.fromisoformat(start | string),
                                        modules.datetime.date.fromisoformat(end | string))) }}
{%- endmacro %}

{#- A predicate selecting the run's partition range on `column` (a date); `1 = 1` without one. -#}
{% macro mesh_partition_filter(column) -%}
  {%- set window = mesh_partition_range() -%}
  {%- if window is none -%}
    1 = 1
  {%- else -%}
    {{ column }} >= cast('{{ window[0].isoformat() }}' as date) and {{ column }} < cast('{{ window[1].isoformat() }}' as date)
  {%- endif -%}
{%- endmacro %}

{#- BigQuery's static insert_overwrite `partitions`: every day of the range as a date literal. -#}
{% macro mesh_partition_literals() -%}
  {%- set window = mesh_partition_range() -%}
  {%- if window is none -%}{{ return(none) }}{%- endif -%}
  {%- set days = (window[1] - window[0]).days -%}
  {%- set out = [] -%}
  {%- for i in range(days) -%}
    {%- do out.append("date('" ~ (window[0] + modules.datetime.timedelta(days=i)).isoformat() ~ "')") -%}
  {%- endfor -%}
  {{ return(out) }}
{%- endmacro %}

{#- The config every partitioned incremental model shares: `{{ config(**mesh_partitioned('sold_date')) }}`. -#}
{% macro mesh_partitioned(column) -%}
  {%- set out = {'materialized': 'incremental', 'on_schema_change': 'fail'} -%}
  {%- if target.type == 'bigquery' -%}
    {%- do out.update({'incremental_strategy': 'insert_overwrite',
                       'partition_by': {'field': column, 'data_type': 'date', 'granularity': 'day'},
                       'partitions': mesh_partition_literals()}) -%}
  {%- else -%}
    {%- do out.update({'incremental_strategy': 'replace_range',
                       'incremental_predicates': [mesh_partition_filter(column)]}) -%}
  {%- endif -%}
  {{ return(out) }}
{%- endmacro %}

{#- dbt's custom-strategy hook: delete the range (the predicates), insert the new rows. -#}
{% macro get_incremental_replace_range_sql(arg_dict) -%}
  {%- set target = arg_dict['target_relation'] -%}
  {%- set source = arg_dict['temp_relation'] -%}
  {%- set predicates = arg_dict['incremental_predicates'] or [] -%}
  {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
  delete from {{ target }} where {{ predicates | join(' and ') if predicates else '1 = 1' }};
  insert into {{ target }} ({{ columns }}) select {{ columns }} from {{ source }}
{%- endmacro %}
