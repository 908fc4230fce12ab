"""`mesh catalog mcp` as an assistant meets it: started as a subprocess and spoken to with the
`mcp` SDK's own client, over stdio and once over streamable HTTP on a free local port.

The mesh is a copy of the repository's YAML (and parsed dbt manifests); nothing is
materialised, so quality answers are "no recorded results". In the copy, recommendations'
agreement on checkout's orders port and checkout's approval of it are removed: the consumer has
to ask again, which is what `request_access` does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner
from conftest import ROOT, free_port, prepare_all, write_instance_yaml
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from mesh_platform.catalog.mcp_server import access
from mesh_platform.catalog.mcp_server.answers import BadArgument
from mesh_platform.cli.main import cli

MESH = str(Path(sys.executable).parent / "mesh")
ORDERS = "checkout.web_orders_with_consent"
ORDERS_V1 = f"{ORDERS}.web_orders_with_consent"
CONSUMER = "recommendations.articles_bought_together"
AGREEMENT = f"{CONSUMER}.web_orders_with_consent"
REQUEST_FILE = "domains/recommendations/agreements/articles_bought_together__web_orders_with_consent.yaml"
V1_CONTRACT = "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
DESCRIPTOR = "domains/checkout/products/web_orders_with_consent/dataproduct.yaml"
SECRET = "tok-3f9a1c77e2d4"  # the value of a *_TOKEN variable: the platform's redaction masks it
TOOLS = {
    "search_products",
    "get_product",
    "get_contract",
    "get_lineage",
    "get_quality",
    "list_agreements",
    "request_access",
}
NO_RESULTS = "no recorded results"
BILLING_ANCHOR = (
    "description: Customer ID of the billing customer.\n"
    "        required: true\n        classification: restricted\n        tags: [pii]\n"
)
SOLD_DATE_ANCHOR = "      - name: sold_date\n        logicalType: date\n        physicalType: date\n"
RESTRICTED_EXAMPLE = "C12345678"


@pytest.fixture
def mesh_root(tmp_path) -> Path:
    prepare_all()  # `mesh validate` reads the dbt manifests: parsed once, reused while fresh
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "domains", root / "domains", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "dbt_projects", root / "dbt_projects", ignore=shutil.ignore_patterns("logs"))
    shutil.copytree(ROOT / "governance", root / "governance")
    shutil.copy(ROOT / "workspace.yaml", root / "workspace.yaml")
    (root / REQUEST_FILE).unlink()
    approvals = root / "domains/checkout/agreements/approvals.yaml"
    text = approvals.read_text()
    approvals.write_text(text[: text.index("  - agreement:")].replace("approvals:\n", "approvals: []\n"))
    # A contract may declare example values; a sensitive column's are never handed out.
    contract = root / V1_CONTRACT
    text = contract.read_text()
    for anchor, example in [(BILLING_ANCHOR, RESTRICTED_EXAMPLE), (SOLD_DATE_ANCHOR, "2026-01-01")]:
        assert text.count(anchor) == 1
        text = text.replace(anchor, f"{anchor}        examples: ['{example}']\n")
    contract.write_text(text)
    descriptor = root / DESCRIPTOR
    text = descriptor.read_text()
    assert text.count("not real-time.") == 1
    descriptor.write_text(text.replace("not real-time.", f"not real-time. Support token {SECRET}."))
    return root


def _index(contract: dict, column: str) -> int:
    return next(i for i, p in enumerate(contract["schema"][0]["properties"]) if p["name"] == column)


def environment(root: Path) -> dict[str, str]:
    return {
        "MESH_ROOT": str(root),
        "MESH_DATA_DIR": str(root / "data"),
        "DAGSTER_HOME": str(write_instance_yaml(root / "home")),
        "MESH_TODAY": "2026-12-01",
        "SUPPORT_DESK_TOKEN": SECRET,
    }


def agreement_files(root: Path) -> dict[str, str]:
    return {str(f.relative_to(root)): f.read_text() for f in sorted(root.glob("domains/*/agreements/*"))}


async def call(client: Client, tool: str, **arguments):
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""
    assert "Traceback" not in text, text
    return result


async def answer(client: Client, tool: str, **arguments) -> dict:
    result = await call(client, tool, **arguments)
    assert not result.is_error, result.content
    return result.structured_content


async def lists_tools_and_resources(client: Client, root: Path) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool.description) > 80 and "  " not in tool.description, tool.name  # one paragraph
        assert tool.input_schema["type"] == "object" and tool.input_schema["properties"], tool.name
        assert tool.annotations.read_only_hint is (tool.name != "request_access"), tool.name
    assert tools["get_contract"].input_schema["required"] == ["port"]

    uris = {r.uri for r in (await client.list_resources()).resources}
    assert {f"mesh://products/{ORDERS}", f"mesh://contracts/{ORDERS_V1}", f"mesh://products/{CONSUMER}"} <= uris
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert templates == {"mesh://products/{product_id}", "mesh://contracts/{port}"}
    contract = (await client.read_resource(f"mesh://contracts/{ORDERS_V1}")).contents[0].text
    assert "# ODCS v3 data contract" in contract and "2026-01-01" in contract and RESTRICTED_EXAMPLE not in contract
    written = yaml.safe_load((root / V1_CONTRACT).read_text())
    del written["schema"][0]["properties"][_index(written, "billing_customer_id")]["examples"]
    assert yaml.safe_load(contract) == written
    for uri, says in [
        ("mesh://products/nope.nothing", "no product 'nope.nothing'"),
        ("mesh://contracts/a", "no output port"),
    ]:
        with pytest.raises(MCPError, match=says):
            await client.read_resource(uri)
    with pytest.raises(MCPError):
        await client.read_resource("mesh://products/..%2F..%2Fetc")
    descriptor = (await client.read_resource(f"mesh://products/{ORDERS}")).contents[0].text
    assert f"id: {ORDERS}" in descriptor and "Support token ***." in descriptor and SECRET not in descriptor


async def answers_from_the_catalog(client: Client, root: Path) -> None:
    found = await answer(client, "search_products", query="orders")
    assert ORDERS in [p["id"] for p in found["products"]]

    contract = yaml.safe_load((root / V1_CONTRACT).read_text())
    got = await answer(client, "get_contract", port=ORDERS_V1)
    assert got["terms"]["usage"] == contract["description"]["usage"]
    assert got["terms"]["limitations"] == contract["description"]["limitations"]
    pii = {p["name"] for p in contract["schema"][0]["properties"] if "pii" in (p.get("tags") or [])}
    assert pii == {"billing_customer_id", "shipping_customer_id"}
    assert set(got["pii_columns"]) == pii
    assert {c["name"]: c["classification"] for c in got["schema"] if c["name"] in pii} == dict.fromkeys(
        pii, "restricted"
    )

    columns = {c["name"]: c for c in got["schema"]}
    assert columns["billing_customer_id"]["sensitive"] and not columns["sold_date"]["sensitive"]
    assert not [c for c in columns["billing_customer_id"]["constraints"] if "examples" in c]
    assert "examples: 2026-01-01" in columns["sold_date"]["constraints"]
    assert RESTRICTED_EXAMPLE not in str(got)

    lineage = await answer(client, "get_lineage", product_id=CONSUMER)
    assert ORDERS in [p["id"] for p in lineage["upstream"]]
    (edge,) = [e for e in lineage["edges"] if e["producer"] == ORDERS and e["consumer"] == CONSUMER]
    # the columns the consumer's SQL reads (from its dbt manifest): some, and all of them the port's
    assert edge["port"] == ORDERS_V1 and edge["columns_read"]
    assert set(edge["columns_read"]) <= {p["name"] for p in contract["schema"][0]["properties"]}

    product = await answer(client, "get_product", id=ORDERS)
    assert product["owner_team"] and {p["address"] for p in product["ports"]} >= {ORDERS_V1}
    assert all(p["quality_by_dimension"] == NO_RESULTS for p in product["ports"])  # nothing ran: no verdict
    assert "Support token ***." in product["limitations"] and SECRET not in str(product)
    quality = await answer(client, "get_quality", product_id=ORDERS)
    assert [p["results"] for p in quality["ports"]] == [NO_RESULTS] * len(product["ports"])


async def bad_arguments_write_nothing(client: Client, root: Path) -> None:
    before = agreement_files(root)
    for tool, arguments, says in [
        ("get_product", {"id": "nope.nothing"}, "no product 'nope.nothing'"),
        ("get_product", {"id": "../x"}, "expected an identifier"),
        ("get_contract", {"port": "a/b"}, "expected an identifier"),
        ("get_contract", {"port": ORDERS}, "is a product, not a port"),
        ("get_contract", {"port": f"{ORDERS}.nope"}, f"no output port '{ORDERS}.nope'"),
        ("search_products", {"query": "orders", "domain": "a/b"}, "domain: expected an identifier"),
        ("get_lineage", {"product_id": "../../etc"}, "expected an identifier"),
        ("get_quality", {"product_id": ORDERS, "since": "last week"}, "expected an ISO-8601 time"),
        ("request_access", {"port": ORDERS_V1, "consumer_product": CONSUMER, "purpose": "  "}, "purpose is empty"),
        ("request_access", {"port": ORDERS_V1, "consumer_product": "../x", "purpose": "x" * 20}, "identifier"),
        ("request_access", {"port": "a/b", "consumer_product": CONSUMER, "purpose": "x" * 20}, "identifier"),
        (
            "request_access",
            {"port": ORDERS_V1, "consumer_product": "recommendations.nope", "purpose": "x" * 20},
            "no product",
        ),
        (
            "request_access",
            {"port": f"{ORDERS}.nope", "consumer_product": CONSUMER, "purpose": "x" * 20},
            "no output port",
        ),
        ("request_access", {"port": ORDERS_V1, "consumer_product": ORDERS, "purpose": "x" * 20}, "with itself"),
        ("request_access", {"port": ORDERS_V1, "consumer_product": "nowhere.thing", "purpose": "x" * 20}, "no domain"),
        ("request_access", {"port": ORDERS_V1, "consumer_product": CONSUMER, "purpose": "too short"}, "purpose must"),
    ]:
        result = await call(client, tool, **arguments)
        assert result.is_error, (tool, arguments)
        assert says in result.content[0].text, (tool, arguments, result.content[0].text)
    assert agreement_files(root) == before


async def requests_access(client: Client, root: Path, env: dict[str, str]) -> None:
    before = agreement_files(root)
    purpose = "Learn which articles are bought together, for recommendations on product pages."
    got = await answer(client, "request_access", port=ORDERS_V1, consumer_product=CONSUMER, purpose=purpose)
    assert got["path"] == REQUEST_FILE
    assert got["status"] == "pending" and got["approved"] is False and got["committed"] is False
    assert f"mesh agreement approve {AGREEMENT}" in got["provider_approval_step"]
    assert "domains/checkout/agreements/approvals.yaml" in got["provider_approval_step"]
    after = agreement_files(root)
    assert set(after) - set(before) == {REQUEST_FILE}
    assert {k: v for k, v in after.items() if k != REQUEST_FILE} == before
    written = yaml.safe_load(after[REQUEST_FILE])
    assert (written["id"], written["provider"]["port"], written["purpose"]) == (AGREEMENT, ORDERS_V1, purpose)

    validate = subprocess.run(
        [MESH, "validate", "--no-prepare", "--domain", "recommendations"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = validate.stdout.splitlines()
    assert not [line for line in lines if line.startswith("error ")], validate.stdout
    pending = [line for line in lines if line.startswith("pending ")]
    assert len(pending) == 1 and AGREEMENT in pending[0] and "has not approved it" in pending[0], validate.stdout

    listed = await answer(client, "list_agreements", product_id=CONSUMER)
    assert [(a["port"], a["agreement_status"]) for a in listed["agreements"]] == [(ORDERS_V1, "pending")]
    again = await call(client, "request_access", port=ORDERS_V1, consumer_product=CONSUMER, purpose=purpose)
    assert again.is_error and "exists already" in again.content[0].text
    assert agreement_files(root) == after

    # An open port needs no approval; a consumer that does not read it yet is told to declare it.
    tenants = "brokerage.tenancy_analytics.current_tenants"
    got = await answer(client, "request_access", port=tenants, consumer_product=CONSUMER, purpose=purpose)
    assert (got["access"], got["status"]) == ("open", "active")
    assert got["provider_approval_step"].startswith("none:")
    assert any(f"declare an input port reading {tenants}" in step for step in got["consumer_next_steps"])
    assert set(agreement_files(root)) - set(after) == {got["path"]}


async def scenario(client: Client, root: Path, env: dict[str, str]) -> None:
    async with client:
        await lists_tools_and_resources(client, root)
        await answers_from_the_catalog(client, root)
        await bad_arguments_write_nothing(client, root)
        await requests_access(client, root, env)


def test_over_stdio(mesh_root, tmp_path):
    env = environment(mesh_root)
    params = StdioServerParameters(command=MESH, args=["catalog", "mcp"], env={**os.environ, **env}, cwd=mesh_root)
    with open(tmp_path / "server.log", "w") as log:
        asyncio.run(scenario(Client(stdio_client(params, errlog=log)), mesh_root, env))
    assert "Traceback" not in (tmp_path / "server.log").read_text()


def test_over_streamable_http(mesh_root, tmp_path):
    env = environment(mesh_root)
    port = free_port()
    log_file = tmp_path / "server.log"
    with open(log_file, "w") as log:
        server = subprocess.Popen(
            [MESH, "catalog", "mcp", "--http", "--port", str(port)],
            env={**os.environ, **env},
            cwd=mesh_root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log_file.read_text()
            try:
                requests.get(url, timeout=5)
                break
            except requests.RequestException:  # not listening yet
                assert time.monotonic() < deadline, log_file.read_text()
                time.sleep(0.5)
        asyncio.run(scenario(Client(streamable_http_client(url)), mesh_root, env))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert "Traceback" not in log_file.read_text()


# --- the checks after writing, which a request through the tool cannot reach ------------------
def test_a_request_file_outside_the_consumers_agreements_folder_is_removed(mesh_root, monkeypatch):
    monkeypatch.setenv("MESH_ROOT", str(mesh_root))
    domain = mesh_root / "domains/recommendations"
    stray = domain / "products" / "stray.yaml"
    stray.write_text("id: x\n")
    with pytest.raises(BadArgument, match="agreement requests are written in"):
        access._check_written(stray, domain / "agreements", domain)
    assert not stray.exists()


def test_a_request_file_the_mesh_refuses_is_removed(mesh_root, monkeypatch):
    monkeypatch.setenv("MESH_ROOT", str(mesh_root))
    domain = mesh_root / "domains/recommendations"
    written = mesh_root / REQUEST_FILE
    good = {
        "apiVersion": "v1.0.0",
        "kind": "DataUsageAgreement",
        "id": AGREEMENT,
        "consumer": {"product": CONSUMER, "inputPort": "web_orders_with_consent"},
        "provider": {"port": ORDERS_V1},
        "purpose": "short",  # the mesh asks for a sentence
        "start": "2026-12-01",
    }
    written.write_text(yaml.safe_dump(good))
    with pytest.raises(BadArgument, match="does not validate: .*purpose"):
        access._check_written(written, domain / "agreements", domain)
    assert not written.exists()


def test_host_and_port_without_http_are_refused():
    result = CliRunner().invoke(cli, ["catalog", "mcp", "--port", "9000"])
    assert result.exit_code == 2 and "--port apply to HTTP: add --http" in result.output, result.output
