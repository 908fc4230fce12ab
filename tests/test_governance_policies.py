"""Every built-in policy: inject one violation into a copy of the mesh and see `mesh lint` name
the policy, its severity and file:line, with the right exit code; exceptions and their expiry."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from governance_fixtures import column, copy_mesh, edit_yaml, schema_object

from mesh_platform.cli.main import cli
from mesh_platform.governance.config import load_governance
from mesh_platform.governance.engine import evaluate
from mesh_platform.governance.registry import registry
from mesh_platform.mesh import Mesh
from mesh_platform.specs.yaml_source import load_yaml

CHECKOUT = "checkout.web_orders_with_consent.web_orders_with_consent"
RENT = "brokerage.tenancy_analytics.rent_by_month_and_tenant"


@pytest.fixture
def mesh_copy(mesh_data, tmp_path, monkeypatch):
    root = copy_mesh(tmp_path / "repo")
    monkeypatch.setenv("MESH_ROOT", str(root))
    return root


def _port(address: str):
    return Mesh.load().port(address)


def _lint() -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["lint", "--no-prepare", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def _line(file, path) -> int:
    return path if isinstance(path, int) else load_yaml(file).line_of(tuple(path))


# Each case edits the copy and returns (file, yaml path) where the violation must be reported.
def _no_support(root):
    port = _port(CHECKOUT)
    for other in port.product.ports:
        edit_yaml(other.contract.file, lambda c: c.pop("support", None))
    edit_yaml(port.product.file, lambda d: d.pop("support", None))
    return port.product.file, ("support",)


def _no_contract_team(root):
    port = _port(CHECKOUT)
    edit_yaml(port.contract.file, lambda c: c.pop("team"))
    return port.contract.file, ("team",)


def _wrong_contract_id(root):
    port = _port(CHECKOUT)
    edit_yaml(port.product.file, lambda d: d["outputPorts"][0].update(contractId="no-such-contract-v1"))
    return port.product.file, ("outputPorts", 0, "contractId")


def _no_freshness(root):
    port = _port(CHECKOUT)
    edit_yaml(
        port.contract.file,
        lambda c: c.update(
            slaProperties=[
                p for p in c["slaProperties"] if p["property"] not in ("freshness", "latency", "timeOfAvailability")
            ]
        ),
    )
    return port.contract.file, ("slaProperties",)


def _no_quality(root):
    port = _port(CHECKOUT)

    def strip(c):
        obj = schema_object(c, port.model)
        obj.pop("quality", None)
        for prop in obj["properties"]:
            prop.pop("quality", None)

    edit_yaml(port.contract.file, strip)
    return port.contract.file, ("schema", 0, "quality")


def _pii_unclassified(root):
    port = _port(CHECKOUT)
    edit_yaml(
        port.contract.file, lambda c: column(schema_object(c, port.model), "shipping_customer_id").pop("classification")
    )
    i = [p.name for p in port.schema.properties].index("shipping_customer_id")
    return port.contract.file, ("schema", 0, "properties", i, "name")


def _pii_no_retention(root):
    port = _port(CHECKOUT)
    edit_yaml(
        port.contract.file,
        lambda c: c.update(slaProperties=[p for p in c["slaProperties"] if p["property"] != "retention"]),
    )
    return port.contract.file, ("slaProperties",)


def _no_primary_key(root):
    port = _port(CHECKOUT)

    def strip(c):
        for prop in schema_object(c, port.model)["properties"]:
            prop.pop("primaryKey", None)
            prop.pop("primaryKeyPosition", None)

    edit_yaml(port.contract.file, strip)
    return port.contract.file, ("schema", 0, "properties")


def _key_nullable(root):
    port = _port(CHECKOUT)
    edit_yaml(
        port.contract.file, lambda c: column(schema_object(c, port.model), "order_line_id").update(required=False)
    )
    return port.contract.file, ("schema", 0, "properties", 0, "primaryKey")


CHECKOUT_SQL = "dbt_projects/checkout/models/marts/web_orders_with_consent.sql"


def _edit_model(root, change) -> Path:
    """Change checkout's port model in its parsed manifest, as `dbt parse` would record an edit
    of its SQL (the properties are generated from the contract); returns the SQL file."""
    path = root / "dbt_projects/checkout/target/dev/manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest["nodes"]["model.checkout.web_orders_with_consent"])
    path.write_text(json.dumps(manifest))
    return root / CHECKOUT_SQL


def _dbt_model_protected(root):
    config = "{{ config(access='protected') }}\n"
    (root / CHECKOUT_SQL).write_text(config + (root / CHECKOUT_SQL).read_text())

    def protect(node):
        node["access"] = node["config"]["access"] = "protected"
        node["raw_code"] = config + node["raw_code"]

    return _edit_model(root, protect), 1  # the config() call overriding the generated access


def _dbt_type_mismatch(root):
    # a manifest whose column type is not the contract's (parsed before the contract changed):
    # reported at the contract's column, the source of truth of the generated dbt columns
    _edit_model(root, lambda node: node["columns"]["quantity"].update(data_type="string"))
    port = _port(CHECKOUT)
    i = [p.name for p in port.schema.properties].index("quantity")
    return port.contract.file, ("schema", 0, "properties", i, "physicalType")


def _mesh_input_undeclared(root):
    """recommendations' model reads a port with mesh_input() that no product declares."""
    sql = root / "dbt_projects/recommendations/models/staging/stg_checkout__web_orders_with_consent.sql"
    old, new = f"mesh_input('{CHECKOUT}')", "mesh_input('brokerage.tenancy_analytics.current_tenants')"
    sql.write_text(sql.read_text().replace(old, new))
    path = root / "dbt_projects/recommendations/target/dev/manifest.json"
    manifest = json.loads(path.read_text())
    node = manifest["nodes"]["model.recommendations.stg_checkout__web_orders_with_consent"]
    node["raw_code"] = node["raw_code"].replace(old, new)
    path.write_text(json.dumps(manifest))
    return sql, next(i for i, line in enumerate(sql.read_text().splitlines(), 1) if new in line)


