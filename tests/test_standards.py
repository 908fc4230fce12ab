"""Every descriptor in the repository is a valid ODPS 1.0.0 document and every contract a valid
ODCS document of the version it declares, checked with the standards' official JSON schemas
read straight from the packages that ship them (not through the platform's loader), and the
platform refuses a document that claims a version whose vocabulary it does not use."""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest
import yaml
from dataproduct.config import Config
from dataproduct.lint.references import resolve_contract_references
from dataproduct.lint.schema import fetch_schema

from mesh_platform.mesh.domain import load_domain
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTORS = sorted((ROOT / "domains").glob("*/products/*/dataproduct.yaml"))
CONTRACTS = sorted((ROOT / "domains").glob("*/products/*/contracts/*.odcs.yaml"))
CHECKOUT = ROOT / "domains" / "checkout"
CHECKOUT_CONTRACT = Path("products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml")
CHECKOUT_DESCRIPTOR = Path("products/web_orders_with_consent/dataproduct.yaml")

# Where each package ships each official schema; the platform reads the same files.
ODCS_SCHEMA_FILES = {
    "v3.0.2": ("datacontract-cli", "datacontract/schemas/odcs-3.0.2.schema.json"),
    "v3.1.0": ("datacontract-cli", "datacontract/schemas/odcs-3.1.0.schema.json"),
    "v3.2.0": ("open-data-contract-standard", "open_data_contract_standard/schema.json"),
}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT / "domains"))


def _schema(distribution: str, path: str) -> dict:
    return json.loads(metadata.distribution(distribution).locate_file(path).read_text())


def _errors(schema: dict, document: dict) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_repository_has_descriptors_and_contracts():
    assert len(DESCRIPTORS) >= 5 and len(CONTRACTS) >= 6
    # every contract file follows the *.odcs.yaml convention; nothing else sits in contracts/
    for folder in {c.parent for c in CONTRACTS}:
        assert all(f.name.endswith(".odcs.yaml") for f in folder.iterdir()), folder


@pytest.mark.parametrize("file", DESCRIPTORS, ids=_rel)
def test_descriptor_is_valid_odps_1_0_0(file):
    document = yaml.safe_load(file.read_text())
    assert document["apiVersion"] == "v1.0.0"
    schema = fetch_schema(schema_version="1.0.0")  # dataproduct-cli's own loader of its bundled schema
    assert schema["properties"]["apiVersion"]["enum"][-1] == "v1.0.0"
    assert _errors(schema, document) == []


@pytest.mark.parametrize("file", DESCRIPTORS, ids=_rel)
def test_descriptor_contract_ids_resolve_the_way_odps_tooling_does(file):
    """dataproduct-cli finds each port's contract among *.odcs.yaml files by id, locally."""
    checks, resolved = resolve_contract_references(
        yaml.safe_load(file.read_text()), Config(), search_dir=ROOT / "domains", local_only=True
    )
    assert checks and all(c.result.value == "passed" for c in checks), [c.reason for c in checks]


@pytest.mark.parametrize("file", CONTRACTS, ids=_rel)
def test_contract_is_valid_odcs_of_its_declared_version(file):
    document = yaml.safe_load(file.read_text())
    version = document["apiVersion"]
    assert version in ODCS_SCHEMA_FILES, f"{file}: undeclared or unknown ODCS version {version!r}"
    assert _errors(_schema(*ODCS_SCHEMA_FILES[version]), document) == []


def test_example_contracts_use_3_1_vocabulary_so_they_declare_3_1_0():
    """The examples use `metric:` library rules: invalid as v3.0.2, so they must say v3.1.0."""
    schema_302 = _schema(*ODCS_SCHEMA_FILES["v3.0.2"])
    for file in CONTRACTS:
        document = yaml.safe_load(file.read_text())
        assert document["apiVersion"] == "v3.1.0", file
        assert _errors(schema_302, {**document, "apiVersion": "v3.0.2"}), f"{file} would be valid as v3.0.2"


# --- the loader uses the declared version's schema ------------------------------------------


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copytree(CHECKOUT, tmp_path / "checkout")
    return tmp_path / "checkout"


