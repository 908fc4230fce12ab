"""New products from existing ones, end to end: `mesh new product` from checkout's orders port,
the provider approves the agreement, `mesh materialize` publishes it with its contract passed;
and a new domain loads as a code location."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from click.testing import CliRunner
from conftest import write_instance_yaml
from sample_days import last_days

from mesh_platform import settings
from mesh_platform.cli.main import cli
from mesh_platform.cli.workspace import load_module
from mesh_platform.published_layout import live_location

ROOT = Path(__file__).resolve().parent.parent
ORDERS = "checkout.web_orders_with_consent.web_orders_with_consent"


def mesh(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def root(mesh_data, tmp_path_factory):
    """A copy of the repository (YAML, dbt projects, workspace) with checkout's port published."""
    tmp = tmp_path_factory.mktemp("scaffold")
    shutil.copytree(ROOT / "domains", tmp / "domains", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "dbt_projects", tmp / "dbt_projects", ignore=shutil.ignore_patterns("logs"))
    shutil.copy(ROOT / "workspace.yaml", tmp / "workspace.yaml")
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", tmp / "mesh_platform" / "dbt_macros")  # macro-paths
    shutil.copytree(mesh_data / "landing" / "checkout", tmp / "data" / "landing" / "checkout")
    write_instance_yaml(tmp / "home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MESH_ROOT", str(tmp))
        mp.setenv("MESH_DATA_DIR", str(tmp / "data"))
        mp.setenv("DAGSTER_HOME", str(tmp / "home"))
        # the last week of orders is enough to build on (a full refresh is five years of days)
        result = mesh(
            "materialize", "--domain", "checkout", "--product", "web_orders_with_consent", "--partition", last_days(7)
        )
        assert result.exit_code == 0, result.output
        yield tmp


def test_a_product_scaffolded_from_the_orders_port_validates_then_publishes_once_approved(root):
    result = mesh(
        "new",
        "product",
        "recommendations.daily_web_sales",
        "--from",
        ORDERS,
        "--template",
        "aggregate",
        "--purpose",
        "Daily web sales volume to plan the size of marketing email campaigns",
    )
    assert result.exit_code == 0, result.output
    contract = yaml.safe_load(
        (root / "domains/recommendations/products/daily_web_sales/contracts/daily_web_sales.odcs.yaml").read_text()
    )
    columns = {p["name"]: p for p in contract["schema"][0]["properties"]}
    assert columns["sold_date"]["logicalType"] == "date" and columns["sold_date"]["primaryKey"] is True
    assert columns["total_line_amount"]["physicalType"] == "decimal(38,2)"
    assert "billing_customer_id" not in columns  # restricted columns are not aggregated into the mart

    # Valid at once, except the agreement: pending until checkout approves it.
    result = mesh("validate", "--domain", "recommendations")
    assert result.exit_code == 1
    reported = [line for line in result.output.splitlines() if line.startswith(("error", "pending"))]
    assert len(reported) == 1 and reported[0].startswith("pending ") and "Checkout Team" in reported[0], result.output

    assert mesh("agreement", "approve", "recommendations.daily_web_sales.web_orders_with_consent").exit_code == 0
    result = mesh("validate", "--domain", "recommendations")
    assert result.exit_code == 0, result.output

    result = mesh("materialize", "--domain", "recommendations", "--product", "daily_web_sales")
    assert result.exit_code == 0, result.output
    published = settings.published_dir("recommendations", "daily_web_sales", "daily_web_sales") / "current.parquet"
    assert published.exists()
    orders = live_location(settings.published_dir(*ORDERS.split(".")))  # the daily-partitioned port's glob
    expected = duckdb.sql(
        f"select count(distinct sold_date), sum(line_amount) from read_parquet('{orders}')"
    ).fetchall()[0]
    got = duckdb.sql(f"select count(*), sum(total_line_amount) from read_parquet('{published}')").fetchall()[0]
    assert got == expected
    # Its contract ran and passed: every check of the new port is in the run's outcomes, passed.
    # Read the outcome table's rows (domain | kind | key | outcome | detail), not Dagster's log lines,
    # which also mention the checks ("Type check passed", check evaluations) and come in any order.
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]] for line in result.output.splitlines() if line.startswith("│")
    ]
    checks = {row[2]: row[3] for row in rows if len(row) == 5 and row[1] == "check"}
    assert any(name.startswith("daily_web_sales__") for name in checks), result.output
    assert all(outcome == "passed" for outcome in checks.values()), checks
    event = dg.DagsterInstance.get().get_latest_materialization_event(
        dg.AssetKey(["recommendations", "daily_web_sales", "daily_web_sales"])
    )
    assert event is not None and event.asset_materialization.metadata["published_path"].value == str(published)


def test_a_new_domain_loads_as_a_code_location(root):
    result = mesh("new", "domain", "marketing", "--team", "Marketing Team", "--owner", "marketing-data@example.com")
    assert result.exit_code == 0, result.output
    workspace = yaml.safe_load((root / "workspace.yaml").read_text())
    entry = workspace["load_from"][-1]["python_file"]
    assert entry == {
        "relative_path": "domains/marketing/definitions.py",
        "location_name": "marketing",
        "working_directory": ".",
    }
    profiles = yaml.safe_load((root / "dbt_projects/marketing/profiles.yml").read_text())
    assert set(profiles["marketing"]["outputs"]) == {"dev", "prod"}

    result = mesh(
        "new",
        "product",
        "marketing.consented_web_orders",
        "--from",
        ORDERS,
        "--purpose",
        "Target campaigns at customers who consented to analytical use",
    )
    assert result.exit_code == 0, result.output
    assert mesh("agreement", "approve", "marketing.consented_web_orders.web_orders_with_consent").exit_code == 0
    assert mesh("prepare", "--domain", "marketing").exit_code == 0
    defs = load_module(root / entry["relative_path"], "loc_marketing_scaffolded").defs
    specs = {
        spec.key: spec
        for assets in defs.assets
        for spec in ([assets] if isinstance(assets, dg.AssetSpec) else assets.specs)
    }
    port = specs[dg.AssetKey(["marketing", "consented_web_orders", "consented_web_orders"])]
    assert port.group_name == "marketing" and port.owners == ["marketing-data@example.com"]
    upstream = {dep.asset_key for spec in specs.values() for dep in spec.deps}
    assert dg.AssetKey(ORDERS.split(".")) in upstream  # one lineage graph with checkout
    assert "marketing__lifecycle" in {s.name for s in defs.sensors}