def _input_port_wrong_contract(root):
    product = Mesh.load().product("recommendations", "articles_bought_together")
    edit_yaml(product.file, lambda d: d["inputPorts"][0].update(contractId="some-other-contract-v1"))
    return product.file, ("inputPorts", 0, "contractId")


def _invalid_contract(root):
    port = _port(CHECKOUT)
    edit_yaml(
        port.contract.file, lambda c: column(schema_object(c, port.model), "quantity").update(logicalType="wholenumber")
    )
    i = [p.name for p in port.schema.properties].index("quantity")
    return port.contract.file, ("schema", 0, "properties", i, "logicalType")


def _contract_id_convention(root):
    port = _port(CHECKOUT)
    edit_yaml(port.contract.file, lambda c: c.update(id="checkout-orders-v1"))
    edit_yaml(port.product.file, lambda d: d["outputPorts"][0].update(contractId="checkout-orders-v1"))

    def consumer(d):
        d["inputPorts"][0]["contractId"] = "checkout-orders-v1"

    edit_yaml(Mesh.load().product("recommendations", "articles_bought_together").file, consumer)
    return port.contract.file, ("id",)


def _lei_without_pattern(root):
    port = _port(RENT)
    edit_yaml(
        port.contract.file,
        lambda c: column(schema_object(c, port.model), "tenant_lei")["logicalTypeOptions"].pop("pattern"),
    )
    i = [p.name for p in port.schema.properties].index("tenant_lei")
    return port.contract.file, ("schema", 0, "properties", i, "name")


def _deprecated_without_sunset(root):
    port = _port(RENT)
    edit_yaml(port.contract.file, lambda c: c.update(status="deprecated"))
    return port.contract.file, ("customProperties",)


CASES = [
    ("product-ownership", "error", _no_support),
    ("port-contract", "error", _no_contract_team),
    ("port-contract", "error", _wrong_contract_id),
    ("contract-sla", "error", _no_freshness),
    ("contract-quality", "error", _no_quality),
    ("pii-classified", "error", _pii_unclassified),
    ("pii-retention", "error", _pii_no_retention),
    ("primary-key", "error", _no_primary_key),
    ("key-not-null", "error", _key_nullable),
    ("dbt-model-public", "error", _dbt_model_protected),
    ("dbt-contract-matches", "error", _dbt_type_mismatch),
    ("consumers-read-output-ports", "error", _input_port_wrong_contract),
    ("consumers-read-output-ports", "error", _mesh_input_undeclared),
    ("valid-specs", "error", _invalid_contract),
    ("naming", "warning", _contract_id_convention),
    ("common-references", "error", _lei_without_pattern),
    ("deprecation-notice", "error", _deprecated_without_sunset),
]


def test_repository_passes_every_policy(mesh_copy):
    code, report = _lint()
    assert code == 0, report["violations"]
    assert report["errors"] == 0 and report["warnings"] == 0
    assert set(report["policies"]) == set(registry())  # every built-in policy is in force here
    assert all(p["policies"] == f"{len(registry())}/{len(registry())}" for p in report["ports"].values())


def test_every_policy_has_an_injection_case():
    assert {policy for policy, _, _ in CASES} == set(registry())


