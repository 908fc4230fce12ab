"""Lifecycle where people decide: a deprecated port's state, sunset, replacement and access mode
on the product page (headless Chromium), in `mesh catalog show`, `mesh agreement list` and
GraphQL; a consumer's agreement on it flagged with the days left; the product's Dagster link on
the current version. Spec-only (no run): the example mesh deprecates checkout's v1 port
(sunset 2027-02-21, replaced by v2); the date is injected (MESH_TODAY / `today=`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from mesh_platform.catalog.build import build_catalog
from mesh_platform.catalog.graphql_api import execute
from mesh_platform.cli.main import cli
from mesh_platform.lifecycle.catalog import days_left, port_facts
from mesh_platform.mesh import Mesh

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = "checkout.web_orders_with_consent"
V1, V2 = f"{CHECKOUT}.web_orders_with_consent", f"{CHECKOUT}.web_orders_with_consent_v2"
CONSUMER = "recommendations.articles_bought_together"
AGREEMENT = f"{CONSUMER}.web_orders_with_consent"
TODAY = date(2026, 12, 2)  # 81 days before the sunset on 2027-02-21


def mesh(*args: str, today: date = TODAY):
    return CliRunner().invoke(cli, list(args), env={"MESH_TODAY": today.isoformat()}, catch_exceptions=False)


@pytest.fixture
def mesh_root(tmp_path, monkeypatch) -> Path:
    """A copy of every domain (YAML only) as the repository root, so a test may change it."""
    shutil.copytree(ROOT / "domains", tmp_path / "domains", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "workspace.yaml", tmp_path / "workspace.yaml")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    return tmp_path


def test_port_facts_count_the_days_to_sunset():
    view = Mesh.load()
    assert port_facts(view.port(V1), TODAY) == {
        "state": "deprecated",
        "access": "approval-required",
        "deprecation_date": "2026-11-21",
        "sunset_date": "2027-02-21",
        "replaced_by": V2,
        "days_to_sunset": 81,
        "days_left": "81 days left",
    }
    assert port_facts(view.port(V2), TODAY) == {
        "state": "active",
        "access": "approval-required",
        "deprecation_date": None,
        "sunset_date": None,
        "replaced_by": None,
        "days_to_sunset": None,
        "days_left": "",
    }
    assert port_facts(view.port(V1), date(2027, 2, 20))["days_left"] == "1 day left"
    assert port_facts(view.port(V1), date(2027, 2, 21))["days_left"] == "sunset today"
    assert port_facts(view.port(V1), date(2027, 2, 24))["days_to_sunset"] == -3
    assert days_left(-1) == "sunset passed 1 day ago" and days_left(-3) == "sunset passed 3 days ago"


def test_agreement_list_shows_the_port_state_and_flags_the_consumer(mesh_root):
    listed = {a["id"]: a for a in json.loads(mesh("agreement", "list", "--format", "json").output)}
    assert listed[AGREEMENT]["status"] == "active" and listed[AGREEMENT]["provider_port"] == V1
    assert listed[AGREEMENT]["port"] == {
        "state": "deprecated",
        "access": "approval-required",
        "deprecation_date": "2026-11-21",
        "sunset_date": "2027-02-21",
        "replaced_by": V2,
        "days_to_sunset": 81,
        "days_left": "81 days left",
    }
    assert listed["risk.entity_ratings.current_tenants"]["port"]["access"] == "open"
    result = mesh("agreement", "list")
    assert result.exit_code == 0, result.output
    assert "port state" in result.output and "deprecated, sunset" in result.output
    flags = [line for line in result.output.splitlines() if line.startswith("deprecated port")]
    assert flags == [
        f"deprecated port {CONSUMER} (Recommendations Team (team:recommendations, "
        f"reco-data@example.com)): agreement {AGREEMENT} reads {V1}, deprecated, sunset 2027-02-21 "
        f"(81 days left); move to {V2}"
    ]
    # the days follow the injected date
    assert "(sunset passed 3 days ago)" in mesh("agreement", "list", today=date(2027, 2, 24)).output
    # an active port is not flagged, and a domain filter keeps only its agreements
    assert mesh("product", "activate", V1).exit_code == 0
    after = mesh("agreement", "list")
    assert "deprecated port" not in after.output and "deprecated" not in after.output
    assert "recommendations" not in mesh("agreement", "list", "--domain", "risk").output


def test_catalog_has_port_lifecycle_and_flags_the_consumers_agreement(dagster_home):
    catalog = build_catalog(dg.DagsterInstance.get(), today=TODAY)
    product = catalog.get(CHECKOUT)
    v1, v2 = (next(p for p in product.ports if p.address == a) for a in (V1, V2))
    assert (
        v1.lifecycle.state,
        v1.lifecycle.sunset_date,
        v1.lifecycle.replaced_by,
        v1.lifecycle.access,
        v1.lifecycle.days_to_sunset,
    ) == ("deprecated", "2027-02-21", V2, "approval-required", 81)
    assert (v2.lifecycle.state, v2.lifecycle.sunset_date, v2.lifecycle.replaced_by) == ("active", None, None)
    # "Open in Dagster" opens the current version, not the deprecated one
    assert product.dagster_url == v2.dagster_url != v1.dagster_url
    assert product.dagster_url.endswith("/assets/checkout/web_orders_with_consent/web_orders_with_consent_v2")
    # the consumer's agreement carries the deprecation, with the days left on the catalog's date
    (held,) = [e for e in catalog.get(CONSUMER).agreements if e.consumer == CONSUMER]
    assert held.port == V1 and held.agreement_status == "active"
    assert held.port_lifecycle.deprecated and held.port_lifecycle.days_left == "81 days left"
    later = build_catalog(dg.DagsterInstance.get(), today=date(2027, 2, 1))
    (held,) = later.get(CONSUMER).agreements
    assert held.port_lifecycle.days_to_sunset == 20


def test_graphql_answers_port_lifecycle(dagster_home):
    catalog = build_catalog(dg.DagsterInstance.get(), today=TODAY)
    result = execute(
        """{ product(id: "checkout.web_orders_with_consent") { dagsterUrl
        ports { address lifecycle { state access sunsetDate replacedBy daysToSunset daysLeft } } }
      consumer: product(id: "recommendations.articles_bought_together") {
        agreements { port portLifecycle { state sunsetDate daysLeft replacedBy } } } }""",
        lambda: catalog,
        dg.DagsterInstance.get,
    )
    assert result.errors is None, result.errors
    ports = {p["address"]: p["lifecycle"] for p in result.data["product"]["ports"]}
    assert ports[V1] == {
        "state": "deprecated",
        "access": "approval-required",
        "sunsetDate": "2027-02-21",
        "replacedBy": V2,
        "daysToSunset": 81,
        "daysLeft": "81 days left",
    }
    assert ports[V2]["state"] == "active" and ports[V2]["sunsetDate"] is None
    assert result.data["product"]["dagsterUrl"].endswith("/web_orders_with_consent_v2")
    assert result.data["consumer"]["agreements"] == [
        {
            "port": V1,
            "portLifecycle": {
                "state": "deprecated",
                "sunsetDate": "2027-02-21",
                "daysLeft": "81 days left",
                "replacedBy": V2,
            },
        }
    ]


def test_catalog_show_tells_state_sunset_replacement_and_access(dagster_home):
    result = mesh("catalog", "show", CHECKOUT)
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "state deprecated since 2026-11-21" in lines
    assert "sunset 2027-02-21 (81 days left)" in lines
    assert f"replaced by {V2}" in lines
    assert lines.count("access approval-required") == 2  # both ports: restricted columns
    assert "state active" in lines
    assert "dagster http://127.0.0.1:3000/assets/checkout/web_orders_with_consent/web_orders_with_consent_v2" in lines
    consumer = " ".join(mesh("catalog", "show", CONSUMER).output.split())
    assert f"deprecated port agreement on {V1} (active): sunset 2027-02-21 (81 days left); move to {V2}" in consumer


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _PortSections(HTMLParser):
    """The text of each output port's section, of its lifecycle line, and the agreement flags."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.ports: dict[str, str] = {}
        self.lifecycle: dict[str, str] = {}
        self.flags: list[str] = []
        self.port = None
        self.capture: str | None = None
        self.depth = 0
        self.open_in_dagster: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "a" and "dagster" in classes:
            self.open_in_dagster.append(attrs["href"])
        if tag == "section" and "port" in classes:
            self.port = attrs["id"].removeprefix("port-")
            self.ports[self.port] = ""
        if self.capture is None and ("port-lifecycle" in classes or "agreement-deprecated" in classes):
            self.capture, self.depth = ("flag" if "agreement-deprecated" in classes else "lifecycle"), 0
            if self.capture == "flag":
                self.flags.append("")
        elif self.capture is not None:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.capture is not None:
            if self.depth == 0:
                self.capture = None
            else:
                self.depth -= 1
        if tag == "section":
            self.port = None

    def handle_data(self, data):
        if self.port:
            self.ports[self.port] += data
        if self.capture == "lifecycle" and self.port:
            self.lifecycle[self.port] = self.lifecycle.get(self.port, "") + data
        elif self.capture == "flag":
            self.flags[-1] += data


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"), reason="headless Chromium not installed (.ci/run installs it)"
)
def test_product_page_shows_state_sunset_and_replacement_in_headless_chromium(dagster_home, tmp_path):
    """The static site, written with the positional DIR, opened in Chromium: each port's section
    says its state; the v1 section its sunset, days left and replacement; the consumer's page
    flags its agreement."""
    assert _chromium(), "CI must have Chromium: .ci/run installs Debian's chromium package"
    site = tmp_path / "site"
    result = mesh("catalog", "build", str(site))
    assert result.exit_code == 0, result.output

    def dom(page: str) -> _PortSections:
        html = subprocess.run(
            [
                _chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--window-size=1400,900",
                "--virtual-time-budget=3000",
                "--dump-dom",
                f"file://{site}/products/{page}.html",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        parsed = _PortSections()
        parsed.feed(html)
        return parsed

    page = dom(CHECKOUT)
    v1 = " ".join(page.lifecycle["web_orders_with_consent"].split())
    assert v1 == (
        f"deprecated since 2026-11-21 · sunset 2027-02-21 (81 days left) · replaced by {V2} · access approval-required"
    )
    assert " ".join(page.lifecycle["web_orders_with_consent_v2"].split()) == "active · access approval-required"
    assert page.open_in_dagster == [
        "http://127.0.0.1:3000/assets/checkout/web_orders_with_consent/web_orders_with_consent_v2"
    ]
    consumer = dom(CONSUMER)
    assert [" ".join(f.split()) for f in consumer.flags] == [
        f"{V1} is deprecated: sunset 2027-02-21 (81 days left); move to {V2}"
    ]


def test_consumer_asset_metadata_flags_its_agreement_on_a_deprecated_port():
    from mesh_platform.dagster_wiring.lifecycle_metadata import lifecycle_metadata

    view = Mesh.load()
    (port,) = view.product(CONSUMER).ports
    (held,) = lifecycle_metadata(port, view, TODAY)["mesh/input_agreements"].value
    assert held["agreement"] == AGREEMENT and held["status"] == "active"
    assert (held["provider_port_state"], held["sunset_date"], held["replaced_by"]) == ("deprecated", "2027-02-21", V2)
    ratings = view.product("brokerage.tenant_risk_exposure").ports[0]
    (held,) = lifecycle_metadata(ratings, view, TODAY)["mesh/input_agreements"].value
    assert "sunset_date" not in held  # risk's ratings port is active
