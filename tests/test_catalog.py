"""The mesh catalog against a materialised mesh: search from the CLI and the API returns exactly
the right products; quality, cost and usage equal what the instance and the disk say; the pages
and the mesh map render in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
import requests
import yaml
from catalog_server import serve_catalog
from click.testing import CliRunner

from mesh_platform import settings
from mesh_platform.catalog.build import build_catalog
from mesh_platform.catalog.observed import iso
from mesh_platform.cli.main import cli
from mesh_platform.cli.materialize import materialize_products

ROOT = Path(__file__).resolve().parent.parent
ALL = {
    "brokerage.tenancy_analytics",
    "brokerage.tenant_risk_exposure",
    "checkout.web_orders_with_consent",
    "recommendations.articles_bought_together",
    "risk.entity_ratings",
}
CHECKOUT = "checkout.web_orders_with_consent"


def catalog_cli(*args: str) -> list[dict] | dict:
    result = CliRunner().invoke(cli, ["catalog", *args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def ids(products: list[dict]) -> set[str]:
    return {p["id"] for p in products}


# What each search must return, and why (from the descriptors and contracts under domains/).
SEARCHES = [
    (["list", "--domain", "brokerage"], {"brokerage.tenancy_analytics", "brokerage.tenant_risk_exposure"}),
    (["list", "--owner", "risk-data@example.com"], {"risk.entity_ratings"}),
    (["list", "--owner", "Brokerage Team"], {"brokerage.tenancy_analytics", "brokerage.tenant_risk_exposure"}),
    (["list", "--tag", "counterparty-risk"], {"risk.entity_ratings", "brokerage.tenant_risk_exposure"}),
    (["list", "--pii"], {CHECKOUT}),  # billing/shipping customer ids are tagged pii
    (["list", "--no-pii"], ALL - {CHECKOUT}),
    (["list", "--classification", "restricted"], {CHECKOUT}),
    (
        ["list", "--archetype", "consumer-aligned"],
        {"recommendations.articles_bought_together", "brokerage.tenant_risk_exposure"},
    ),
    (["list", "--status", "deprecated"], set()),
    (["search", "billing_customer_id"], {CHECKOUT}),  # a column name only
    (["search", "lift"], {"recommendations.articles_bought_together"}),  # a description word
    (["search", "rating", "--domain", "brokerage"], {"brokerage.tenant_risk_exposure"}),
    (["search", "no-such-word-anywhere"], set()),
]


@pytest.mark.parametrize("args,expected", SEARCHES, ids=[" ".join(a) for a, _ in SEARCHES])
def test_cli_search(whole_mesh, args, expected):
    assert ids(catalog_cli(*args)) == expected


def test_cli_lists_every_product_of_the_mesh(whole_mesh):
    descriptors = {
        yaml.safe_load(f.read_text())["id"] for f in (ROOT / "domains").glob("*/products/*/dataproduct.yaml")
    }
    assert ids(catalog_cli("list")) == descriptors == ALL


def test_text_search_ranks_name_matches_first(whole_mesh):
    found = [p["id"] for p in catalog_cli("search", "tenant")]
    # in a product or port name first (tenant_risk_exposure; current_tenants), then descriptions
    assert set(found[:2]) == {"brokerage.tenant_risk_exposure", "brokerage.tenancy_analytics"}
    assert found[2:] == ["risk.entity_ratings"]  # its usage and limitations mention tenants


def test_show_unknown_product_is_a_clear_error(whole_mesh):
    result = CliRunner().invoke(cli, ["catalog", "show", "nope.nothing"])
    assert result.exit_code == 2
    assert "no product 'nope.nothing'" in result.output and CHECKOUT in result.output
    assert "Traceback" not in result.output


def test_product_facts_contract_terms_and_schema(whole_mesh):
    product = catalog_cli("show", CHECKOUT)
    assert product["owner_team"] == "Checkout Team" and "checkout-data@example.com" in product["owners"]
    assert product["archetype"] == "source-aligned" and product["maturity"] == "established"
    port = next(p for p in product["ports"] if p["name"] == "web_orders_with_consent")
    assert port["contract_id"] == "web-orders-with-consent-v1"
    assert port["terms"] == {
        "usage": "Analytics and data science; customers consented.",
        "limitations": "Filtered to consented orders: not for financial KPIs; not real-time.",
        "billing": "1000 USD per month",
        "notice_period": "P3M",
    }
    assert port["sla"]["freshness"] == "24h"
    columns = {c["name"]: c for c in port["columns"]}
    assert columns["billing_customer_id"]["pii"] and columns["billing_customer_id"]["classification"] == "restricted"
    assert columns["order_line_id"]["primary_key"] and not columns["quantity"]["pii"]
    # "Open in Dagster" opens the current version (v1 is deprecated)
    assert product["dagster_url"].endswith("/assets/checkout/web_orders_with_consent/web_orders_with_consent_v2")
    # lineage and usage: recommendations reads this port
    assert [c["consumer"] for c in product["consumers"]] == ["recommendations.articles_bought_together"]


def test_latest_checks_by_dimension_equal_the_instance(whole_mesh):
    instance = dg.DagsterInstance.get()
    product = build_catalog(instance).get(CHECKOUT)
    port = next(p for p in product.ports if p.name == "web_orders_with_consent")
    key = dg.AssetKey(port.asset_key)
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(key, name) for name in port.declared_checks]
    )
    expected = {k.name: r.event.dagster_event.event_specific_data.passed for k, r in latest.items()}
    assert {c.check: c.passed for c in port.checks} == expected
    assert len(expected) == len(port.declared_checks) > 20
    assert sum(q.checks for q in port.quality) == len(expected)
    assert {q.dimension for q in port.quality} >= {"completeness", "conformity", "uniqueness"}
    assert port.contract_state == "pass"


def _published_files(port_dir: Path) -> tuple[list[Path], list[Path]]:
    """(every file kept, the live files) of a port: snapshots and current.parquet, or for a
    daily-partitioned port the files of its versions (a partition kept unchanged by a later
    version is a hard link to the same file: counted once) and those of `current/`."""
    if (port_dir / "current").is_symlink():
        every = {os.stat(f).st_ino: f for f in sorted(port_dir.glob("versions/*/*/*.parquet"))}
        return list(every.values()), sorted((port_dir / "current").glob("*/*.parquet"))
    return sorted((port_dir / "snapshots").glob("*.parquet")), [port_dir / "current.parquet"]


def test_cost_and_usage_equal_independent_measurements(whole_mesh):
    instance = dg.DagsterInstance.get()
    catalog = build_catalog(instance)
    runs = [r for r in instance.get_run_records() if r.end_time is not None]
    for product in catalog.products:
        domain, name = product.id.split(".")
        # every snapshot on disk, measured with the file system
        files = [_published_files(settings.published_dir(domain, name, port.name)) for port in product.ports]
        snapshots = [f for every, _ in files for f in every]
        assert product.cost.published_bytes == sum(os.path.getsize(f) for f in snapshots) > 0
        live = [f for _, current in files for f in current]
        assert product.cost.live_bytes == sum(os.path.getsize(f) for f in live)
        assert product.cost.rows == sum(pq.read_metadata(f).num_rows for f in live)
        # `mesh materialize` runs one product per run, tagged with it
        mine = [
            r for r in runs if r.dagster_run.tags.get("domain") == domain and r.dagster_run.tags.get("product") == name
        ]
        assert product.cost.runs_30d == len(mine) >= 1
        assert product.cost.run_seconds_30d == pytest.approx(sum(r.end_time - r.start_time for r in mine), abs=0.01)
        assert product.cost.warehouse_bytes is not None and product.cost.warehouse_bytes % 4096 == 0
        total = (
            sum(product.cost.declared_monthly.values()) + product.cost.compute_monthly + product.cost.storage_monthly
        )
        assert product.cost.monthly_total == pytest.approx(total, abs=0.01)  # every expense here is in USD
    checkout = catalog.get(CHECKOUT)
    assert [(e.name, e.monthly) for e in checkout.cost.declared] == [
        ("Consent register licence", 120.0),
        ("Data engineering support", 1800.0),
    ]
    assert catalog.get("brokerage.tenancy_analytics").cost.declared_monthly == {"USD": 200.0}  # 2,400 a year
    # usage: the consumer's successful runs (each reads the port)
    (consumer,) = checkout.consumers
    reco_runs = [
        r
        for r in runs
        if r.dagster_run.tags.get("domain") == "recommendations" and r.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    ]
    assert consumer.runs_30d == len(reco_runs) == 1


def test_expenses_errors_name_file_and_line(tmp_path, monkeypatch, dagster_home):
    shutil.copytree(ROOT / "domains" / "checkout", tmp_path / "domains" / "checkout")
    descriptor = tmp_path / "domains/checkout/products/web_orders_with_consent/dataproduct.yaml"
    descriptor.write_text(descriptor.read_text().replace("cost: 120,", "cost: lots,"))
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    result = CliRunner().invoke(cli, ["catalog", "list"])
    assert result.exit_code == 2, result.output
    line = next(i for i, text in enumerate(descriptor.read_text().splitlines(), 1) if "cost: lots" in text)
    assert f"dataproduct.yaml:{line}" in result.output and "expected a non-negative number" in result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def server(materialised_mesh, tmp_path_factory):
    """`mesh catalog serve` on a free port, against the materialised mesh."""
    with serve_catalog(materialised_mesh, tmp_path_factory.mktemp("catalog") / "serve.log", ttl=0) as url:
        yield url


def gql(url: str, query: str, **variables) -> dict:
    response = requests.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


SEARCH = """query($q: String!, $f: ProductFilter) { searchProducts(query: $q, filters: $f) { id } }"""


@pytest.mark.parametrize(
    "query,filters,expected",
    [
        ("", {"domain": "brokerage"}, {"brokerage.tenancy_analytics", "brokerage.tenant_risk_exposure"}),
        ("", {"owner": "risk-data@example.com"}, {"risk.entity_ratings"}),
        ("", {"tag": "counterparty-risk"}, {"risk.entity_ratings", "brokerage.tenant_risk_exposure"}),
        ("", {"pii": True}, {CHECKOUT}),
        ("billing_customer_id", None, {CHECKOUT}),
        ("rating", {"domain": "brokerage"}, {"brokerage.tenant_risk_exposure"}),
    ],
)
def test_graphql_search(server, query, filters, expected):
    assert {p["id"] for p in gql(server, SEARCH, q=query, f=filters)["searchProducts"]} == expected


def test_graphql_products_by_domain_and_lineage(server):
    data = gql(
        server,
        """{ productsByDomain(domain: "risk") { id ownerTeam }
        productLineage(productId: "risk.entity_ratings") { upstream { id } downstream { id } edges { producer consumer port } } }""",
    )
    assert data["productsByDomain"] == [{"id": "risk.entity_ratings", "ownerTeam": "Risk Team"}]
    lineage = data["productLineage"]
    assert [p["id"] for p in lineage["upstream"]] == ["brokerage.tenancy_analytics"]
    assert [p["id"] for p in lineage["downstream"]] == ["brokerage.tenant_risk_exposure"]
    assert {(e["producer"], e["consumer"], e["port"]) for e in lineage["edges"]} == {
        ("brokerage.tenancy_analytics", "risk.entity_ratings", "brokerage.tenancy_analytics.current_tenants"),
        ("risk.entity_ratings", "brokerage.tenant_risk_exposure", "risk.entity_ratings.entity_ratings"),
        # within brokerage: tenant_risk_exposure ref()s tenancy_analytics' port model
        (
            "brokerage.tenancy_analytics",
            "brokerage.tenant_risk_exposure",
            "brokerage.tenancy_analytics.rent_by_month_and_tenant",
        ),
    }


QUALITY = """query($id: String!, $start: String, $end: String) {
  productQuality(productId: $id, timeRange: {start: $start, end: $end}) {
    port checks { check passed runId timestamp } byDimension { dimension checks } } }"""


def test_graphql_product_quality_over_a_time_range(server, whole_mesh):
    """A second checkout run: the whole range has both runs' evaluations, a range starting between
    them only the second, one ending before the first none; each as the instance's event log has them."""
    instance = dg.DagsterInstance.get()
    first_run = next(r for r in reversed(instance.get_runs()) if r.tags.get("domain") == "checkout")
    time.sleep(1.1)  # the range boundary falls strictly between the two runs
    between = time.time()
    (outcome,) = materialize_products(domain="checkout")
    assert outcome.success, outcome.error

    def recorded(run_id: str) -> set[tuple[str, bool]]:
        events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        return {
            (e.dagster_event.event_specific_data.check_name, e.dagster_event.event_specific_data.passed)
            for e in events
            if e.dagster_event.event_specific_data.asset_key.path[0] == "checkout"
            and e.dagster_event.event_specific_data.asset_key.path[-1] == "web_orders_with_consent"
            and not e.dagster_event.event_specific_data.check_name.startswith("policy__")
        }  # governance, not quality

    first, second = recorded(first_run.run_id), recorded(outcome.run_id)
    assert len(first) == len(second) > 20

    def quality(start=None, end=None):
        ports = gql(server, QUALITY, id=CHECKOUT, start=start, end=end)["productQuality"]
        return next(p for p in ports if p["port"] == "checkout.web_orders_with_consent.web_orders_with_consent")

    everything = quality()
    by_run = {}
    for check in everything["checks"]:
        by_run.setdefault(check["runId"], set()).add((check["check"], check["passed"]))
    assert by_run == {first_run.run_id: first, outcome.run_id: second}
    assert sum(d["checks"] for d in everything["byDimension"]) == len(second)

    later = quality(start=iso(between))
    assert {c["runId"] for c in later["checks"]} == {outcome.run_id}
    earlier = quality(end=iso(between))
    assert {c["runId"] for c in earlier["checks"]} == {first_run.run_id}
    assert quality(end="2000-01-01")["checks"] == []

    # the same from the JSON endpoint and the CLI
    response = requests.get(f"{server}/api/products/{CHECKOUT}/quality", params={"start": iso(between)}, timeout=60)
    assert {c["run_id"] for p in response.json() for c in p["checks"]} == {outcome.run_id}
    result = CliRunner().invoke(cli, ["catalog", "quality", CHECKOUT, "--end", iso(between)], catch_exceptions=False)
    assert {c["run_id"] for p in json.loads(result.output) for c in p["checks"]} == {first_run.run_id}


