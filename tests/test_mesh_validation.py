"""One validation: `mesh validate` and loading the code location report the same problems.

Each case makes one kind of cross-domain mistake in a copy of the repository's domains and
asserts that `mesh validate --domain <consumer>` prints exactly the problems (file:line:
field: message) that loading the consumer's code location raises, and that they point at
the line to edit. A valid copy passes both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_platform import settings
from mesh_platform.cli.main import cli
from mesh_platform.dagster_wiring.definitions import build_domain_definitions
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.publishing.target import DuckDBTarget
from mesh_platform.specs.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
WEB_ORDERS = "checkout.web_orders_with_consent.web_orders_with_consent"
CURRENT_TENANTS = "brokerage.tenancy_analytics.current_tenants"
REC_MODEL = "stg_checkout__web_orders_with_consent"
REC_SQL = f"dbt_projects/recommendations/models/staging/{REC_MODEL}.sql"  # reads WEB_ORDERS: mesh_input()
REC_SOURCES = "dbt_projects/recommendations/models/staging/_sources.yml"  # a hand-written source, in one case
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


def _set_raw_code(root: Path, domain: str, model: str, old: str, new: str) -> None:
    """Change a model's SQL in the parsed manifest, as `dbt parse` would after the same edit."""
    path = root / "dbt_projects" / domain / "target" / "dev" / "manifest.json"
    manifest = json.loads(path.read_text())
    node = next(n for n in manifest["nodes"].values() if n["name"] == model and n["package_name"] == domain)
    assert node["raw_code"].count(old) == 1, (model, old)
    node["raw_code"] = node["raw_code"].replace(old, new)
    path.write_text(json.dumps(manifest))


def _write(root: Path, rel: str, text: str) -> None:
    (root / rel).write_text(text)


def _cli_problems(domain: str, parse: bool) -> list[str]:
    result = CliRunner().invoke(cli, ["validate", "--domain", domain, *([] if parse else ["--no-prepare"])])
    assert result.exit_code == 1, result.output
    return [line.removeprefix("error ") for line in result.output.splitlines() if line.startswith("error ")]


def _location_problems(root: Path, domain: str) -> list[str]:
    with pytest.raises(SpecError) as exc:
        build_domain_definitions(root / "domains" / domain)
    return [str(p) for p in exc.value.problems]


WEB_ORDERS_CALL = f"{{{{ mesh_input('{WEB_ORDERS}') }}}}"
WEB_ORDERS_LINE = (REC_SQL, "mesh_input(")
# A source written by hand for the port (the platform generates it; mesh_input() reads it), reading
# the producer's warehouse instead of its published snapshot.
HAND_WRITTEN_SOURCE = f"""version: 2
sources:
  - name: checkout_orders
    tables:
      - name: web_orders_with_consent
        config:
          meta:
            mesh_input_port: {WEB_ORDERS}
            external_location: "read_parquet('{{{{ env_var('MESH_DATA_DIR', '../../data') }}}}/warehouse/checkout.duckdb')"
"""


def _sql_edit(old: str, new: str) -> list[tuple]:
    """The same change to recommendations' model reading WEB_ORDERS and to its parsed manifest."""
    return [("file", REC_SQL, old, new), ("code", "recommendations", REC_MODEL, old, new)]


