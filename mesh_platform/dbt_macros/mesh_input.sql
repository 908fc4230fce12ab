{#-
  Read another domain's output port: {{ mesh_input('<domain>.<product>.<port>') }}.

  The port must be an input port of a product of this domain (inputPorts[].source in its
  dataproduct.yaml). The platform generates a dbt source for each one before dbt parses
  (models/_mesh_inputs.yml; mesh_platform/publishing/input_sources.py), reading the port where
  the run's target publishes it (DuckDB: its live Parquet snapshot; BigQuery: its view), and
  this macro returns that source: the manifest records the dependency, and the source's asset
  key is the producer's port, so the lineage graph is one across code locations.

  An undeclared address still parses (so `mesh validate` can name its file and line) but does
  not compile.
-#}
{% macro mesh_input(address) -%}
  {%- set declared = mesh_declared_inputs() if mesh_declared_inputs is defined else {} -%}
  {%- if address in declared -%}
    {{ return(source(declared[address][0], declared[address][1])) }}
  {%- endif -%}
  {%- if execute -%}
    {{ exceptions.raise_compiler_error(
         "mesh_input('" ~ address ~ "'): no product of this domain declares that input port: add it to "
         ~ "inputPorts (source: " ~ address ~ ") in the product's dataproduct.yaml and run `mesh prepare` "
         ~ "(`mesh validate` names the line)") }}
  {%- endif -%}
  {{ return('mesh_undeclared_input') }}
{%- endmacro %}
