"""`mesh contract test`: the checkout contract's checks outside Dagster, on a hand-built
relation in the checkout DuckDB file (no dbt run needed) or on a published snapshot."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from mesh_platform import settings
from mesh_platform.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
PORT = ("checkout", "web_orders_with_consent", "web_orders_with_consent")

ROWS_SQL = """
select 'WO-' || lpad(i::varchar, 9, '0') || '-1' as order_line_id,
       'WO-' || lpad(i::varchar, 9, '0') as order_number,
       1::integer as line_number,
       'I' || (i % 7) as item_id,
       'Books' as item_category,
       'C' || lpad(i::varchar, 8, '0') as billing_customer_id,
       'C' || lpad(i::varchar, 8, '0') as shipping_customer_id,
       ((current_date - 1)::timestamp + to_hours(i))::timestamp as sold_at,  -- yesterday: fresh data
       current_date - 1 as sold_date,
       current_date + 7 as ship_date,
       2::integer as quantity,
       10.00::decimal(10,2) as unit_list_price,
       9.50::decimal(10,2) as unit_sales_price,
       19.00::decimal(12,2) as line_amount
from range(1, 21) r(i)
"""


class Warehouse:
    """The checkout DuckDB file; each statement in its own connection, closed before the CLI
    opens the file read-only (DuckDB refuses mixed configurations in one process)."""

    def __init__(self, path: Path):
        self.path = path

    def execute(self, sql: str) -> None:
        with duckdb.connect(str(self.path)) as con:
            con.execute(sql)


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Warehouse:
    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path / "data"))
    path = settings.warehouse_path("checkout")
    path.parent.mkdir(parents=True)
    wh = Warehouse(path)
    wh.execute(f"create table main.web_orders_with_consent as {ROWS_SQL}")
    return wh


def mesh(_warehouse: Warehouse | None, *args: str):
    return CliRunner().invoke(cli, ["contract", "test", str(CONTRACT), *args], catch_exceptions=False)


def test_clean_relation_passes_every_check(warehouse):
    result = mesh(warehouse)
    assert result.exit_code == 0, result.output
    assert "web_orders_with_consent__order_number__pattern" in result.output
    assert "0 failed, 0 warnings" in result.output


def test_a_violated_error_rule_fails_with_count_and_masked_sample(warehouse):
    warehouse.execute("update main.web_orders_with_consent set quantity = 0 where order_number = 'WO-000000003'")
    result = mesh(warehouse, "--format", "json")
    assert result.exit_code == 1
    rows = {r["key"]: r for r in json.loads(result.output)["tables"]["web_orders_with_consent"]}
    failed = {k for k, r in rows.items() if r["status"] != "passed"}
    # quantity 0 breaks the minimum, and the sql rule line_amount = quantity x unit price
    assert failed == {
        "web_orders_with_consent__quantity__minimum",
        "web_orders_with_consent__line_amount__line_amount_matches",
    }
    minimum = rows["web_orders_with_consent__quantity__minimum"]
    assert minimum["severity"] == "error" and minimum["failing_count"] == 1
    assert minimum["failing_ratio"] == pytest.approx(1 / 20)
    (sample,) = minimum["sample"]
    assert sample["order_number"] == "WO-000000003" and sample["quantity"] == 0
    assert sample["billing_customer_id"] == "***"  # restricted / PII


def test_a_failed_warning_is_reported_but_exits_zero(warehouse):
    warehouse.execute(
        "update main.web_orders_with_consent set item_category = 'Gadgets' where line_number = 1 "
        "and order_number in ('WO-000000001', 'WO-000000002')"
    )
    result = mesh(warehouse)
    assert result.exit_code == 0, result.output
    assert "web_orders_with_consent__item_category__invalid_values" in result.output
    assert "0 failed, 1 warnings" in result.output


def test_old_data_warns_on_the_sla_time_column(warehouse):
    """The contract names sold_date as its SLA element: data whose newest day is older than the
    24h window warns (severity warning), with the newest value it measured."""
    warehouse.execute(
        "update main.web_orders_with_consent set sold_date = current_date - 3, "
        "sold_at = (current_date - 3)::timestamp, ship_date = current_date + 1"
    )
    result = mesh(warehouse, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in json.loads(result.output)["tables"]["web_orders_with_consent"]}
    freshness = rows["web_orders_with_consent__sold_date__freshness"]
    assert freshness["status"] != "passed" and "newest sold_date is" in freshness["message"]
    assert {k for k, r in rows.items() if r["status"] != "passed"} == {"web_orders_with_consent__sold_date__freshness"}


def test_junit_output(warehouse):
    warehouse.execute(
        "update main.web_orders_with_consent set order_number = 'X-1' where order_line_id = 'WO-000000005-1'"
    )
    result = mesh(warehouse, "--format", "junit")
    assert result.exit_code == 1
    suite = ET.fromstring(result.output.split("?>", 1)[1]).find("testsuite")
    assert suite.get("failures") == "1"
    failing = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failing == ["web_orders_with_consent__order_number__pattern"]


def test_published_snapshot_is_checked_instead_of_the_built_relation(warehouse):
    port_dir = settings.published_dir(*PORT)
    port_dir.mkdir(parents=True)
    warehouse.execute(f"copy ({ROWS_SQL} union all {ROWS_SQL}) to '{port_dir / 'current.parquet'}' (format parquet)")
    assert mesh(warehouse).exit_code == 0  # the built relation is clean
    result = mesh(warehouse, "--published", "--format", "json")
    assert result.exit_code == 1
    rows = {r["key"]: r for r in json.loads(result.output)["tables"]["web_orders_with_consent"]}
    assert rows["web_orders_with_consent__order_line_id__primary_key"]["failing_count"] == 40
    assert json.loads(result.output)["where"] == "published snapshot"


def test_unreachable_or_missing_relations_are_usage_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path / "data"))
    missing = mesh(None)
    assert missing.exit_code == 2 and "build the domain first" in missing.output
    prod = mesh(None, "--server", "prod")
    assert prod.exit_code == 2 and "bigquery" in prod.output.lower()
    unpublished = mesh(None, "--published")
    assert unpublished.exit_code == 2 and "has not been published" in unpublished.output


HOSTILE_RULES = [
    # the table count of the domain's file, through a CTE that shadows a catalog view elsewhere
    "SELECT (SELECT count(*) FROM duckdb_tables) FROM (WITH duckdb_tables AS (SELECT 1 AS x) "
    "SELECT x FROM duckdb_tables) t",
    # one character of a filesystem path per rule
    "SELECT ascii(substr(current_setting('allowed_paths')[1], 3, 1)) FROM ${table} LIMIT 1",
]


@pytest.mark.parametrize("query", HOSTILE_RULES)
def test_a_rule_reaching_beyond_the_port_is_refused_before_anything_runs(warehouse, tmp_path, query):
    copy = tmp_path / "hostile.odcs.yaml"
    text = CONTRACT.read_text()
    old = "query: SELECT count(*) FROM ${table} WHERE ship_date < sold_date"
    assert old in text
    copy.write_text(text.replace(old, "query: " + json.dumps(query)))
    result = CliRunner().invoke(cli, ["contract", "test", str(copy), "--format", "json"])
    assert result.exit_code == 2, result.output
    line = next(i for i, row in enumerate(copy.read_text().splitlines(), 1) if query[:30] in row)
    assert f"{copy}:{line}" in result.output and ".query:" in result.output
    assert "allowed_paths" not in result.output.split(".query:", 1)[1]  # the rule's values are not quoted back
