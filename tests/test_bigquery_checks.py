"""The same compiled checks, built for BigQuery without a connection.

BigQuery cannot be reached from here, so these tests stop at the SQL: every query the
checks would run (the one measuring aggregate, each sql rule and relationship, each
failing-row sample) is compiled by ibis' BigQuery compiler for an unbound table with
the port's schema and must parse under sqlglot's BigQuery dialect. A sql rule's run on
BigQuery (dry run first, then the rule) is tested with fake jobs and a fake client.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

import ibis
import pytest
import sqlglot
from ibis.backends.sql.datatypes import BigQueryType

from mesh_platform.contracts.bigquery import RuleReachError, only_port_tables, port_tables, run_sql_rule
from mesh_platform.contracts.bigquery_sql import compile_sql
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.contracts.measure import sql_rule_query
from mesh_platform.contracts.sql_rules import ReadOnlyError
from mesh_platform.specs.contract import load_contract

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
TABLE = "web_orders_with_consent"
# the checkout port's columns as BigQuery types (what dbt-bigquery builds from the same model)
BQ_TYPES = {
    "varchar": "STRING",
    "integer": "INT64",
    "timestamp": "DATETIME",
    "date": "DATE",
    "decimal(10,2)": "NUMERIC(10,2)",
    "decimal(12,2)": "NUMERIC(12,2)",
}


@pytest.fixture(scope="module")
def compiled() -> dict[str, str]:
    contract = load_contract(CHECKOUT)
    obj = contract.schema_object(TABLE)
    table = ibis.table(
        {p.name: BigQueryType.from_string(BQ_TYPES[p.physicalType]) for p in obj.properties},
        name=TABLE,
        database="checkout",
    )
    return compile_sql(compile_contract(contract, TABLE), table, "bigquery")


def test_every_check_query_parses_as_bigquery_sql(compiled):
    assert len(compiled) > 10
    for name, sql in compiled.items():
        parsed = sqlglot.parse(sql, read="bigquery")
        assert len(parsed) == 1 and isinstance(parsed[0], sqlglot.exp.Query), name
        assert '"' not in sql.replace("'\"'", ""), f"{name}: double-quoted identifier in BigQuery SQL"


def test_the_measuring_query_is_one_bigquery_select_over_the_port(compiled):
    sql = compiled["aggregate"]
    parsed = sqlglot.parse_one(sql, read="bigquery")
    tables = {t.sql("bigquery") for t in parsed.find_all(sqlglot.exp.Table)}
    assert tables == {"`checkout`.`web_orders_with_consent` AS `t0`"}
    assert "REGEXP_CONTAINS(`t0`.`order_number`, '^WO-[0-9]{9}$')" in sql
    assert "COUNT(DISTINCT `t0`.`order_line_id`)" in sql
    # BigQuery cannot COUNT(DISTINCT STRUCT): a composite key is a delimited string
    assert "STRUCT" not in sql.upper() and "ARRAY_TO_STRING" in sql


def test_sql_rules_are_transpiled_to_bigquery(compiled):
    sql = compiled["web_orders_with_consent__line_amount__line_amount_matches"]
    # the port's table is read through a projection of the columns the rule names: on BigQuery
    # (no sandbox holding just those) even a `*` in a rule sees no other column
    assert sql == (
        "SELECT COUNT(*) FROM (SELECT `quantity`, `unit_sales_price`, `line_amount` "
        "FROM `checkout`.`web_orders_with_consent`) AS `web_orders_with_consent` "
        "WHERE `line_amount` <> quantity * unit_sales_price"
    )


def test_a_star_in_a_bigquery_rule_sees_only_the_contracts_columns():
    spec = [s for s in compile_contract(load_contract(CHECKOUT), TABLE) if s.rule == "sql"][0]
    star = dataclasses.replace(spec, params=dict(spec.params, query="SELECT count(*) FROM (SELECT * FROM ${table}) x"))
    table = ibis.table(
        {c: "string" for c in [*spec.params["schema_columns"], "undeclared"]}, name=TABLE, database="checkout"
    )
    sql = sql_rule_query(star, table, "bigquery")
    inner = sqlglot.parse_one(sql, read="bigquery").find(sqlglot.exp.Table).parent_select
    assert [c.name for c in inner.expressions] == spec.params["schema_columns"]
    assert "undeclared" not in sql


def test_key_samples_semi_join_the_keys_a_group_by_finds_repeated(compiled):
    """Not a window over every row and column (measure.with_repeated_key): a GROUP BY of the
    key, HAVING more than one row, and the rows whose key is one of those."""
    sql = compiled["web_orders_with_consent__order_line_id__primary_key:sample"]
    assert "OVER" not in sql and "GROUP BY" in sql and "IS NOT DISTINCT FROM" in sql
    assert sql.rstrip().endswith("LIMIT 10")


def test_relationships_retention_and_formats_compile_for_bigquery(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text("""\
apiVersion: v3.2.0
kind: DataContract
id: bq-v1
version: 1.0.0
status: active
slaProperties:
  - {property: retention, value: 2, unit: y, element: t.sold_at}
  - {property: freshness, value: 1, unit: d, element: t.sold_at}
schema:
  - name: t
    properties:
      - {name: customer_id, logicalType: string, relationships: [{to: sales.customers.customers.customer_id}]}
      - {name: day, logicalType: string, logicalTypeOptions: {format: date}}
      - {name: amount, logicalType: number, logicalTypeOptions: {multipleOf: 0.5, exclusiveMinimum: 0}}
      - {name: sold_at, logicalType: timestamp}
