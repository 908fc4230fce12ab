"""Every checker returns a Problem with a stable rule id listed in specs/rules.py, and policies
select validation problems by rule id only, never by the words of a message or a field name.

A Problem refuses a rule id that is not listed, so every test that makes a checker report
something also checks that its rule is known; the tests here pin the rule each kind of mistake
gets, so that renaming a rule without its policies fails.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from governance_fixtures import copy_mesh, edit_yaml

from mesh_platform.cli.main import cli
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.governance.registry import registry
from mesh_platform.lifecycle.rules import domain_problems
from mesh_platform.mesh import Mesh
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import Problem, SpecError, Subject
from mesh_platform.specs.loader import load_domain
from mesh_platform.specs.rules import RULES

ROOT = Path(__file__).resolve().parents[1]
PLATFORM = ROOT / "mesh_platform"
CHECKOUT = ROOT / "domains" / "checkout"
PRODUCT = Path("products") / "web_orders_with_consent"
DESCRIPTOR = PRODUCT / "dataproduct.yaml"
CONTRACT = PRODUCT / "contracts" / "web_orders_with_consent.odcs.yaml"


# --- the registry and the policies ---------------------------------------------------------
def test_rule_ids_are_area_dot_name():
    for rule in RULES:
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", rule), rule


def test_every_rule_a_policy_claims_is_known():
    for name, cls in registry().items():
        unknown = set(cls.claims) - set(RULES)
        assert not unknown, f"policy {name!r} claims unknown rule ids {sorted(unknown)}"


def test_no_two_policies_claim_one_rule():
    owner: dict[str, str] = {}
    for name, cls in registry().items():
        for rule in cls.claims:
            assert rule not in owner, f"{rule!r} is claimed by {owner[rule]!r} and {name!r}"
            owner[rule] = name


def test_a_policy_selects_by_rule_id_not_by_message():
    naming = registry()["naming"]()
    worded = Problem(Path("x.yaml"), 1, "name", "expected lower_snake_case", "spec.field")
    assert not naming.owns(worded)
    assert naming.owns(Problem(Path("x.yaml"), 1, "name", "any words at all", "spec.naming"))
    ports = registry()["consumers-read-output-ports"]()
    assert not ports.owns(Problem(Path("assets.py"), 1, "inputPorts[0].source", "text", "spec.schema"))
    assert ports.owns(Problem(Path("x.yaml"), 1, "", "text", "agreement.missing"))


def test_no_policy_reads_a_problems_message_or_field():
    """The claims of a policy are data (rule ids), not code that reads a problem."""
    for file in [*(PLATFORM / "governance" / "policies").glob("*.py"), PLATFORM / "governance" / "engine.py"]:
        text = file.read_text()
        assert not re.search(r"problem\.(message|field)", text), file


def test_every_rule_id_written_in_the_platform_is_known():
    """Rule ids are string constants: find each one the code passes and check it is listed (a
    problem only built on a rare path would otherwise fail only there)."""
    areas = "|".join(sorted({rule.split(".")[0] for rule in RULES}))
    pattern = re.compile(rf"^({areas})\.[a-z_]+$")
    found: dict[str, Path] = {}
    for file in PLATFORM.rglob("*.py"):
        if file.name == "rules.py":
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "rule" and isinstance(node.value, ast.Constant):
                found[node.value.value] = file
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.match(node.value):
                found.setdefault(node.value, file)
    assert len(found) > 50
    unknown = {rule: str(file) for rule, file in found.items() if rule not in RULES}
    assert not unknown


def test_problem_refuses_an_unknown_rule_or_severity():
    with pytest.raises(ValueError, match="unknown rule id 'spec.no_such_rule'"):
        Problem(Path("x.yaml"), 1, "", "message", "spec.no_such_rule")
    with pytest.raises(ValueError, match="unknown severity"):
        Problem(Path("x.yaml"), 1, "", "message", "spec.invalid", "fatal")


def test_problem_as_dict_has_rule_and_severity():
    problem = Problem(Path("x.yaml"), 3, "name", "m", "spec.naming", "warning", Subject("d", "p"))
    assert problem.as_dict() == {
        "rule": "spec.naming",
        "severity": "warning",
        "file": "x.yaml",
        "line": 3,
        "field": "name",
        "message": "m",
    }
    assert str(problem) == "x.yaml:3: name: m"


# --- the rule each checker gives ------------------------------------------------------------
@pytest.fixture
def domain(tmp_path: Path) -> Path:
    target = tmp_path / "checkout"
    shutil.copytree(CHECKOUT, target)
    return target.resolve()


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
    file.write_text(text.replace(old, new))


def _rules(domain_dir: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_domain(domain_dir)
    return [p.rule for p in info.value.problems]


def test_a_name_that_is_not_snake_case_is_spec_naming(domain):
    _edit(domain / DESCRIPTOR, "\nname: web_orders_with_consent\n", "\nname: WebOrders\n")
    assert "spec.naming" in _rules(domain)


def test_an_unknown_contract_id_is_spec_contract_missing(domain):
    _edit(domain / DESCRIPTOR, "contractId: web-orders-with-consent-v1", "contractId: no-such-contract-v1")
    assert _rules(domain) == ["spec.contract_missing"]


def test_broken_yaml_is_spec_yaml(domain):
    (domain / DESCRIPTOR).write_text("apiVersion: [v1.0.0\n")
    assert _rules(domain) == ["spec.yaml"]


def test_a_missing_file_is_spec_file(domain):
    (domain / DESCRIPTOR).unlink()
    assert _rules(domain) == ["spec.file"]


def test_a_contract_without_the_ports_schema_object_is_spec_schema_object_missing(domain):
    table = "web_orders_with_consent"
    old, new = f"  - name: {table}\n    physicalName: {table}\n", "  - name: other\n    physicalName: other\n"
    _edit(domain / CONTRACT, old, new)
    assert _rules(domain) == ["spec.schema_object_missing"]


def test_a_rule_that_does_not_compile_is_contract_rule(domain):
    file = domain / CONTRACT
    _edit(
        file,
        "        type: library\n        metric: rowCount\n        mustBeGreaterThan: 0\n",
        "        type: custom\n        engine: soda\n        implementation: row_count > 0\n",
    )
    with pytest.raises(SpecError) as info:
        compile_contract(load_contract(file), "web_orders_with_consent")
    assert [p.rule for p in info.value.problems] == ["contract.rule"]


# --- what `mesh lint --format json` reports -------------------------------------------------
def test_lint_json_names_the_rule_and_the_claiming_policy(mesh_data, tmp_path, monkeypatch):
    """A port name that is not snake_case stops the domain loading (spec.naming); the naming
    policy claims that rule, and the JSON says both the policy and the rule."""
    root = copy_mesh(tmp_path / "repo")
    monkeypatch.setenv("MESH_ROOT", str(root))
    edit_yaml(root / "domains" / "checkout" / DESCRIPTOR, lambda d: d["outputPorts"][0].update(name="WebOrders"))
    result = CliRunner().invoke(cli, ["lint", "--no-prepare", "--format", "json", "--domain", "checkout"])
    assert result.exit_code == 1, result.output
    violations = json.loads(result.output)["violations"]
    assert all(v["rule"] in RULES and v["severity"] in ("error", "warning") for v in violations)
    naming = [v for v in violations if v["rule"] == "spec.naming"]
    assert naming and {v["policy"] for v in naming} == {"naming"}, violations
    assert naming[0]["message"].startswith("outputPorts[0].name: ")


# --- lifecycle and agreements ---------------------------------------------------------------
@pytest.fixture
def mesh_root(tmp_path, monkeypatch) -> Path:
    shutil.copytree(ROOT / "domains", tmp_path / "domains", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    return tmp_path


def _lifecycle_rules(root: Path, domain: str) -> list[str]:
    return [p.rule for p in domain_problems(Mesh.load(root / "domains"), domain, date(2026, 11, 21))]


def test_an_unapproved_agreement_is_agreement_pending(mesh_root):
    approvals = mesh_root / "domains" / "checkout" / "agreements" / "approvals.yaml"
    approvals.write_text(approvals.read_text().split("approvals:")[0] + "approvals: []\n")
    assert set(_lifecycle_rules(mesh_root, "recommendations")) == {"agreement.pending"}


def test_reading_a_draft_port_is_lifecycle_unpublished_read(mesh_root, monkeypatch):
    # The example mesh deprecates the orders port for its v2: make it active, then a draft.
    monkeypatch.setenv("MESH_TODAY", "2026-11-21")
    orders = "checkout.web_orders_with_consent.web_orders_with_consent"
    result = CliRunner().invoke(cli, ["product", "activate", orders], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    _edit(mesh_root / "domains" / "checkout" / DESCRIPTOR, "status: active", "status: draft")
    assert "lifecycle.unpublished_read" in _lifecycle_rules(mesh_root, "recommendations")
