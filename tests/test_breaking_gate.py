"""The breaking-change gate in a temporary git repository holding a copy of the mesh."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from governance_fixtures import ROOT, column, copy_mesh, edit_yaml, schema_object

from mesh_platform.cli.main import cli
from mesh_platform.governance.diff import BREAKING, INFO, NON_BREAKING, diff_contract
from mesh_platform.mesh import Mesh
from mesh_platform.specs.contract import load_contract

CHECKOUT = "checkout.web_orders_with_consent.web_orders_with_consent"


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def repo(mesh_data, tmp_path, monkeypatch) -> Path:
    root = copy_mesh(tmp_path / "repo")
    (root / ".gitignore").write_text("dbt_projects/*/target/\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    monkeypatch.setenv("MESH_ROOT", str(root))
    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path / "data"))  # nothing published
    return root


def _breaking(fmt: str = "json"):
    result = CliRunner().invoke(cli, ["breaking", "--base", "HEAD", "--format", fmt])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, (json.loads(result.output) if fmt == "json" else result.output)


def _drop_column(file: Path, model: str, name: str) -> None:
    def drop(c):
        obj = schema_object(c, model)
        obj["properties"] = [p for p in obj["properties"] if p["name"] != name]

    edit_yaml(file, drop)


def _rename(value, old: str, new: str):
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _rename(v, old, new) for k, v in value.items()}
    return value


def _publish_v2_beside_v1(drop: str) -> None:
    """Major version 2 of the port as `<port>_v2` (contract `<port-with-dashes>-v2`) beside v1,
    which is deprecated with a sunset date; v1 itself is unchanged."""
    port = Mesh.load().port(CHECKOUT)
    major = 2 + sum(1 for p in port.product.ports if p.name.startswith(f"{port.name}_v"))
    v2_name, v2_id = f"{port.name}_v{major}", port.contract.id.replace("-v1", f"-v{major}")
    v2_file = port.contract.file.with_name(port.contract.file.name.replace(port.name, v2_name))
    contract = yaml.safe_load(port.contract.file.read_text())
    contract = _rename(contract, port.model, f"{port.model}_v{major}")
    contract.update(id=v2_id, version=f"{major}.0.0")
    v2_file.write_text(yaml.safe_dump(contract, sort_keys=False))
    _drop_column(v2_file, f"{port.model}_v{major}", drop)

    def add_port(d):
        entry = copy.deepcopy(d["outputPorts"][port.index])
        entry = _rename(entry, port.model, f"{port.model}_v{major}")
        entry.update(name=v2_name, contractId=v2_id, version=f"{major}.0.0")
        d["outputPorts"].append(entry)

    edit_yaml(port.product.file, add_port)

    def deprecate(c):
        c["status"] = "deprecated"
        c["customProperties"] = [
            p
            for p in c.get("customProperties", [])
            if p["property"] not in ("deprecatedOn", "sunsetDate", "supersededBy")
        ]
        c["customProperties"].extend(
            [
                {"property": "deprecatedOn", "value": date.today().isoformat()},
                {"property": "sunsetDate", "value": (date.today() + timedelta(days=120)).isoformat()},
                {"property": "supersededBy", "value": v2_id},
            ]
        )

    edit_yaml(port.contract.file, deprecate)


def test_removing_a_column_a_consumer_reads_fails_naming_the_consumer(repo):
    port = Mesh.load().port(CHECKOUT)
    _drop_column(port.contract.file, port.model, "item_category")
    code, report = _breaking()
    assert code == 1 and report["passed"] is False
    changed = next(p for p in report["ports"] if p["port"] == CHECKOUT)
    assert changed["fails"]
    assert [(c["kind"], c["what"], c["column"]) for c in changed["changes"]] == [
        (BREAKING, "column removed", "item_category")
    ]
    consumer = next(c for c in changed["consumers"] if c["product"] == "articles_bought_together")
    assert consumer["domain"] == "recommendations"
    assert consumer["input_port"] == "web_orders_with_consent"
    assert consumer["team"] == "Recommendations Team"
    assert consumer["columns"]["item_category"].startswith("reads (stg_checkout__web_orders_with_consent")
    code, markdown = _breaking("markdown")
    assert code == 1
    assert "| recommendations.articles_bought_together | `web_orders_with_consent` | Recommendations Team |" in markdown
    assert "`item_category`: reads" in markdown
    code, table = _breaking("table")
    assert "FAILS" in table and "Recommendations Team" in table


def test_the_gate_reports_each_breaking_change_as_a_problem_with_its_rule(repo):
    port = Mesh.load().port(CHECKOUT)
    _drop_column(port.contract.file, port.model, "item_category")
    code, report = _breaking()
    changed = next(p for p in report["ports"] if p["port"] == CHECKOUT)
    assert [(p["rule"], p["severity"], p["field"]) for p in changed["problems"]] == [
        ("breaking.change", "error", "item_category")
    ]
    assert changed["problems"][0]["message"] == changed["changes"][0]["message"]
    added = [p for p in report["ports"] if p["status"] == "added"]
    assert all(p["problems"] == [] for p in added)


def test_a_column_no_consumer_reads_is_still_breaking_but_named_as_unread(repo):
    port = Mesh.load().port(CHECKOUT)
    _drop_column(port.contract.file, port.model, "ship_date")
    code, report = _breaking()
    assert code == 1
    changed = next(p for p in report["ports"] if p["port"] == CHECKOUT)
    consumer = next(c for c in changed["consumers"] if c["product"] == "articles_bought_together")
    assert consumer["columns"] == {"ship_date": "does not read"}


def test_same_change_as_a_new_major_version_beside_v1_passes(repo):
    _publish_v2_beside_v1(drop="item_category")
    code, report = _breaking()
    assert code == 0 and report["passed"] is True, report
    added = next(p for p in report["ports"] if p["status"] == "added")
    assert added["port"].startswith(CHECKOUT + "_v")
    assert "beside " + CHECKOUT in added["changes"][0]["message"]
    v1 = next(p for p in report["ports"] if p["port"] == CHECKOUT)
    assert {c["kind"] for c in v1["changes"]} == {INFO}  # deprecation terms only
    # and the v2 port follows the naming policy
    result = CliRunner().invoke(cli, ["lint", "--no-prepare", "--format", "json", "--domain", "checkout"])
    naming = [v for v in json.loads(result.output)["violations"] if v["policy"] == "naming"]
    assert naming == []


def test_major_bump_in_place_still_fails(repo):
    port = Mesh.load().port(CHECKOUT)
    _drop_column(port.contract.file, port.model, "item_category")
    edit_yaml(port.contract.file, lambda c: c.update(version="2.0.0"))
    code, report = _breaking()
    assert code == 1


def test_adding_an_optional_column_passes(repo):
    port = Mesh.load().port(CHECKOUT)
    edit_yaml(
        port.contract.file,
        lambda c: schema_object(c, port.model)["properties"].append(
            {"name": "coupon_code", "logicalType": "string", "physicalType": "varchar"}
        ),
    )
    code, report = _breaking()
    assert code == 0
    changed = next(p for p in report["ports"] if p["port"] == CHECKOUT)
    assert [(c["kind"], c["what"]) for c in changed["changes"]] == [(NON_BREAKING, "column added")]


def test_removing_a_port_fails_unless_past_its_sunset(repo):
    product = Mesh.load().product("recommendations", "articles_bought_together")
    port = product.ports[0]
    shutil.rmtree(product.dir)
    code, report = _breaking()
    assert code == 1
    assert next(p for p in report["ports"] if p["port"] == port.address)["changes"][0]["what"] == "product removed"


# ------------------------------------------------------------------------------ classification
def _changed(tmp_path, edit) -> list[tuple[str, str]]:
    port = Mesh.load().port(CHECKOUT)
    file = tmp_path / port.contract.file.name
    shutil.copy(port.contract.file, file)
    edit_yaml(file, lambda c: edit(c, schema_object(c, port.model)))
    return [(c.kind, c.what) for c in diff_contract(port.contract, load_contract(file), port.model)]


@pytest.mark.parametrize(
    "edit,expected",
    [
        (lambda c, o: column(o, "quantity").update(physicalType="bigint"), (NON_BREAKING, "type widened")),
        (lambda c, o: column(o, "line_amount").update(physicalType="decimal(10,2)"), (BREAKING, "type changed")),
        (
            lambda c, o: column(o, "item_id").update(logicalType="integer", physicalType="integer"),
            (BREAKING, "type changed"),
        ),
        (lambda c, o: column(o, "quantity")["logicalTypeOptions"].update(minimum=2), (BREAKING, "bound tightened")),
        (lambda c, o: column(o, "quantity")["logicalTypeOptions"].update(minimum=0), (NON_BREAKING, "bound loosened")),
        (lambda c, o: column(o, "item_id").update(logicalTypeOptions={"maxLength": 20}), (BREAKING, "bound tightened")),
        (lambda c, o: column(o, "ship_date").update(required=True), (BREAKING, "required added")),
        (lambda c, o: column(o, "item_id").update(unique=True), (BREAKING, "unique added")),
        (
            lambda c, o: column(o, "billing_customer_id").update(classification="internal"),
            (BREAKING, "classification lowered"),
        ),
        (
            lambda c, o: next(s for s in c["slaProperties"] if s["property"] == "freshness").update(
                value=48, valueExt=40
            ),
            (BREAKING, "SLA weakened"),
        ),
        (
            lambda c, o: next(s for s in c["slaProperties"] if s["property"] == "retention").update(value=5),
            (BREAKING, "SLA weakened"),
        ),
        (
            lambda c, o: next(
                q for q in column(o, "item_category")["quality"] if q.get("id") == "null_values_pct"
            ).update(mustBeLessThan=0.5),
            (BREAKING, "quality threshold tightened"),
        ),
        (
            lambda c, o: next(
                q for q in column(o, "item_category")["quality"] if q.get("id") == "null_values_pct"
            ).update(mustBeLessThan=5),
            (NON_BREAKING, "quality threshold loosened"),
        ),
        (
            lambda c, o: column(o, "order_number").update(description="Another description."),
            (INFO, "description changed"),
        ),
        (lambda c, o: c["description"].update(usage="Anything."), (INFO, "terms changed")),
    ],
)
def test_change_classification(mesh_data, tmp_path, edit, expected):
    assert _changed(tmp_path, edit) == [expected]


def test_enum_value_removed_is_breaking_and_added_is_not(mesh_data, tmp_path):
    """Allowed values, the ODCS way: a library rule invalidValues with arguments.validValues."""

    def edit(c, o):
        rule = next(q for q in column(o, "item_category")["quality"] if q.get("metric") == "invalidValues")
        rule["arguments"]["validValues"] = [v for v in rule["arguments"]["validValues"] if v != "Books"] + ["Pets"]

    assert sorted(_changed(tmp_path, edit)) == sorted(
        [(BREAKING, "enum value removed"), (NON_BREAKING, "enum value added")]
    )


# ------------------------------------------------------------------------------ consumers on a clean clone
@pytest.fixture
def clean_clone(tmp_path, monkeypatch) -> Path:
    """A git repository holding the mesh as a fresh clone has it: no dbt_projects/*/target/.
    Two domains (the producer and its consumer) keep the test's `dbt parse` runs to two."""
    root = tmp_path / "repo"
    for domain in ("checkout", "recommendations"):
        shutil.copytree(
            ROOT / "domains" / domain, root / "domains" / domain, ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copytree(
            ROOT / "dbt_projects" / domain,
            root / "dbt_projects" / domain,
            ignore=shutil.ignore_patterns("target", "logs"),
        )
    # the dbt projects' macro-paths name the platform's macros (../../mesh_platform/dbt_macros)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", root / "mesh_platform" / "dbt_macros")
    (root / ".gitignore").write_text("dbt_projects/*/target/\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    monkeypatch.setenv("MESH_ROOT", str(root))
    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path / "data"))
    assert not list(root.glob("dbt_projects/*/target"))
    return root