@pytest.mark.parametrize("policy,severity,inject", CASES, ids=[f"{c[0]}-{c[2].__name__}" for c in CASES])
def test_injected_violation_is_reported(mesh_copy, policy, severity, inject):
    file, path = inject(mesh_copy)
    code, report = _lint()
    found = [v for v in report["violations"] if v["policy"] == policy]
    assert found, report["violations"]
    v = found[0]
    assert v["severity"] == severity
    assert v["file"] == str(file) and v["line"] == _line(file, path), v
    # One violation injected, one policy fails in that domain (a domain that no longer loads also
    # fails its consumers' input ports, reported in their domains).
    others = [x for x in report["violations"] if x["policy"] != policy and x["domain"] == v["domain"]]
    assert not others, others
    assert code == (1 if severity == "error" else 0)


def _add_exception(root, expires: date):
    def add(doc):
        doc["exceptions"] = [
            {
                "policy": "pii-retention",
                "domain": "checkout",
                "product": "web_orders_with_consent",
                "reason": "retention period under legal review (ticket GOV-12)",
                "expires": expires.isoformat(),
            }
        ]

    edit_yaml(root / "governance/policies.yaml", add)


def test_exception_exempts_until_it_expires(mesh_copy):
    _pii_no_retention(mesh_copy)
    _add_exception(mesh_copy, date.today())  # the expiry day itself still applies
    code, report = _lint()
    assert code == 0
    assert [v["policy"] for v in report["violations"]] == ["pii-retention"]
    assert report["violations"][0]["exempted_by"].startswith("pii-retention for checkout.web_orders_with_consent")
    assert report["ports"][CHECKOUT]["policies"] == f"{len(registry())}/{len(registry())}"


def test_expired_exception_stops_exempting(mesh_copy):
    _pii_no_retention(mesh_copy)
    _add_exception(mesh_copy, date.today() - timedelta(days=1))
    code, report = _lint()
    assert code == 1
    v = next(v for v in report["violations"] if v["policy"] == "pii-retention")
    assert v["exempted_by"] is None and v["blocking"]
    assert report["expired_exceptions"] and "GOV-12" in report["expired_exceptions"][0]
    assert report["ports"][CHECKOUT]["failing"] == ["pii-retention"]


def test_bad_policies_file_names_the_line(mesh_copy):
    file = mesh_copy / "governance/policies.yaml"
    edit_yaml(file, lambda d: d["policies"].update({"no-such-policy": {"severity": "error"}}))
    result = CliRunner().invoke(cli, ["lint", "--no-prepare"])
    assert result.exit_code == 2
    assert f"{file}:{_line(file, ('policies', 'no-such-policy'))}" in result.output
    assert "unknown policy 'no-such-policy'" in result.output


def test_error_violation_blocks_publishing_the_port(mesh_copy):
    from mesh_platform.dagster_wiring.policy_checks import blocked_ports

    _key_nullable(mesh_copy)
    mesh = Mesh.load()
    blocked = blocked_ports(evaluate(mesh, load_governance(), ["checkout"], validate=False))
    assert list(blocked) == [CHECKOUT] and "key-not-null" in blocked[CHECKOUT][0]


def test_deprecated_port_needs_its_notice_period(mesh_copy):
    from mesh_platform.governance.policies.deprecation import add_period

    assert add_period(date(2026, 11, 30), "P3M") == date(2027, 2, 28)
    port = _port(RENT)

    def deprecate(c):
        c["status"] = "deprecated"
        c.setdefault("customProperties", []).extend(
            [
                {"property": "deprecatedOn", "value": "2026-11-21"},
                {"property": "sunsetDate", "value": "2026-12-01"},
                {"property": "supersededBy", "value": "no-such-contract-v2"},
            ]
        )

    edit_yaml(port.contract.file, deprecate)
    code, report = _lint()
    messages = [v["message"] for v in report["violations"] if v["policy"] == "deprecation-notice"]
    assert code == 1 and len(messages) == 2
    assert "less than the notice period" in messages[0] and "supersededBy 'no-such-contract-v2'" in messages[1]


def test_junit_output_fails_the_violating_case(mesh_copy):
    _key_nullable(mesh_copy)
    result = CliRunner().invoke(cli, ["lint", "--no-prepare", "--format", "junit"])
    assert result.exit_code == 1
    import xml.etree.ElementTree as ET

    root = ET.fromstring(result.output.split("\n", 1)[1] if result.output.startswith("<?xml") else result.output)
    failing = [(c.get("classname"), c.get("name")) for c in root.iter("testcase") if c.find("failure") is not None]
    assert failing == [(CHECKOUT, "key-not-null")]