def test_json_endpoints(server):
    products = requests.get(f"{server}/api/products", params={"tag": "leases"}, timeout=60).json()
    assert {p["id"] for p in products} == {"brokerage.tenancy_analytics", "brokerage.tenant_risk_exposure"}
    one = requests.get(f"{server}/api/products/{CHECKOUT}", timeout=60).json()
    assert {p["dagster_url"] for p in one["ports"]} >= {
        "http://127.0.0.1:3999/assets/checkout/web_orders_with_consent/web_orders_with_consent"
    }
    assert requests.get(f"{server}/api/products/nope.nothing", timeout=60).status_code == 404
    response = requests.get(f"{server}/api/products/{CHECKOUT}/quality", params={"start": "yesterday"}, timeout=60)
    assert response.status_code == 400 and "ISO-8601" in response.text


WITHIN_DOMAIN = 1  # brokerage.tenant_risk_exposure ref()s tenancy_analytics' port model


def _input_ports() -> int:
    """Edges of the map, counted from the descriptors: every declared input port (the map also
    draws the WITHIN_DOMAIN product-to-product reads, which no descriptor declares)."""
    return sum(
        len(yaml.safe_load(f.read_text()).get("inputPorts") or [])
        for f in (ROOT / "domains").glob("*/products/*/dataproduct.yaml")
    )


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _dom(url: str, profile: Path) -> str:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1400,900",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"), reason="headless Chromium not installed (.ci/run installs it)"
)
def test_pages_and_mesh_map_render_in_headless_chromium(server, tmp_path):
    from html.parser import HTMLParser

    assert _chromium(), "CI must have Chromium: .ci/run installs Debian's chromium package"
    index = _dom(f"{server}/index.html", tmp_path / "p")
    for title in (
        "Web orders with consent",
        "Tenancy analytics",
        "Tenant risk exposure",
        "Articles bought together",
        "Entity ratings",
    ):
        assert title in index
    filtered = _dom(f"{server}/index.html?pii=true", tmp_path / "p")
    assert "Web orders with consent" in filtered and "Entity ratings" not in filtered

    page = _dom(f"{server}/products/{CHECKOUT}.html", tmp_path / "p")
    for text in (
        "Web orders with consent",
        "Checkout Team",
        "P3M",
        "billing_customer_id",
        "completeness",
        "recommendations.articles_bought_together",
        "Consent register licence",
        "http://127.0.0.1:3999/assets/checkout/web_orders_with_consent/web_orders_with_consent",
    ):
        assert text in page, text

    class Shapes(HTMLParser):
        def __init__(self):
            super().__init__()
            self.edges, self.nodes, self.domains = [], [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            classes = (attrs.get("class") or "").split()
            if tag == "g" and "edge" in classes:
                self.edges.append((attrs["data-producer"], attrs["data-consumer"]))
            elif tag == "a" and "node" in classes:
                self.nodes.append(attrs["data-id"])
            elif tag == "g" and "domain" in classes:
                self.domains.append(attrs["data-domain"])

    shapes = Shapes()
    shapes.feed(_dom(f"{server}/map.html", tmp_path / "p"))
    assert sorted(shapes.nodes) == sorted(ALL)
    assert sorted(shapes.domains) == ["brokerage", "checkout", "recommendations", "risk"]
    assert len(shapes.edges) == _input_ports() + WITHIN_DOMAIN == 4
    assert ("brokerage.tenancy_analytics", "brokerage.tenant_risk_exposure") in shapes.edges
    assert ("checkout.web_orders_with_consent", "recommendations.articles_bought_together") in shapes.edges


def test_static_site(whole_mesh, tmp_path):
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["catalog", "build", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (out / "index.html").exists() and (out / "map.html").exists() and (out / "static" / "catalog.css").exists()
    assert 'id="port-web_orders_with_consent"' in (out / "products" / f"{CHECKOUT}.html").read_text()
    for product in ALL:
        assert product in (out / "products" / f"{product}.html").read_text()
        assert json.loads((out / "api" / "products" / f"{product}.json").read_text())["id"] == product
    assert (out / "map.html").read_text().count('<g class="edge') == _input_ports() + WITHIN_DOMAIN
    if _chromium():  # the static list filters in the browser, like the server does
        dom = _dom(f"file://{out}/index.html?tag=counterparty-risk", tmp_path / "p")
        assert '<span id="result-count">2</span>' in dom


def test_dagster_metadata_links_each_output_port_to_its_catalog_section(monkeypatch):
    from mesh_platform.dagster_wiring.catalog_metadata import port_metadata
    from mesh_platform.mesh import Mesh

    monkeypatch.setenv("MESH_CATALOG_URL", "http://127.0.0.1:3777/")
    for port in Mesh.load().ports:
        product_id = f"{port.product.domain_name}.{port.product.name}"
        assert (
            port_metadata(port)["mesh/catalog"].url
            == f"http://127.0.0.1:3777/products/{product_id}.html#port-{port.name}"
        )


POLICY_GQL = """query($id: String!) { product(id: $id) { health { policies overall }
  ports { address policies { policy status check evaluatedAt runId } } } }"""


def test_policies_no_run_evaluated_say_not_evaluated(dagster_home):
    """An instance where no run evaluated the policy checks: every policy in force is listed on
    every port as not evaluated (page, JSON, GraphQL), and no health says pass."""
    from mesh_platform.catalog import graphql_api
    from mesh_platform.catalog.pages import render_product
    from mesh_platform.governance.config import load_governance

    instance = dg.DagsterInstance.get()
    catalog = build_catalog(instance)
    in_force = list(load_governance().names())
    assert catalog.has_policies and in_force
    for product in catalog.products:
        for port in product.ports:
            assert [r.policy for r in port.policies] == in_force, port.address
            assert {r.status for r in port.policies} == {"not_evaluated"}, port.address
            assert all(r.evaluated_at is None and r.check.startswith("policy__") for r in port.policies)
        assert product.health.policies == "not_evaluated" and product.health.overall != "pass"
    product = catalog.get(CHECKOUT)
    data = product.to_dict()
    assert {r["status"] for port in data["ports"] for r in port["policies"]} == {"not_evaluated"}
    page = render_product(catalog, product)
    assert "policies: not evaluated" in page and "policies: pass" not in page
    assert page.count('data-status="not_evaluated"') == len(in_force) * len(product.ports)
    body = graphql_api.execute(POLICY_GQL, lambda: catalog, lambda: instance, {"id": CHECKOUT})
    assert body.errors is None, body.errors
    found = body.data["product"]
    assert found["health"]["policies"] == "not_evaluated"
    assert {r["status"] for port in found["ports"] for r in port["policies"]} == {"not_evaluated"}


def test_policy_verdicts_are_the_ones_runs_recorded(whole_mesh, server):
    """After a run: each port's policies show the verdict and time its run recorded (the lint
    of the specs agrees), through the model, the JSON API and GraphQL."""
    from mesh_platform.catalog.source import load_source

    instance = dg.DagsterInstance.get()
    catalog = build_catalog(instance)
    lint = {(r.subject, r.policy): r.status for r in load_source().policies}
    for product in catalog.products:
        for port in product.ports:
            checks = [dg.AssetCheckKey(dg.AssetKey(port.asset_key), r.check) for r in port.policies]
            latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(checks)
            for r, key in zip(port.policies, checks):
                assert r.status == lint[(port.address, r.policy)] != "not_evaluated", (port.address, r.policy)
                assert r.run_id == latest[key].run_id and r.evaluated_at, (port.address, r.policy)
        assert product.health.policies in ("pass", "waived", "warn", "fail")
    api = requests.get(f"{server}/api/products/{CHECKOUT}", timeout=60).json()
    statuses = [(r["policy"], r["status"], r["run_id"] is not None) for p in api["ports"] for r in p["policies"]]
    assert statuses and all(s in ("pass", "waived", "warn", "fail") and has_run for _, s, has_run in statuses)
    found = gql(server, POLICY_GQL, id=CHECKOUT)["product"]
    assert found["health"]["policies"] == catalog.get(CHECKOUT).health.policies
    assert all(r["evaluatedAt"] and r["status"] != "not_evaluated" for p in found["ports"] for r in p["policies"])


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"), reason="headless Chromium not installed (.ci/run installs it)"
)
def test_port_page_shows_the_policies_runs_evaluated_in_chromium(server, tmp_path):
    """What a person sees after a real run: every policy of every port evaluated, none "not
    evaluated", each with the time its run recorded it."""
    from html.parser import HTMLParser

    from mesh_platform.governance.config import load_governance

    class Policies(HTMLParser):
        def __init__(self):
            super().__init__()
            self.statuses = []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "span" and "policy" in (attrs.get("class") or "").split():
                self.statuses.append((attrs["data-policy"], attrs["data-status"]))

    assert _chromium(), "CI must have Chromium: .ci/run installs Debian's chromium package"
    dom = _dom(f"{server}/products/{CHECKOUT}.html", tmp_path / "p")
    found = Policies()
    found.feed(dom)
    in_force = load_governance().names()
    ports = dom.count('<section class="port"')
    assert ports >= 2 and len(found.statuses) == len(in_force) * ports
    assert {s for _, s in found.statuses} <= {"pass", "waived", "warn", "fail"}
    assert "not evaluated" not in dom and "no run has evaluated" not in dom
    assert dom.count("(recorded 20") == len(found.statuses)


def test_lineage_is_the_meshs_with_links_and_column_readers(mesh_data, dagster_home):
    """The catalog's edges, "Reads" and "Consumers" include a product reading another product's
    port of its own domain (as Dagster draws it), "Reads" links to the producer, and each port
    column lists the consumers whose SQL reads it."""
    from mesh_platform.catalog.pages import render_product

    catalog = build_catalog(dg.DagsterInstance.get())
    rent = "brokerage.tenancy_analytics.rent_by_month_and_tenant"
    (edge,) = [e for e in catalog.edges if e.port == rent]
    assert (edge.producer, edge.consumer, edge.kind) == (
        "brokerage.tenancy_analytics",
        "brokerage.tenant_risk_exposure",
        "within_domain",
    )
    assert rent in catalog.get("brokerage.tenant_risk_exposure").inputs
    assert "brokerage.tenancy_analytics" in catalog.get("brokerage.tenant_risk_exposure").input_products
    assert {(c.consumer, c.port) for c in catalog.get("brokerage.tenancy_analytics").consumers} == {
        ("brokerage.tenant_risk_exposure", rent),
        ("risk.entity_ratings", "brokerage.tenancy_analytics.current_tenants"),
    }

    page = render_product(catalog, catalog.get("brokerage.tenant_risk_exposure"))
    assert f'<a class="reads" href="brokerage.tenancy_analytics.html#port-rent_by_month_and_tenant">{rent}</a>' in page
    assert (
        '<a class="reads" href="risk.entity_ratings.html#port-entity_ratings">risk.entity_ratings.entity_ratings</a>'
    ) in page

    # who reads each column: recommendations' staging model selects five columns of the port
    checkout = catalog.get(CHECKOUT)
    columns = {c.name: c for c in next(p for p in checkout.ports if p.name == "web_orders_with_consent").columns}
    reco = "recommendations.articles_bought_together"
    assert {name for name, c in columns.items() if c.read_by} == {
        "order_number",
        "line_number",
        "item_id",
        "item_category",
        "sold_date",
    }
    assert columns["item_category"].read_by == [reco] and columns["ship_date"].read_by == []
    assert all(c.maybe_read_by == [] for c in columns.values())
    # risk reads current_tenants from Python: which columns cannot be seen, so it "maybe" reads each
    tenants = next(p for p in catalog.get("brokerage.tenancy_analytics").ports if p.name == "current_tenants")
    assert all(c.maybe_read_by == ["risk.entity_ratings"] and c.read_by == [] for c in tenants.columns)
    page = render_product(catalog, checkout)
    row = page[page.index("<code>item_category</code>") :]
    row = row[: row.index("</tr>")]
    assert f'<td class="read-by"><a href="{reco}.html">{reco}</a></td>' in row
    row = page[page.index("<code>ship_date</code>") :]
    assert '<td class="read-by"></td>' in row[: row.index("</tr>")]
    assert checkout.to_dict()["ports"][0]["columns"][0]["read_by"] is not None  # in the JSON API too
