"""The catalog's pages as a person sees them, in headless Chromium driven by Playwright: search
with highlights and facets, a mesh map whose labels stay in their boxes (also at 20 products),
the GraphQL explorer with every request to another host blocked, friendly 404 pages, and a
server log without tracebacks or Dagster preview warnings."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace
from html import escape
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import pytest
import requests
from catalog_server import serve_catalog
from conftest import write_instance_yaml

from mesh_platform.catalog import pages
from mesh_platform.catalog.build import build_catalog
from mesh_platform.catalog.model import Edge

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = "checkout.web_orders_with_consent"
STATIC = ROOT / "mesh_platform" / "catalog" / "static"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


pytestmark = pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"), reason="headless Chromium not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert _chromium(), "CI must have Chromium: .ci/run installs Debian's chromium package"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=_chromium(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def served(materialised_mesh, tmp_path_factory):
    """`mesh catalog serve` against the materialised mesh: (url, its log file). Nothing here
    changes the mesh, so one catalog serves a minute of requests."""
    log_file = tmp_path_factory.mktemp("catalog_browser") / "serve.log"
    with serve_catalog(materialised_mesh, log_file, ttl=60) as url:
        yield url, log_file


@pytest.fixture
def server(served) -> str:
    return served[0]


def test_search_page_ranks_highlights_and_filters_by_facet(server, page):
    page.goto(f"{server}/index.html?q=rent")
    rows = page.locator("tr.product-row")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.id)") == [
        "brokerage.tenancy_analytics",
        "brokerage.tenant_risk_exposure",
    ]
    marks = page.locator("tr.product-row").first.locator("mark").all_text_contents()
    assert marks and {m.lower() for m in marks} <= {"rent", "rents"}
    page.locator('#facets .facet[data-facet="quality"] a[data-value="gold"]').click()
    page.wait_for_url("**quality=gold**")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.id)") == ["brokerage.tenancy_analytics"]
    assert page.input_value("input[name=q]") == "rent"

    page.goto(f"{server}/index.html?q=ordrs")
    assert rows.first.get_attribute("data-id") == CHECKOUT
    assert "ordrs → orders" in page.text_content("#rewrites")


def test_search_json_and_graphql_agree(server):
    hits = requests.get(f"{server}/api/search", params={"q": "deprecated"}, timeout=60).json()["hits"]
    assert [h["id"] for h in hits] == [CHECKOUT] and "<mark>deprecated</mark>" in hits[0]["highlights"]["badges"]
    assert [p["id"] for p in requests.get(f"{server}/api/products", params={"q": "PII"}, timeout=60).json()] == [
        CHECKOUT
    ]
    body = requests.post(
        f"{server}/graphql",
        timeout=60,
        json={
            "query": """{ search(query: "rent", filters: {quality: "gold"})
        { hits { product { id } highlights } facets { name values { value count } } } }"""
        },
    ).json()
    assert "errors" not in body, body
    assert [h["product"]["id"] for h in body["data"]["search"]["hits"]] == ["brokerage.tenancy_analytics"]
    facets = {f["name"]: {v["value"]: v["count"] for v in f["values"]} for f in body["data"]["search"]["facets"]}
    assert facets["quality"] == {"gold": 1, "silver": 1}


# Run in the page: every label box inside the map, every text inside its box, no label over a
# node or another label, and the map drawn at its own size (readable, not scaled down).
MAP_PROBLEMS = """() => {
  const svg = document.querySelector('svg.mesh-map');
  const s = svg.getBoundingClientRect();
  const problems = [];
  const show = (r) => [r.left, r.top, r.right, r.bottom].map(Math.round).join(',');
  const inside = (r, box, what) => {
    if (r.left < box.left - 0.5 || r.top < box.top - 0.5 || r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5)
      problems.push(what + ' [' + show(r) + '] outside [' + show(box) + ']');
  };
  const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const labels = [...svg.querySelectorAll('g.port-label')];
  const labelBoxes = labels.map((g) => g.querySelector('rect').getBoundingClientRect());
  labels.forEach((g, i) => {
    inside(labelBoxes[i], s, 'label box');
    inside(g.querySelector('text').getBoundingClientRect(), labelBoxes[i], 'label "' + g.querySelector('text').textContent + '"');
  });
  const nodeBoxes = [];
  for (const n of svg.querySelectorAll('a.node')) {
    const box = n.querySelector('rect').getBoundingClientRect();
    nodeBoxes.push(box);
    inside(box, s, 'node ' + n.dataset.id);
    for (const t of n.querySelectorAll('text')) inside(t.getBoundingClientRect(), box, 'text "' + t.textContent + '"');
  }
  for (const g of svg.querySelectorAll('g.domain')) {
    inside(g.querySelector('text').getBoundingClientRect(), g.querySelector('rect').getBoundingClientRect(), 'domain label');
  }
  labelBoxes.forEach((a, i) => {
    nodeBoxes.forEach((b) => { if (overlap(a, b)) problems.push('label ' + i + ' over a node'); });
    labelBoxes.forEach((b, j) => { if (j > i && overlap(a, b)) problems.push('labels ' + i + ' and ' + j + ' overlap'); });
  });
  nodeBoxes.forEach((a, i) => nodeBoxes.forEach((b, j) => { if (j > i && overlap(a, b)) problems.push('nodes overlap'); }));
  return {problems, labels: labels.length, nodes: nodeBoxes.length, scale: s.width / svg.width.baseVal.value,
          font: labels.length ? parseFloat(getComputedStyle(labels[0].querySelector('text')).fontSize) : 0};
}"""


def test_mesh_map_labels_stay_in_their_boxes(server, page):
    page.goto(f"{server}/map.html")
    found = page.evaluate(MAP_PROBLEMS)
    assert found["problems"] == []
    assert (
        found["nodes"] == 5
        and found["labels"] >= 3
        and found["scale"] == pytest.approx(1, abs=0.01)
        and found["font"] >= 10
    )
    # a long purpose is in the edge's tooltip and in the table beside the map, never cut
    purposes = [e["purpose"] for e in requests.get(f"{server}/api/edges", timeout=60).json() if e["purpose"]]
    assert max(map(len, purposes)) > 100
    tooltips = page.locator("g.port-label title").all_text_contents()
    table = page.text_content("#map-edges")
    for purpose in purposes:
        assert any(purpose in t for t in tooltips) and purpose in " ".join(table.split())


@pytest.fixture(scope="module")
def template_catalog(tmp_path_factory):
    home = write_instance_yaml(tmp_path_factory.mktemp("map20") / "home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))
        yield build_catalog(dg.DagsterInstance.get())


def twenty_products(catalog):
    """A mesh of 20 products in 4 domains with long names, titles, port names and purposes; each
    product reads one to three earlier ones, so edges skip columns and meet at shared consumers."""
    template = catalog.get(CHECKOUT)
    products, edges = [], []
    for i in range(20):
        domain = f"a_rather_long_domain_name_{i % 4}"
        name = f"product_with_a_long_descriptive_name_{i:02d}"
        pid = f"{domain}.{name}"
        port = replace(
            template.ports[0],
            name=f"output_port_with_a_really_long_name_{i:02d}_v2",
            address=f"{pid}.output_port_with_a_really_long_name_{i:02d}_v2",
            product_id=pid,
        )
        products.append(
            replace(
                template,
                id=pid,
                domain=domain,
                name=name,
                ports=[port],
                title=f"Weekly Wholesale Margin Movements Worldwide {i:02d}",
                catalog_path=f"{pid}.html",
            )
        )
        for j in (i - 1, i - 3, i - 7):
            if j >= 0 and (i + j) % 3 != 1:
                producer = products[j]
                edges.append(
                    Edge(
                        consumer=pid,
                        producer=producer.id,
                        port=producer.ports[0].address,
                        kind="agreement" if j % 2 else "input_port",
                        purpose=f"Purpose {i}<-{j}: " + "a long explanation of why it is read " * 6,
                    )
                )
    return replace(catalog, products=products, edges=edges)


def test_a_20_product_map_stays_readable(template_catalog, page, tmp_path):
    catalog = twenty_products(template_catalog)
    assert len(catalog.products) == 20 and len(catalog.edges) >= 25
    assert max(len(e.purpose) for e in catalog.edges) > 200
    html = pages.render_map(catalog, static=True).replace('href="static/', f'href="{STATIC.as_uri()}/')
    (tmp_path / "map.html").write_text(html)
    page.goto((tmp_path / "map.html").as_uri())
    if os.environ.get("MESH_SCREENSHOTS"):  # to look at it: a folder for the picture
        page.screenshot(path=str(Path(os.environ["MESH_SCREENSHOTS"]) / "map20.png"), full_page=True)
    found = page.evaluate(MAP_PROBLEMS)
    assert found["problems"] == []
    assert found["nodes"] == 20 and found["labels"] == len(catalog.edges)
    assert found["scale"] == pytest.approx(1, abs=0.01) and found["font"] >= 10  # the frame scrolls; text is not shrunk
    # cut labels keep their whole text in the tooltip
    for edge in catalog.edges:
        assert escape(edge.purpose) in html


def test_graphql_explorer_works_with_the_network_blocked(served, browser):
    server, _ = served
    context = browser.new_context()
    blocked = []

    def only_this_machine(route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_machine)
    page = context.new_page()
    # the guard works: a page asking for a CDN script is stopped
    page.set_content('<script src="https://unpkg.com/graphiql/graphiql.min.js"></script>')
    assert blocked == ["https://unpkg.com/graphiql/graphiql.min.js"]
    blocked.clear()

    page.goto(f"{server}/graphql")
    page.wait_for_selector("#gql-docs-body code")  # schema docs, read by introspection
    docs = page.text_content("#gql-docs-body")
    assert "search(" in docs and "productLineage(" in docs
    page.locator("#gql-docs-body a", has_text="SearchResult").first.click()
    assert "rewrites" in page.text_content("#gql-docs-body")
    page.fill("#gql-query", '{ search(query: "ordrs") { hits { product { id } } rewrites { word readAs } } }')
    page.click("#gql-run")
    page.wait_for_function("document.getElementById('gql-result').textContent.includes('data')")
    result = json.loads(page.text_content("#gql-result"))
    assert result["data"]["search"]["hits"][0]["product"]["id"] == CHECKOUT
    assert result["data"]["search"]["rewrites"][0]["word"] == "ordrs"
    assert blocked == []
    context.close()


def test_not_found_pages_are_friendly(server, page):
    for path, text in [
        ("/products/nope.nothing.html", "no product 'nope.nothing'"),
        ("/no/such/page", "/no/such/page"),
    ]:
        response = page.goto(f"{server}{path}")
        assert response.status == 404 and response.headers["content-type"].startswith("text/html")
        assert page.text_content("h1") == "Not found" and text in page.text_content(".not-found")
        # styled like the other pages: the stylesheet loaded, the navigation is there
        assert (
            page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") == "rgb(31, 42, 68)"
        )
        assert page.locator("nav a", has_text="Explore data products").count() == 1
    response = requests.get(f"{server}/api/products/nope.nothing", timeout=60)
    assert response.status_code == 404 and response.json() == {"error": "no product 'nope.nothing'"}


def test_bad_graphql_input_is_a_clean_error_and_the_log_stays_clean(served):
    server, log_file = served
    for product in requests.get(f"{server}/api/products", timeout=60).json():  # pages that read the instance
        assert requests.get(f"{server}/products/{product['id']}.html", timeout=60).ok
    assert requests.get(f"{server}/map.html", timeout=60).ok
    bad = {
        "{ nope }": "Cannot query field 'nope'",
        "{ search(query: ": "Syntax Error",
        '{ productLineage(productId: "x.y") { product { id } } }': "no product 'x.y'",
        '{ productQuality(productId: "' + CHECKOUT + '", timeRange: {start: "yesterday"}) { port } }': "ISO-8601",
    }
    for query, message in bad.items():
        response = requests.post(f"{server}/graphql", json={"query": query}, timeout=60)
        errors = response.json()["errors"]
        assert message in errors[0]["message"], errors
        assert "Traceback" not in response.text
    time.sleep(0.5)
    log = log_file.read_text()
    assert "Traceback" not in log and "ValueError" not in log and "GraphQLError" not in log, log
    assert "PreviewWarning" not in log and "BetaWarning" not in log, log


def test_static_site_search_matches_whole_words(template_catalog, page, tmp_path):
    """The static site has no server: its list filters in the page with the same word rule."""
    from mesh_platform.catalog.static_site import build_site

    build_site(template_catalog, tmp_path / "site")
    shown = "rs => rs.filter(r => !r.hidden).map(r => r.dataset.id)"
    page.goto((tmp_path / "site" / "index.html").as_uri() + "?q=rent")
    assert page.locator("tr.product-row").evaluate_all(shown) == [
        "brokerage.tenancy_analytics",
        "brokerage.tenant_risk_exposure",
    ]  # not risk's "current"
    page.goto((tmp_path / "site" / "index.html").as_uri() + "?state=deprecated")
    assert page.locator("tr.product-row").evaluate_all(shown) == [CHECKOUT]
    page.goto((tmp_path / "site" / "index.html").as_uri() + "?q=PII")
    assert page.locator("tr.product-row").evaluate_all(shown) == [CHECKOUT]