# consumer domain, edits, (file, text on the reported line), message fragment, real dbt parse
CASES = {
    "dbt source names a port that does not exist": (
        "recommendations",
        _sql_edit(WEB_ORDERS, "checkout.web_orders_with_consent.web_orders_v2"),
        WEB_ORDERS_LINE,
        "has no output port 'web_orders_v2'",
        False,
    ),
    "dbt source reads another domain's internal model": (
        "recommendations",
        [("file", REC_SQL, WEB_ORDERS, "checkout.web_orders_with_consent.int_order_lines")],
        WEB_ORDERS_LINE,
        "'int_order_lines' is an internal model of domain 'checkout'",
        True,
    ),
    "dbt source names a domain that does not exist": (
        "recommendations",
        _sql_edit(WEB_ORDERS, "payments.web_orders_with_consent.web_orders"),
        WEB_ORDERS_LINE,
        "there is no domain 'payments'",
        False,
    ),
    "dbt source reads a file other than the port's published snapshot": (
        "recommendations",
        [
            ("write", REC_SOURCES, HAND_WRITTEN_SOURCE),
            ("file", REC_SQL, WEB_ORDERS_CALL, "{{ source('checkout_orders', 'web_orders_with_consent') }}"),
        ],
        (REC_SOURCES, "- name: web_orders_with_consent"),
        "must read the producer's published snapshot",
        True,
    ),
    "input port read by Python names a port that does not exist": (
        "risk",
        [("file", RISK_DESCRIPTOR, CURRENT_TENANTS, "brokerage.tenancy_analytics.current_tenantz")],
        (RISK_DESCRIPTOR, "brokerage.tenancy_analytics.current_tenantz"),
        "has no output port 'current_tenantz'",
        False,
    ),
    "input port read by Python names a product that does not exist": (
        "risk",
        [("file", RISK_DESCRIPTOR, CURRENT_TENANTS, "brokerage.tenancy.current_tenants")],
        (RISK_DESCRIPTOR, "brokerage.tenancy.current_tenants"),
        "domain 'brokerage' has no product 'tenancy'",
        False,
    ),
    "declared input port read by nothing": (
        "recommendations",
        _sql_edit(WEB_ORDERS_CALL, "(select 1 as order_number)"),
        (REC_DESCRIPTOR, WEB_ORDERS),
        f"input port '{WEB_ORDERS}' is read by no dbt source",
        False,
    ),
    "input port with the wrong contract id": (
        "recommendations",
        [("file", REC_DESCRIPTOR, "contractId: web-orders-with-consent-v1", "contractId: web-orders-v9")],
        (REC_DESCRIPTOR, "contractId: web-orders-v9"),
        "expected 'web-orders-with-consent-v1'",
        False,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_mesh_validate_and_the_code_location_report_the_same_file_line(mesh_root, case):
    consumer, edits, (where_file, where_text), fragment, parse = CASES[case]
    for kind, *args in edits:
        {"file": _edit, "code": _set_raw_code, "write": _write}[kind](mesh_root, *args)
    cli = _cli_problems(consumer, parse)
    location = _location_problems(mesh_root, consumer)
    assert cli == location
    expected = f"{mesh_root / where_file}:{_line(mesh_root, where_file, where_text)}:"
    assert any(p.startswith(expected) and fragment in p for p in location), (expected, fragment, location)


def test_a_producing_domain_that_does_not_load_fails_only_itself(mesh_root):
    """Issue 19: a broken domain fails only its own code location. Its consumer still passes
    both (`mesh validate` and loading its location); the producer's problem is reported once,
    under the producer (tests/test_domain_isolation.py has one case per cross-domain reader)."""
    _edit(mesh_root, CHECKOUT_DESCRIPTOR, "status: active", "status: shipped")
    result = CliRunner().invoke(cli, ["validate", "--domain", "recommendations", "--no-prepare"])
    assert result.exit_code == 0, result.output
    assert build_domain_definitions(mesh_root / "domains" / "recommendations") is not None
    problems = _cli_problems("checkout", False)
    line = _line(mesh_root, CHECKOUT_DESCRIPTOR, "status: shipped")
    assert [p for p in problems if p.startswith(f"{mesh_root / CHECKOUT_DESCRIPTOR}:{line}: status:")], problems


def test_a_valid_copy_passes_both(mesh_root):
    result = CliRunner().invoke(cli, ["validate", "--no-prepare"])
    assert result.exit_code == 0, result.output
    for domain in ("checkout", "recommendations", "brokerage", "risk"):
        assert build_domain_definitions(mesh_root / "domains" / domain) is not None


def test_every_port_knows_its_consumers(mesh_root):
    mesh = Mesh.load(mesh_root / "domains")
    tenants = mesh.consumers_of(CURRENT_TENANTS)
    assert {(e.consumer_domain, e.consumer_product, e.input_port, e.kind) for e in tenants} == {
        ("risk", "entity_ratings", "current_tenants", "python")
    }
    web_orders = mesh.consumers_of(PortAddress.parse(WEB_ORDERS))
    assert [(e.consumer_domain, e.kind, e.reader) for e in web_orders] == [
        ("recommendations", "dbt_source", "source checkout__web_orders_with_consent.web_orders_with_consent")
    ]
    assert web_orders[0].file == mesh_root / REC_SQL
    assert web_orders[0].line == _line(mesh_root, REC_SQL, "mesh_input(")
    consumer = mesh.product("recommendations", "articles_bought_together")
    assert [e.producer for e in mesh.producers_of(consumer)] == [PortAddress.parse(WEB_ORDERS)]
    assert mesh.port(WEB_ORDERS).contract.id == "web-orders-with-consent-v1"
    assert {str(p.address) for p in mesh.ports} >= {WEB_ORDERS, CURRENT_TENANTS}


def test_port_address():
    address = PortAddress.parse(WEB_ORDERS)
    assert str(address) == WEB_ORDERS and address.key_path == tuple(WEB_ORDERS.split("."))
    assert address.asset_key.path == list(address.key_path)
    assert PortAddress.from_key(address.asset_key) == address
    duckdb_target = DuckDBTarget()
    tail = duckdb_target.read_path(address, partitioned=False).relative_to(settings.data_dir()).as_posix()
    assert tail == "published/checkout/web_orders_with_consent/web_orders_with_consent/current.parquet"
    assert str(duckdb_target.live_path(address)).endswith(tail)
    for bad in ("checkout.web_orders", "Checkout.a.b", "a.b.c.d", "", None, "a..b"):
        with pytest.raises(ValueError, match="<domain>.<product>.<port>"):
            PortAddress.parse(bad)
