"""One validation: `mesh validate` and loading the code location report the same problems.

Each case makes one kind of cross-domain mistake in a copy of the repository's domains and
asserts that `mesh validate --domain <consumer>` prints exactly the problems (file:line:
field: message) that loading the consumer's code location raises, and that they point at
the line to edit. A valid copy passes both.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_platform.cli.main import cli
from mesh_platform.dagster_wiring.definitions import build_domain_definitions
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.specs.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
WEB_ORDERS = "checkout.web_orders_with_consent.web_orders_with_consent"
CURRENT_TENANTS = "brokerage.tenancy_analytics.current_tenants"
REC_SOURCES = "dbt_projects/recommendations/models/staging/_sources.yml"
REC_DESCRIPTOR = "domains/recommendations/products/articles_bought_together/dataproduct.yaml"
RISK_DESCRIPTOR = "domains/risk/products/entity_ratings/dataproduct.yaml"
CHECKOUT_DESCRIPTOR = "domains/checkout/products/web_orders_with_consent/dataproduct.yaml"


@pytest.fixture
def mesh_root(mesh_data, tmp_path, monkeypatch) -> Path:
    """A copy of every domain and dbt project, with the session's parsed manifests."""
    shutil.copytree(ROOT / "domains", tmp_path / "domains", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "dbt_projects", tmp_path / "dbt_projects", ignore=shutil.ignore_patterns("logs"))
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    return tmp_path


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert text.count(old) == 1, (rel, old)
    path.write_text(text.replace(old, new))


def _line(root: Path, rel: str, needle: str) -> int:
    return next(i for i, line in enumerate((root / rel).read_text().splitlines(), 1) if needle in line)


def _cli_problems(domain: str) -> list[str]:
    result = CliRunner().invoke(cli, ["validate", "--domain", domain])
    assert result.exit_code == 1, result.output
    return [line.removeprefix("error ") for line in result.output.splitlines() if line.startswith("error ")]


def _location_problems(root: Path, domain: str) -> list[str]:
    with pytest.raises(SpecError) as exc:
        build_domain_definitions(root / "domains" / domain)
    return [str(p) for p in exc.value.problems]