def _line(file: Path, text: str) -> int:
    return next(i for i, line in enumerate(file.read_text().splitlines(), 1) if line.rstrip() == text)


def test_contract_claiming_3_0_2_with_3_1_vocabulary_is_refused(checkout):
    file = checkout / CHECKOUT_CONTRACT
    file.write_text(file.read_text().replace("apiVersion: v3.1.0\n", "apiVersion: v3.0.2\n"))
    with pytest.raises(SpecError) as info:
        load_contract(file)
    lines = {p.line for p in info.value.problems}
    # the first library rule with `metric:` is one of the places named
    assert any(
        file.read_text().splitlines()[line - 1].strip().startswith(("metric:", "- name:", "type:"))
        for line in lines
        if line
    ), str(info.value)
    assert all(p.file == file for p in info.value.problems)


def test_3_0_2_contract_with_3_0_vocabulary_loads(tmp_path):
    file = tmp_path / "old.odcs.yaml"
    file.write_text("""\
apiVersion: v3.0.2
kind: DataContract
id: old-v1
version: 1.0.0
status: active
schema:
  - name: t
    properties:
      - name: amount
        logicalType: number
        logicalTypeOptions: {minimum: 0, exclusiveMinimum: true}
""")
    assert load_contract(file).model.apiVersion == "v3.0.2"
    file.write_text(file.read_text().replace("apiVersion: v3.0.2", "apiVersion: v3.1.0"))
    with pytest.raises(SpecError) as info:  # boolean exclusiveMinimum is 3.0 vocabulary
        load_contract(file)
    assert info.value.problems[0].line == _line(
        file, "        logicalTypeOptions: {minimum: 0, exclusiveMinimum: true}"
    )


@pytest.mark.parametrize("version", ["v3.9.0", "3.1.0", "v2.2.2", "null"])
def test_unknown_odcs_version_is_a_clear_error(checkout, version):
    file = checkout / CHECKOUT_CONTRACT
    file.write_text(file.read_text().replace("apiVersion: v3.1.0\n", f"apiVersion: {version}\n"))
    with pytest.raises(SpecError) as info:
        load_contract(file)
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (_line(file, f"apiVersion: {version}"), "apiVersion")
    assert "v3.0.2" in problem.message and "v3.1.0" in problem.message


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("  - property: title\n    value: Web orders with consent\n", "title: Web orders with consent\n", "title"),
        ("  - property: schedule\n    value:\n", "schedule:\n", "schedule"),
    ],
)
def test_platform_fields_outside_custom_properties_are_not_odps(checkout, old, new, field):
    file = checkout / CHECKOUT_DESCRIPTOR
    text = file.read_text()
    assert text.count(old) == 1
    if field == "schedule":  # move the whole block to the top level
        block = text[text.index(old) :].split("  - property: archetype")[0]
        text = text.replace(block, "") + "schedule:\n" + "".join(line[4:] + "\n" for line in block.splitlines()[2:])
    else:
        text = text.replace(old, "") + new
    file.write_text(text)
    with pytest.raises(SpecError) as info:
        load_domain(checkout)
    problems = {p.field: p for p in info.value.problems}
    assert field in problems, str(info.value)
    assert problems[field].line == _line(file, new.splitlines()[0]) and "unknown field" in problems[field].message


def test_odps_team_overrides_the_domain_team(checkout):
    file = checkout / CHECKOUT_DESCRIPTOR
    file.write_text(
        file.read_text() + "team:\n  name: Orders squad\n  members:\n"
        "    - {username: orders@example.com, role: owner}\n"
    )
    (product,) = load_domain(checkout).products
    assert product.team.name == "Orders squad" and product.team.owners == ["orders@example.com"]
    file.write_text(file.read_text().replace("username: orders@example.com", "username: orders"))
    with pytest.raises(SpecError) as info:
        load_domain(checkout)
    (problem,) = info.value.problems
    assert problem.line == _line(file, "    - {username: orders, role: owner}") and "email" in problem.message
