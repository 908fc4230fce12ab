"""The same compiled checks, built for BigQuery without a connection.

BigQuery cannot be reached from here, so these tests stop at the SQL: every query the
checks would run (the one measuring aggregate, each sql rule and relationship, each
failing-row sample) is compiled by ibis' BigQuery compiler for an unbound table with
the port's schema and must parse under sqlglot's BigQuery dialect.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest
import sqlglot
from ibis.backends.sql.datatypes import BigQueryType

from mesh_platform.contracts.bigquery import compile_sql
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.specs.contract import load_contract

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
TABLE = "web_orders_with_consent"
# the checkout port's columns as BigQuery types (what dbt-bigquery builds from the same model)
BQ_TYPES = {"varchar": "STRING", "integer": "INT64", "timestamp": "DATETIME", "date": "DATE",
            "decimal(10,2)": "NUMERIC(10,2)", "decimal(12,2)": "NUMERIC(12,2)"}


@pytest.fixture(scope="module")
def compiled() -> dict[str, str]:
    contract = load_contract(CHECKOUT)
    obj = contract.schema_object(TABLE)
    table = ibis.table({p.name: BigQueryType.from_string(BQ_TYPES[p.physicalType]) for p in obj.properties},
                       name=TABLE, database="checkout")
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
    assert sql == ("SELECT COUNT(*) FROM `checkout`.`web_orders_with_consent` "
                   "WHERE `line_amount` <> quantity * unit_sales_price")


def test_samples_use_bigquery_window_syntax(compiled):
    sql = compiled["web_orders_with_consent__order_line_id__primary_key:sample"]
    assert "QUALIFY" in sql or "OVER" in sql
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
    table = ibis.table({"customer_id": "string", "day": "string", "amount": "decimal(10,2)",
                        "sold_at": "timestamp"}, name="t")
    compiled = compile_sql(compile_contract(contract, "t"), table, "bigquery")
    for sql in compiled.values():
        sqlglot.parse_one(sql, read="bigquery")
    assert "SAFE_CAST(`t0`.`day` AS DATE)" in compiled["aggregate"]
    assert "MAX(`t0`.`sold_at`)" in compiled["aggregate"]
    relationship = compiled["t__customer_id__relationship"]
    assert "`sales__customers__customers`" in relationship and "NOT EXISTS" in relationship