""")
    contract = load_contract(file)
    table = ibis.table(
        {"customer_id": "string", "day": "string", "amount": "decimal(10,2)", "sold_at": "timestamp"}, name="t"
    )
    compiled = compile_sql(compile_contract(contract, "t"), table, "bigquery")
    for sql in compiled.values():
        sqlglot.parse_one(sql, read="bigquery")
    assert "SAFE_CAST(`t0`.`day` AS DATE)" in compiled["aggregate"]
    assert "MAX(`t0`.`sold_at`)" in compiled["aggregate"]
    relationship = compiled["t__customer_id__relationship"]
    assert "`sales__customers__customers`" in relationship and "NOT EXISTS" in relationship


# --- sql rules on BigQuery: the same validation, then a dry run before the run ---------------

PORT = ("mesh-prod", "checkout", TABLE)


def ref(project: str, dataset: str, table: str):
    """What `QueryJob.referenced_tables` holds: TableReference-like objects."""
    return SimpleNamespace(project=project, dataset_id=dataset, table_id=table)


@pytest.mark.parametrize(
    ("referenced", "complaint"),
    [
        ([], "reports no table read"),
        ([ref("mesh-prod", "checkout", "internal_model")], "1 table(s) besides the port's"),
        ([ref(*PORT), ref("mesh-prod", "INFORMATION_SCHEMA", "TABLES")], "1 table(s) besides the port's"),
        ([ref("other-project", "checkout", TABLE)], "besides the port's"),
        ([ref("mesh-prod", "risk", TABLE)], "besides the port's"),
    ],
)
def test_a_dry_run_reading_anything_but_the_port_is_refused(referenced, complaint):
    with pytest.raises(RuleReachError, match=re.escape(complaint)) as exc:
        only_port_tables(referenced, {PORT})
    assert "internal_model" not in str(exc.value) and "INFORMATION_SCHEMA" not in str(exc.value)


def test_a_dry_run_reading_only_the_port_passes():
    only_port_tables([ref(*PORT)], {PORT})
    only_port_tables([ref(*PORT), ref(*PORT)], {PORT})  # a self-join


def test_the_port_tables_are_those_behind_the_checked_relation():
    table = ibis.table({"a": "int64", "day": "date"}, name=TABLE, catalog="mesh-prod", database="checkout")
    assert port_tables(table, "fallback") == {PORT}
    window = table.filter(table.day >= ibis.date("2026-01-01"))
    assert port_tables(window, "fallback") == {PORT}
    assert port_tables(ibis.table({"a": "int64"}, name="t", database="d"), "fallback") == {("fallback", "d", "t")}


class FakeClient:
    """A BigQuery client that answers dry runs with `referenced` and records every query."""

    project = "mesh-prod"

    def __init__(self, referenced):
        self.referenced = referenced
        self.calls: list[tuple[str, bool]] = []

    def query(self, sql, job_config):
        self.calls.append((sql, bool(job_config.dry_run)))
        if job_config.dry_run:
            return SimpleNamespace(referenced_tables=self.referenced)
        return SimpleNamespace(result=lambda timeout, max_results: [{"n": 3}])


def _port_table():
    return ibis.table(
        {"line_amount": "decimal(12,2)", "quantity": "int64", "unit_sales_price": "decimal(10,2)"},
        name=TABLE,
        catalog="mesh-prod",
        database="checkout",
    )


def test_a_rule_runs_on_bigquery_only_after_its_dry_run_shows_only_the_port():
    client = FakeClient([ref(*PORT)])
    sql = "SELECT COUNT(*) FROM `mesh-prod`.`checkout`.`web_orders_with_consent`"
    assert run_sql_rule(_port_table(), sql, client=client) == [(3,)]
    assert client.calls == [(sql, True), (sql, False)]  # the same SQL, dry run first


def test_a_rule_whose_dry_run_reaches_further_never_runs():
    client = FakeClient([ref(*PORT), ref("mesh-prod", "checkout", "internal_model")])
    with pytest.raises(RuleReachError):
        run_sql_rule(_port_table(), "SELECT 1", client=client)
    assert [dry for _, dry in client.calls] == [True]


def test_bigquery_sql_is_built_from_the_validated_rule(compiled):
    contract = load_contract(CHECKOUT)
    (spec,) = [s for s in compile_contract(contract, TABLE) if s.key.endswith("line_amount_matches")]
    hostile = dict(
        spec.params,
        query="SELECT (SELECT count(*) FROM duckdb_tables) FROM (WITH duckdb_tables AS "
        "(SELECT 1 AS x) SELECT x FROM duckdb_tables) t",
    )
    with pytest.raises(ReadOnlyError, match="duckdb_tables is not allowed"):
        sql_rule_query(dataclasses.replace(spec, params=hostile), _port_table(), "bigquery")
    window = _port_table().filter(ibis._.quantity > 0)  # a partition window: a subquery over the port
    sql = sql_rule_query(spec, window, "bigquery")
    tables = {t.sql("bigquery") for t in sqlglot.parse_one(sql, read="bigquery").find_all(sqlglot.exp.Table)}
    assert tables == {"`mesh-prod`.`checkout`.`web_orders_with_consent` AS `t0`"}


def test_a_rule_sampling_the_port_cannot_be_narrowed_on_bigquery_and_is_refused():
    (spec,) = [s for s in compile_contract(load_contract(CHECKOUT), TABLE) if s.key.endswith("line_amount_matches")]
    sampled = dataclasses.replace(spec, params=dict(spec.params, query="SELECT count(*) FROM ${table} TABLESAMPLE 10%"))
    with pytest.raises(ReadOnlyError, match="cannot sample"):
        sql_rule_query(sampled, _port_table(), "bigquery")
