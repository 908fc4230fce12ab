"""Small things the catalog said that were not true: a cost of "0.00 USD" where nothing is
declared, USD added to EUR, `mesh catalog show` promising terms and schema without printing
them, and `mesh catalog build DIR` refusing its DIR. Spec-only: no run needed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from mesh_platform.catalog.build import build_catalog
from mesh_platform.catalog.cost import describe_totals, money, per_currency
from mesh_platform.catalog.graphql_api import execute
from mesh_platform.catalog.model import Expense
from mesh_platform.catalog.pages import render_index, render_product
from mesh_platform.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = "checkout.web_orders_with_consent"
DESCRIPTOR = "domains/checkout/products/web_orders_with_consent/dataproduct.yaml"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _expense(monthly: float, currency: str) -> Expense:
    return Expense(name="x", description="", category="other", monthly=monthly, currency=currency)


def test_amounts_in_different_currencies_are_never_added():
    declared = [_expense(120, "USD"), _expense(80, "EUR"), _expense(30, "USD")]
    assert per_currency(declared) == {"USD": 150.0, "EUR": 80.0}
    assert per_currency(declared, measured=0.25, currency="EUR") == {"USD": 150.0, "EUR": 80.25}
    assert per_currency([], measured=0.0031, currency="USD") == {"USD": 0.0031}  # not rounded away
    assert money(0.0031, "USD") == "< 0.01 USD" and money(0, "USD") == "0.00 USD"
    assert money(1920, "USD") == "1,920.00 USD"


@pytest.fixture
def eur_expense(tmp_path, monkeypatch, dagster_home) -> Path:
    """Checkout (copied as the whole mesh) with its support expense declared in EUR."""
    shutil.copytree(ROOT / "domains" / "checkout", tmp_path / "domains" / "checkout")
    shutil.copytree(ROOT / "governance", tmp_path / "governance")
    descriptor = tmp_path / DESCRIPTOR
    text = descriptor.read_text()
    assert text.count("cost: 1800, currency: USD") == 1
    descriptor.write_text(text.replace("cost: 1800, currency: USD", "cost: 1800, currency: EUR"))
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    return tmp_path


def test_cost_in_two_currencies_is_shown_per_currency(eur_expense):
    catalog = build_catalog(dg.DagsterInstance.get())
    cost = catalog.get(CHECKOUT).cost
    assert cost.declared_monthly == {"USD": 120.0, "EUR": 1800.0}
    assert cost.totals == {"USD": 120.0, "EUR": 1800.0}  # nothing run, nothing stored: measured 0
    assert cost.monthly_total is None  # no single number: it would add USD to EUR
    assert describe_totals(cost) == "120.00 USD + 1,800.00 EUR"
    page = render_product(catalog, catalog.get(CHECKOUT))
    assert '<span class="total">120.00 USD + 1,800.00 EUR / month</span>' in page
    assert "1,920.00" not in page and "per currency: no exchange rate is declared" in page
    assert "120.00 USD + 1,800.00 EUR" in render_index(catalog, catalog.products)
    listed = " ".join(run("catalog", "list").output.split())
    assert "120.00 USD + 1,800.00 EUR" in listed and "1,920" not in listed
    data = execute(
        '{ product(id: "checkout.web_orders_with_consent") { cost { totals monthlyTotal declaredMonthly } } }',
        lambda: catalog,
        dg.DagsterInstance.get,
    ).data
    assert data["product"]["cost"] == {
        "totals": {"USD": 120.0, "EUR": 1800.0},
        "monthlyTotal": None,
        "declaredMonthly": {"USD": 120.0, "EUR": 1800.0},
    }


def test_no_declared_cost_says_none_declared(dagster_home):
    catalog = build_catalog(dg.DagsterInstance.get())
    for product in catalog.products:
        if product.cost.declared:
            continue
        assert product.cost.declared_monthly == {}
        assert describe_totals(product.cost) == "none declared"  # nothing run or stored either
        page = render_product(catalog, product)
        assert '<span class="total">none declared / month</span>' in page
        assert "Declared expenses" in page and "0.00 USD / month" not in page
    assert {p.id for p in catalog.products if not p.cost.declared} == {
        "brokerage.tenant_risk_exposure",
        "recommendations.articles_bought_together",
        "risk.entity_ratings",
    }
    # measured cost is shown beside "none declared", never as a declared 0.00
    product = catalog.get("risk.entity_ratings")
    product.cost.totals = {"USD": 0.0042}
    assert describe_totals(product.cost) == "none declared (measured < 0.01 USD)"
    listed = " ".join(run("catalog", "list").output.split())
    assert listed.count("│ none declared │") == 3 and not re.search(r"(?<![\d,.])0\.00 USD", listed)


def test_catalog_show_prints_terms_and_schema(dagster_home):
    result = run("catalog", "show", CHECKOUT)
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    # terms of each port (the contract's description.usage / limitations, price, noticePeriod)
    assert lines.count("billing 1000 USD per month") == 2 and lines.count("notice period P3M") == 2
    assert "limitations Filtered to consented orders: not for financial KPIs; not real-time." in lines
    assert "usage Analytics and data science; customers consented." in lines
    # the schema of each port: v1 has shipping_customer_id, v2 dropped it
    assert "schema of web_orders_with_consent" in lines and "schema of web_orders_with_consent_v2" in lines
    assert (
        "order_line_id (PK) varchar required, unique, pattern: ^WO-[0-9]{9}-[0-9]+$ Order number and line "
        "number; identifies an order line." in lines
    )
    assert (
        sum(line.startswith("billing_customer_id varchar required") and "restricted PII" in line for line in lines) == 2
    )
    assert sum(line.startswith("shipping_customer_id varchar") for line in lines) == 1
    assert "cost/month 1,920.00 USD; declared 1,920.00 USD, compute 0.00 USD" in " ".join(lines)


def test_catalog_build_takes_its_folder_as_an_argument(dagster_home, tmp_path):
    result = run("catalog", "build", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "site" / "api" / "products" / f"{CHECKOUT}.json").read_text())["id"] == CHECKOUT
    assert (tmp_path / "site" / "index.html").exists()
    same = run("catalog", "build", str(tmp_path / "site"), "--out", str(tmp_path / "site"))
    assert same.exit_code == 0, same.output
    both = run("catalog", "build", str(tmp_path / "a"), "--out", str(tmp_path / "b"))
    assert both.exit_code == 2 and "two folders given" in both.output and "Traceback" not in both.output
    neither = run("catalog", "build")
    assert neither.exit_code == 2 and "mesh catalog build DIR" in neither.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
