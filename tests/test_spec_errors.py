"""Bad domain YAML fails with a SpecError naming the file, the line and the field to fix.

Every case starts from a copy of the shipped checkout domain in tmp_path, edits one
thing in the YAML text, and computes the expected line number from the edited text.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.mesh.domain import load_domain
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import Problem, SpecError

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT = ROOT / "domains" / "checkout"
PRODUCT = Path("products") / "web_orders_with_consent"
DESCRIPTOR = PRODUCT / "dataproduct.yaml"
CONTRACT = PRODUCT / "contracts" / "web_orders_with_consent.odcs.yaml"
CONTRACT_ID = "web-orders-with-consent-v1"
TABLE = "web_orders_with_consent"


# --- helpers ---------------------------------------------------------------------------


@pytest.fixture
def domain(tmp_path: Path) -> Path:
    """A private copy of domains/checkout (folder name kept: it must match domain.yaml)."""
    target = tmp_path / "checkout"
    shutil.copytree(CHECKOUT, target)
    return target.resolve()


def edit(file: Path, old: str, new: str) -> str:
    """Replace exactly one occurrence of `old`; fail loudly if the fixture text changed."""
    text = file.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
    text = text.replace(old, new)
    file.write_text(text)
    return text


def line_of(file: Path, line: str) -> int:
    """1-based number of the one line of `file` whose text (without trailing blanks) is `line`."""
    hits = [i for i, text in enumerate(file.read_text().splitlines(), start=1) if text.rstrip() == line]
    assert len(hits) == 1, f"line {line!r} found {len(hits)} times in {file}"
    return hits[0]


def first_content_line(file: Path) -> int:
    """Where the top-level mapping starts: the first line that is neither blank nor a comment."""
    for i, text in enumerate(file.read_text().splitlines(), start=1):
        if text.strip() and not text.lstrip().startswith("#"):
            return i
    raise AssertionError(f"{file} has no content")


def problems_of(domain_dir: Path) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        load_domain(domain_dir)
    problems = info.value.problems
    assert problems, "a SpecError must carry at least one problem"
    assert str(info.value) == "\n".join(str(p) for p in problems)
    return problems


def only_problem(domain_dir: Path) -> Problem:
    problems = problems_of(domain_dir)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def assert_problem(problem: Problem, file: Path, line: int, field: str, *words: str) -> None:
    assert problem.file == file, str(problem)
    assert problem.line == line, str(problem)
    assert problem.field == field, str(problem)
    for word in words:
        assert word.lower() in problem.message.lower(), f"{word!r} not in {problem.message!r}"


# --- the shipped domain ----------------------------------------------------------------


def test_shipped_checkout_domain_loads_and_reads_its_contract_terms():
    domain = load_domain(CHECKOUT)
    assert domain.name == "checkout"
    assert [p.name for p in domain.products] == ["web_orders_with_consent"]
    port = domain.ports()[0]  # v1; v2 is published beside it (versioned ports)
    assert port.address == "checkout.web_orders_with_consent.web_orders_with_consent"
    assert port.schema.name == TABLE
    contract = port.contract
    assert contract.id == CONTRACT_ID
    assert contract.owner == "Checkout Team"
    assert contract.billing == "1000 USD per month"
    assert contract.notice_period == "P3M"
    sla = contract.sla()
    assert sla.freshness == timedelta(hours=24)
    assert sla.freshness_warn == timedelta(hours=20)
    assert sla.frequency_cron == "0 5 * * *"
    assert domain.products[0].spec.schedule.cron == "0 5 * * *"
    assert domain.products[0].spec.schedule.timezone == "Europe/Berlin"
    # and its rules compile
    keys = {spec.key for spec in compile_contract(contract, TABLE)}
    assert f"{TABLE}__order_line_id__primary_key" in keys
    assert f"{TABLE}__table__row_count" in keys


def test_str_of_spec_error_is_file_line_field_message(domain):
    file = domain / DESCRIPTOR
    edit(file, "domain: checkout\n", "domain: payments\n")
    problem = only_problem(domain)
    assert str(problem) == f"{file}:{line_of(file, 'domain: payments')}: domain: {problem.message}"


# --- YAML syntax -----------------------------------------------------------------------


def test_malformed_yaml_unclosed_bracket(domain):
    file = domain / DESCRIPTOR
    edit(file, "tags:\n  - orders\n  - consent\n", "tags: [orders, consent\n")
    problem = only_problem(domain)
    # The parser notices at the next key; the message says where the bracket was opened.
    assert_problem(problem, file, line_of(file, "customProperties:"), "", "invalid YAML", "]")
    assert f"line {line_of(file, 'tags: [orders, consent')}" in problem.message


def test_duplicate_key(domain):
    file = domain / DESCRIPTOR
    edit(file, "status: active\n", "status: active\nstatus: draft\n")
    assert_problem(only_problem(domain), file, line_of(file, "status: draft"), "status", "duplicate")


# --- descriptor structure ----------------------------------------------------------------


def test_missing_required_descriptor_field_points_at_enclosing_mapping(domain):
    file = domain / DESCRIPTOR
    edit(file, "\nversion: 1.0.0\n", "\n")
    assert_problem(only_problem(domain), file, first_content_line(file), "version", "required", "missing")


def test_missing_required_field_in_a_port_points_at_the_port(domain):
    file = domain / DESCRIPTOR
    edit(file, "    customProperties:\n      - property: dbtModel\n        value: web_orders_with_consent\n", "")
    assert_problem(
        only_problem(domain),
        file,
        line_of(file, "  - name: web_orders_with_consent"),
        "outputPorts[0].customProperties",
        "dbtModel",
        "required",
    )


def test_unknown_descriptor_field(domain):
    file = domain / DESCRIPTOR
    edit(file, "outputPorts:\n", "outputPort:\n")
    problems = {p.field: p for p in problems_of(domain)}
    assert set(problems) == {"outputPort", "outputPorts"}
    assert_problem(problems["outputPort"], file, line_of(file, "outputPort:"), "outputPort", "unknown field")
    assert_problem(problems["outputPorts"], file, first_content_line(file), "outputPorts", "required")


def test_wrong_type(domain):
    file = domain / DESCRIPTOR
    text = file.read_text()
    text, n = re.subn(r"^outputPorts:\n(?:[ ].*\n)+", "outputPorts: 3\n", text, flags=re.M)
    assert n == 1
    file.write_text(text)
    assert_problem(only_problem(domain), file, line_of(file, "outputPorts: 3"), "outputPorts", "array")


def test_invalid_cron(domain):
    file = domain / DESCRIPTOR
    edit(file, 'cron: "0 5 * * *"', 'cron: "0 25 * * *"')
    assert_problem(
        only_problem(domain),
        file,
        line_of(file, '      cron: "0 25 * * *"'),
        "customProperties[1].value.cron",
        "cron",
        "0 25 * * *",
    )


def test_unknown_timezone(domain):
    file = domain / DESCRIPTOR
    edit(file, "timezone: Europe/Berlin", "timezone: Mars/Olympus_Mons")
    assert_problem(
        only_problem(domain),
        file,
        line_of(file, "      timezone: Mars/Olympus_Mons"),
        "customProperties[1].value.timezone",
        "timezone",
        "Mars/Olympus_Mons",
    )


@pytest.mark.parametrize("case", ["missing", "invalid"])
def test_archetype_missing_or_invalid(domain, case):
    file = domain / DESCRIPTOR
    if case == "missing":
        edit(file, "  - property: archetype\n    value: source-aligned\n", "")
    else:
        edit(file, "value: source-aligned", "value: sauce-aligned")
    problem = only_problem(domain)
    assert_problem(
        problem,
        file,
        line_of(file, "customProperties:"),
        "customProperties",
        "archetype",
        "source-aligned",
        "consumer-aligned",
    )
    assert ("sauce-aligned" in problem.message) == (case == "invalid")


def test_descriptor_domain_differs_from_folder(domain):
    file = domain / DESCRIPTOR
    edit(file, "domain: checkout\n", "domain: payments\n")
    assert_problem(only_problem(domain), file, line_of(file, "domain: payments"), "domain", "'checkout'", "'payments'")


def test_output_port_names_an_unknown_contract(domain):
    file = domain / DESCRIPTOR
    edit(file, f"contractId: {CONTRACT_ID}", "contractId: web-orders-v9")
    assert_problem(
        only_problem(domain),
        file,
        line_of(file, "    contractId: web-orders-v9"),
        "outputPorts[0].contractId",
        "web-orders-v9",
        CONTRACT_ID,
    )  # lists what was found


# --- ODCS contract ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "bad_line", "field", "word"),
    [
        ("apiVersion: v3.1.0\n", "apiVersion: v9\n", "apiVersion: v9", "apiVersion", "v3.1.0"),
        ("kind: DataContract\n", "kind: Nope\n", "kind: Nope", "kind", "DataContract"),
        ("    database: data/warehouse/checkout.duckdb\n", "", "  - server: dev", "servers[0].database", "required"),
    ],
    ids=["apiVersion", "kind", "duckdb-server-without-database"],
)
def test_contract_violating_the_odcs_json_schema(domain, old, new, bad_line, field, word):
    file = domain / CONTRACT
    edit(file, old, new)
    # One problem, in the contract: no follow-up noise about the port's contract id, and no
    # "unevaluated property" complaint about fields that are valid once the real error is fixed.
    assert_problem(only_problem(domain), file, line_of(file, bad_line), field, word)


def test_contract_schema_lacks_the_ports_model(domain):
    file = domain / CONTRACT
    edit(
        file, f"  - name: {TABLE}\n    physicalName: {TABLE}\n", "  - name: web_orders\n    physicalName: web_orders\n"
    )
    assert_problem(only_problem(domain), file, line_of(file, "schema:"), "schema", TABLE)


def test_bad_sla_unit(domain):
    file = domain / CONTRACT
    edit(file, "    unit: h\n", "    unit: fortnights\n")
    assert_problem(
        only_problem(domain), file, line_of(file, "    unit: fortnights"), "slaProperties[0].unit", "unit", "fortnights"
    )


def test_bad_sla_warn_value(domain):
    file = domain / CONTRACT
    edit(file, "    valueExt: 20\n", "    valueExt: soon\n")
    assert_problem(only_problem(domain), file, line_of(file, "    valueExt: soon"), "slaProperties[0].valueExt", "soon")


def test_sla_warn_window_not_shorter_than_freshness(domain):
    file = domain / CONTRACT
    edit(file, "    valueExt: 20\n", "    valueExt: 30\n")
    assert_problem(only_problem(domain), file, line_of(file, "slaProperties:"), "slaProperties", "warn")


# --- contract quality rules (compile_contract) -----------------------------------------


def _compile_error(file: Path) -> Problem:
    contract = load_contract(file)  # loads: these mistakes are the compiler's to find
    with pytest.raises(SpecError) as info:
        compile_contract(contract, TABLE)
    (problem,) = info.value.problems
    return problem


def test_quality_rule_with_unsupported_metric(domain):
    file = domain / CONTRACT
    # every library metric is supported now; a vendor-specific rule is not
    edit(
        file,
        "        type: library\n        metric: rowCount\n        mustBeGreaterThan: 0\n",
        "        type: custom\n        engine: soda\n        implementation: row_count > 0\n",
    )
    assert_problem(
        _compile_error(file),
        file,
        line_of(file, "      - name: has rows"),
        "schema[0].quality[0]",
        "unsupported",
        "invalidValues",
        "rowCount",
    )


def test_two_quality_rules_compiling_to_the_same_key(domain):
    file = domain / CONTRACT
    edit(
        file,
        "\n    quality:\n",
        "\n    quality:\n"  # the table's (properties have their own)
        "      - name: at most a million rows\n"
        "        type: library\n"
        "        metric: rowCount\n"
        "        mustBeLessThan: 1000000\n",
    )
    problem = _compile_error(file)
    first, second = line_of(file, "      - name: at most a million rows"), line_of(file, "      - name: has rows")
    assert_problem(problem, file, second, f"{TABLE}__table__row_count", "same check key", "id")
    assert f"line {first}" in problem.message


def test_quality_rule_with_unknown_severity(domain):
    file = domain / CONTRACT
    text = file.read_text()
    file.write_text(text.replace("        severity: error\n", "        severity: fatal\n", 1))
    assert_problem(
        _compile_error(file),
        file,
        line_of(file, "        severity: fatal"),
        "schema[0].quality[0].severity",
        "fatal",
        "warning",
        "error",
    )


# --- domain.yaml -----------------------------------------------------------------------


def test_domain_owner_neither_email_nor_team(domain):
    file = domain / "domain.yaml"
    edit(file, "    - team:checkout\n", "    - checkout\n")
    assert_problem(only_problem(domain), file, line_of(file, "    - checkout"), "team.owners[0]", "email", "team:")


# --- all at once -----------------------------------------------------------------------


def test_several_schema_problems_in_one_descriptor_are_all_reported(domain):
    file = domain / DESCRIPTOR
    edit(file, "\nversion: 1.0.0\n", "\n")
    edit(file, "kind: DataProduct\n", "kind: DataProduct\nowner: someone\n")
    edit(file, "timezone: Europe/Berlin", "timezone: Nowhere/Land")
    problems = {p.field: p for p in problems_of(domain)}
    assert set(problems) == {"version", "owner", "customProperties[1].value.timezone"}
    assert_problem(problems["version"], file, first_content_line(file), "version", "required")
    assert_problem(problems["owner"], file, line_of(file, "owner: someone"), "owner", "unknown field")
    assert_problem(
        problems["customProperties[1].value.timezone"],
        file,
        line_of(file, "      timezone: Nowhere/Land"),
        "customProperties[1].value.timezone",
        "timezone",
    )


def test_several_consistency_problems_are_all_reported(domain):
    descriptor = domain / DESCRIPTOR
    contract = domain / CONTRACT
    edit(descriptor, "domain: checkout\n", "domain: payments\n")
    edit(descriptor, "value: source-aligned", "value: sauce-aligned")
    edit(contract, "    unit: h\n", "    unit: fortnights\n")
    problems = {(p.file, p.field): p for p in problems_of(domain)}
    assert set(problems) == {
        (descriptor, "domain"),
        (descriptor, "customProperties"),
        (contract, "slaProperties[0].unit"),
    }
    assert problems[(descriptor, "domain")].line == line_of(descriptor, "domain: payments")
    assert problems[(descriptor, "customProperties")].line == line_of(descriptor, "customProperties:")
    assert problems[(contract, "slaProperties[0].unit")].line == line_of(contract, "    unit: fortnights")