def test_on_a_clean_clone_the_gate_parses_and_names_the_consumer(clean_clone):
    port = Mesh.load().port(CHECKOUT)
    _drop_column(port.contract.file, port.model, "item_category")
    result = CliRunner().invoke(cli, ["breaking", "--base", "HEAD", "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)  # dbt's output, if any, goes to stderr
    changed = next(p for p in report["ports"] if p["port"] == CHECKOUT)
    consumer = next(c for c in changed["consumers"] if c["product"] == "articles_bought_together")
    assert consumer["domain"] == "recommendations" and consumer["team"] == "Recommendations Team"
    assert consumer["columns"] == {"item_category": "reads (stg_checkout__web_orders_with_consent)"}
    assert sorted(p.parent.parent.parent.name for p in clean_clone.glob("dbt_projects/*/target/*/manifest.json")) == [
        "checkout",
        "recommendations",
    ]


def test_without_manifests_and_without_parsing_the_gate_fails_loudly(clean_clone):
    port = Mesh.load().port(CHECKOUT)
    _drop_column(port.contract.file, port.model, "item_category")
    result = CliRunner().invoke(cli, ["breaking", "--base", "HEAD", "--no-prepare"])
    assert result.exit_code == 2, result.output
    assert "cannot determine the consumers" in result.output
    assert "domain 'recommendations' has no dbt manifest" in result.output
    assert str(clean_clone / "dbt_projects" / "recommendations" / "target") in result.output
    assert "no consumers" not in result.output.lower() and "Traceback" not in result.output


def test_a_domain_whose_python_does_not_import_fails_the_gate_loudly(repo):
    (repo / "domains" / "risk" / "assets.py").write_text("import no_such_module_anywhere\n")
    port = Mesh.load().port(CHECKOUT)
    _drop_column(port.contract.file, port.model, "item_category")
    result = CliRunner().invoke(cli, ["breaking", "--base", "HEAD", "--no-prepare"])
    assert result.exit_code == 2, result.output
    assert "domain 'risk': its Python tables do not import" in result.output
    assert "assets.py" in result.output and "Traceback" not in result.output


def test_a_product_reading_another_products_port_of_its_domain_is_a_consumer(repo):
    """The gate reads the same edges as Dagster's graph: tenant_risk_exposure ref()s
    tenancy_analytics' port model (and reads rent_amount)."""
    address = "brokerage.tenancy_analytics.rent_by_month_and_tenant"
    port = Mesh.load().port(address)
    _drop_column(port.contract.file, port.model, "rent_amount")
    code, report = _breaking()
    assert code == 1
    changed = next(p for p in report["ports"] if p["port"] == address)
    (consumer,) = changed["consumers"]
    assert (consumer["domain"], consumer["product"], consumer["reader"]) == (
        "brokerage",
        "tenant_risk_exposure",
        "ref rent_by_month_and_tenant",
    )
    assert consumer["file"].endswith("tenant_risk_exposure.sql") and consumer["line"] == 7
    assert consumer["columns"]["rent_amount"] == "reads (tenant_risk_exposure)"
    code, markdown = _breaking("markdown")
    assert (
        "| brokerage.tenant_risk_exposure | same domain (ref rent_by_month_and_tenant) | Brokerage Team |" in markdown
    )