# (consumer domain, edits [(file, old, new)], (file, text on the reported line), message fragment)
CASES = {
    "dbt source names a port that does not exist": (
        "recommendations",
        [(REC_SOURCES, f"mesh_input_port: {WEB_ORDERS}", "mesh_input_port: checkout.web_orders_with_consent.web_orders_v2")],
        (REC_SOURCES, "- name: web_orders_with_consent"), "has no output port 'web_orders_v2'"),
    "dbt source reads another domain's internal model": (
        "recommendations",
        [(REC_SOURCES, f"mesh_input_port: {WEB_ORDERS}", "mesh_input_port: checkout.web_orders_with_consent.int_order_lines")],
        (REC_SOURCES, "- name: web_orders_with_consent"), "'int_order_lines' is an internal model of domain 'checkout'"),
    "dbt source names a domain that does not exist": (
        "recommendations",
        [(REC_SOURCES, f"mesh_input_port: {WEB_ORDERS}", "mesh_input_port: payments.web_orders_with_consent.web_orders")],
        (REC_SOURCES, "- name: web_orders_with_consent"), "there is no domain 'payments'"),
    "dbt source reads a published snapshot other than its port's": (
        "recommendations",
        [(REC_SOURCES, "published/checkout/web_orders_with_consent/web_orders_with_consent/current.parquet",
          "warehouse/checkout.duckdb")],
        (REC_SOURCES, "- name: web_orders_with_consent"), "must read the producer's published snapshot"),
    "input port read by Python names a port that does not exist": (
        "risk",
        [(RISK_DESCRIPTOR, CURRENT_TENANTS, CURRENT_TENANTS + "z")],
        (RISK_DESCRIPTOR, CURRENT_TENANTS + "z"), "has no output port 'current_tenantz'"),
    "input port read by Python names a product that does not exist": (
        "risk",
        [(RISK_DESCRIPTOR, CURRENT_TENANTS, "brokerage.tenancy.current_tenants")],
        (RISK_DESCRIPTOR, "brokerage.tenancy.current_tenants"), "domain 'brokerage' has no product 'tenancy'"),
    "declared input port read by nothing": (
        "recommendations",
        [(REC_SOURCES, f"mesh_input_port: {WEB_ORDERS}\n", "")],
        (REC_DESCRIPTOR, WEB_ORDERS), f"input port '{WEB_ORDERS}' is read by no dbt source"),
    "input port with the wrong contract id": (
        "recommendations",
        [(REC_DESCRIPTOR, "contractId: web-orders-with-consent-v1", "contractId: web-orders-v9")],
        (REC_DESCRIPTOR, "contractId: web-orders-v9"), "expected 'web-orders-with-consent-v1'"),
    "producing domain does not load": (
        "recommendations",
        [(CHECKOUT_DESCRIPTOR, "status: active", "status: shipped")],
        (REC_SOURCES, "- name: web_orders_with_consent"), "the producing domain does not load"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_mesh_validate_and_the_code_location_report_the_same_file_line(mesh_root, case):
    consumer, edits, (where_file, where_text), fragment = CASES[case]
    for rel, old, new in edits:
        _edit(mesh_root, rel, old, new)
    cli = _cli_problems(consumer)
    location = _location_problems(mesh_root, consumer)
    assert cli == location
    expected = f"{mesh_root / where_file}:{_line(mesh_root, where_file, where_text)}:"
    assert any(p.startswith(expected) and fragment in p for p in location), (expected, fragment, location)


def test_a_valid_copy_passes_both(mesh_root):
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    for domain in ("checkout", "recommendations", "brokerage", "risk"):
        assert build_domain_definitions(mesh_root / "domains" / domain) is not None


def test_every_port_knows_its_consumers(mesh_root):
    mesh = Mesh.load(mesh_root / "domains")
    tenants = mesh.consumers_of(CURRENT_TENANTS)
    assert {(e.consumer_domain, e.consumer_product, e.input_port, e.kind) for e in tenants} == {
        ("risk", "entity_ratings", "current_tenants", "python")}
    web_orders = mesh.consumers_of(PortAddress.parse(WEB_ORDERS))
    assert [(e.consumer_domain, e.kind, e.reader) for e in web_orders] == [
        ("recommendations", "dbt_source", "source checkout__web_orders_with_consent.web_orders_with_consent")]
    assert web_orders[0].file == mesh_root / REC_SOURCES
    assert web_orders[0].line == _line(mesh_root, REC_SOURCES, "- name: web_orders_with_consent")
    consumer = mesh.product("recommendations", "articles_bought_together")
    assert [e.producer for e in mesh.producers_of(consumer)] == [PortAddress.parse(WEB_ORDERS)]
    assert mesh.port(WEB_ORDERS).contract.id == "web-orders-with-consent-v1"
    assert {str(p.address) for p in mesh.ports} >= {WEB_ORDERS, CURRENT_TENANTS}


def test_port_address():
    address = PortAddress.parse(WEB_ORDERS)
    assert str(address) == WEB_ORDERS and address.key_path == tuple(WEB_ORDERS.split("."))
    assert address.asset_key.path == list(address.key_path)
    assert PortAddress.from_key(address.asset_key) == address
    assert address.published_tail == "published/checkout/web_orders_with_consent/web_orders_with_consent/current.parquet"
    assert str(address.published_file()).endswith(address.published_tail)
    for bad in ("checkout.web_orders", "Checkout.a.b", "a.b.c.d", "", None, "a..b"):
        with pytest.raises(ValueError, match="<domain>.<product>.<port>"):
            PortAddress.parse(bad)
