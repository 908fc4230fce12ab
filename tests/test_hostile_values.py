"""Values the standards' schemas accept but the platform cannot honour are refused with an
error naming file, line and field -- never a traceback, never accepted and quietly wrong.
One test per refusal: it feeds the bad value and asserts where the error points."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_platform.cli.main import cli
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.contract_checks import MAX_COLUMNS
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.loader import load_domain

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = Path("products") / "web_orders_with_consent"
DESCRIPTOR = PRODUCT / "dataproduct.yaml"
CONTRACT = PRODUCT / "contracts" / "web_orders_with_consent.odcs.yaml"
TABLE = "web_orders_with_consent"
S = "schema[0]"


@pytest.fixture
def domain(tmp_path: Path) -> Path:
    target = tmp_path / "domains" / "checkout"
    shutil.copytree(ROOT / "domains" / "checkout", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def edit(file: Path, old: str, new: str) -> int:
    """Replace one unique text; return the first line that changed."""
    text = file.read_text()
    assert text.count(old) == 1, old
    changed = text.replace(old, new)
    file.write_text(changed)
    before, after = text.splitlines(), changed.splitlines()
    return next(i for i, (a, b) in enumerate(zip(before, after), 1) if a != b)


def refused(call, file: Path, line: int, field: str, *words: str) -> None:
    with pytest.raises(SpecError) as info:
        call()
    hits = [
        p
        for p in info.value.problems
        if p.file == file and p.line == line and (p.field == field or p.field.startswith(field + "["))
    ]
    assert hits, f"expected {file.name}:{line}: {field}; got:\n{info.value}"
    for word in words:
        assert word.lower() in hits[0].message.lower(), str(hits[0])
    assert str(hits[0]).startswith(f"{file}:{line}: {field}")


def contract_refused(domain: Path, old: str, new: str, field: str, *words: str, offset: int = 0) -> None:
    file = domain / CONTRACT
    line = edit(file, old, new) + offset
    refused(lambda: compile_contract(load_contract(file), TABLE), file, line, field, *words)


# --- quality rules (contracts/compiler.py) -----------------------------------------------------


def test_arguments_properties_not_a_list(domain):
    contract_refused(
        domain,
        "properties: [order_number, line_number]",
        "properties: 5",
        f"{S}.quality[1].arguments.properties",
        "list of column names",
    )


def test_must_be_between_high_below_low(domain):
    contract_refused(
        domain,
        "        mustBeGreaterThan: 0\n",
        "        mustBeBetween: [5, 1]\n",
        f"{S}.quality[0].mustBeBetween",
        "low <= high",
    )


@pytest.mark.parametrize("value", ["[1]", "[1, 2, 3]", "[a, 2]", "[.nan, 2]"])
def test_must_be_between_not_two_numbers(domain, value):
    contract_refused(
        domain, "        mustBeGreaterThan: 0\n", f"        mustBeBetween: {value}\n", f"{S}.quality[0].mustBeBetween"
    )


@pytest.mark.parametrize("value", ["150", "-1", ".nan", ".inf"])
def test_percentage_outside_0_to_100(domain, value):
    contract_refused(
        domain,
        "mustBeLessThan: 1\n            unit: percent",
        f"mustBeLessThan: {value}\n            unit: percent",
        f"{S}.properties[4].quality[1].mustBeLessThan",
    )


def test_negative_row_count_threshold(domain):
    contract_refused(
        domain,
        "        mustBeGreaterThan: 0\n",
        "        mustBeLessThan: -3\n",
        f"{S}.quality[0].mustBeLessThan",
        ">= 0",
    )


# --- SLA ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, words",
    [("1000000000", "at most"), ("1.0e+300", "at most"), ("-1", "positive"), ("0", "positive"), (".inf", "at most")],
)
def test_retention_out_of_range(domain, value, words):
    contract_refused(
        domain, "    value: 10\n    unit: y\n", f"    value: {value}\n    unit: y\n", "slaProperties[2].value", words
    )


def test_contract_cron_that_never_fires(domain):
    contract_refused(
        domain, 'schedule: "0 5 * * *"', 'schedule: "0 5 31 4 *"', "slaProperties[1].schedule", "never fires"
    )


# --- the schema ---------------------------------------------------------------------------------


def test_minimum_nan(domain):
    contract_refused(
        domain,
        "within its order.\n        required: true\n        logicalTypeOptions:\n          minimum: 1\n",
        "within its order.\n        required: true\n        logicalTypeOptions:\n          minimum: .nan\n",
        f"{S}.properties[2].logicalTypeOptions.minimum",
        "finite",
    )


def test_maximum_below_minimum(domain):
    contract_refused(
        domain,
        "within its order.\n        required: true\n        logicalTypeOptions:\n          minimum: 1\n",
        "within its order.\n        required: true\n        logicalTypeOptions:\n          minimum: 1\n"
        "          maximum: 0\n",
        f"{S}.properties[2].logicalTypeOptions.maximum",
        "below",
    )


def test_two_primary_key_columns_at_one_position(domain):
    contract_refused(
        domain,
        "        description: The web order this line belongs to.\n",
        "        description: The web order this line belongs to.\n        primaryKey: true\n"
        "        primaryKeyPosition: 1\n",
        f"{S}.properties[1].primaryKeyPosition",
        "own position",
        offset=1,
    )


def test_duplicate_property_name(domain):
    contract_refused(
        domain,
        "      - name: order_number\n",
        "      - name: order_line_id\n",
        f"{S}.properties[1].name",
        "duplicate column",
    )


@pytest.mark.parametrize("value", ["integr", "decimal(99999,2)", "'[a, b]'"])
def test_unknown_physical_type(domain, value):
    contract_refused(
        domain,
        "      - name: line_number\n        logicalType: integer\n        physicalType: integer\n",
        f"      - name: line_number\n        logicalType: integer\n        physicalType: {value}\n",
        f"{S}.properties[2].physicalType",
        offset=0,
    )


@pytest.mark.parametrize("count", [MAX_COLUMNS + 1, 10_000])
def test_absurd_number_of_columns(domain, count):
    file = domain / CONTRACT
    extra = "".join(f"      - name: c{i}\n        logicalType: string\n" for i in range(count))
    text = file.read_text()
    file.write_text(text.replace("    properties:\n", "    properties:\n" + extra, 1))
    line = text.splitlines().index("    properties:") + 1
    with pytest.raises(SpecError) as info:
        load_contract(file)
    problem = info.value.problems[0]
    assert problem.file == file and problem.line in (line, None) or "YAML values" in problem.message, str(problem)
    if count == MAX_COLUMNS + 1:
        assert (problem.line, problem.field) == (line, f"{S}.properties"), str(problem)
        assert f"at most {MAX_COLUMNS} columns" in problem.message


# --- lifecycle fields: periods and dates, bounded ------------------------------------------------


@pytest.mark.parametrize(
    "value, words",
    [
        ("3 months", "ISO-8601 period"),
        ("P9999Y", "at most"),
        ("P1000M", "ten years"),
        ("-P1M", "ISO-8601 period"),
        ("P", "ISO-8601"),
    ],
)
def test_notice_period(domain, value, words):
    file = domain / CONTRACT
    line = edit(file, "    value: P3M\n", f"    value: '{value}'\n")
    refused(lambda: load_contract(file), file, line, "customProperties[0].value", words)


@pytest.mark.parametrize("value", ["0001-01-01", "2999-01-01", "2027-02-30"])
def test_sunset_date_out_of_range(domain, value):
    file = domain / CONTRACT
    line = edit(file, 'value: "2027-02-21"', f'value: "{value}"')
    refused(lambda: load_contract(file), file, line, "customProperties[2].value", "date")


# --- the descriptor -------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["0001-01-01", "1969-12-31", "2101-01-01"])
def test_partition_start_outside_a_sane_range(domain, start):
    file = domain / DESCRIPTOR
    line = edit(file, 'start: "2022-01-01"', f'start: "{start}"')
    refused(lambda: load_domain(domain), file, line, "customProperties[6].value.start", "between 1970")


def test_product_cron_that_never_fires(domain):
    file = domain / DESCRIPTOR
    line = edit(file, 'cron: "0 5 * * *"', 'cron: "0 5 31 4 *"')
    with pytest.raises(SpecError) as info:
        load_domain(domain)
    problem = info.value.problems[0]
    assert (problem.file, problem.line) == (file, line) and "never fires" in problem.message, str(problem)
    assert problem.field.endswith("cron") or "schedule" in problem.field, str(problem)


# --- printing: user text is never Rich markup ------------------------------------------------------


def test_mesh_validate_prints_a_bad_regex_and_brackets_as_written(domain, monkeypatch):
    monkeypatch.setenv("MESH_ROOT", str(domain.parent.parent))
    file = domain / CONTRACT
    pattern_line = edit(file, "pattern: '^WO-[0-9]{9}$'", "pattern: '^[/a-z]+($'")
    result = CliRunner().invoke(cli, ["validate", "--no-prepare", "--domain", "checkout"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{file}:{pattern_line}: {S}.properties[1].logicalTypeOptions.pattern:" in result.output
    assert "'^[/a-z]+($'" in result.output  # printed as written, not eaten as a closing tag

    edit(file, "pattern: '^[/a-z]+($'", "pattern: '^WO-[0-9]{9}$'")
    between = edit(file, "        mustBeGreaterThan: 0\n", "        mustBeBetween: [5, 1]\n")
    result = CliRunner().invoke(cli, ["validate", "--no-prepare", "--domain", "checkout"])
    assert f"{file}:{between}: {S}.quality[0].mustBeBetween:" in result.output, result.output
    assert "[5, 1]" in result.output, result.output  # not swallowed as a style tag


def test_every_console_prints_user_text_literally():
    """Any Rich Console the platform makes has markup (and emoji codes) off: the labels are
    styled Text, so no message quoting a file can be read as markup."""
    import re

    made = []
    for file in sorted((ROOT / "mesh_platform").rglob("*.py")):
        text = file.read_text()
        for match in re.finditer(r"\bConsole\((.*?)\)\n", text, re.S):
            made.append((file.name, match.group(1)))
    assert made, "no Console found: the test looks in the wrong place"
    for name, args in made:
        assert "markup=False" in args and "emoji=False" in args, (name, args)
    for file in sorted((ROOT / "mesh_platform" / "cli").rglob("*.py")):
        assert not re.search(r"\[(red|green|yellow|dim|bold)\]", file.read_text()), file


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-01", "2101-01-01"])
def test_agreement_date_out_of_range(tmp_path, value):
    # a notice period is added to these dates: year 9999 + P3M used to overflow the calendar
    from mesh_platform.lifecycle.agreements import load_agreements

    folder = tmp_path / "risk"
    shutil.copytree(ROOT / "domains" / "risk" / "agreements", folder / "agreements")
    file = folder / "agreements" / "entity_ratings__current_tenants.yaml"
    line = edit(file, "start: 2026-02-01", f"start: {value}")
    _, _, problems = load_agreements(folder)
    assert [
        p for p in problems if (p.file, p.line, p.field) == (file, line, "start") and "between 1970" in p.message
    ], problems


# --- the rest of the lifecycle fields, the quality arguments and string bounds --------------------


def line_of(file: Path, needle: str) -> int:
    return next(i for i, text in enumerate(file.read_text().splitlines(), 1) if needle in text)


@pytest.mark.parametrize(
    "old, new, needle, field, words",
    [
        ("\nstatus: deprecated ", "\nstatus: shipped ", "status: shipped", "status", "status among"),
        (
            "    value: web-orders-with-consent-v2\n",
            "    value: web-orders-with-consent-v2\n  - property: replacedBy\n    value: checkout/../x.y.z\n",
            "checkout/../x.y.z",
            "customProperties[4].value",
            "<domain>.<product>.<port>",
        ),
        (
            "    value: P3M\n",
            "    value: P3M\n  - property: access\n    value: everyone\n",
            "everyone",
            "customProperties[1].value",
            "approval-required",
        ),
        (
            "    value: P3M\n",
            "    value: P3M\n  - property: sunsetReminder\n    value: 30 days\n",
            "30 days",
            "customProperties[1].value",
            "ISO-8601 period",
        ),
        ('value: "2026-11-21"', 'value: "1969-07-20"', "1969-07-20", "customProperties[1].value", "between 1970"),
    ],
)
def test_lifecycle_fields_are_checked_at_load(domain, old, new, needle, field, words):
    file = domain / CONTRACT
    edit(file, old, new)
    refused(lambda: load_contract(file), file, line_of(file, needle), field, words)


def test_quality_arguments_not_a_mapping(domain):
    contract_refused(
        domain,
        "        arguments:\n          properties: [order_number, line_number]\n",
        "        arguments: 5\n",
        f"{S}.quality[1].arguments",
    )


def test_missing_values_not_a_list(domain):
    contract_refused(
        domain,
        "            metric: nullValues\n",
        "            metric: missingValues\n            arguments:\n              missingValues: 5\n",
        f"{S}.properties[4].quality[1].arguments.missingValues",
        offset=2,
    )


@pytest.mark.parametrize(
    "options, field",
    [
        ("minLength: -1", "minLength"),
        ("maxLength: 2.5", "maxLength"),
        ("minLength: 5\n          maxLength: 2", "maxLength"),
    ],
)
def test_string_length_bounds(domain, options, field):
    file = domain / CONTRACT
    edit(file, "          pattern: '^WO-[0-9]{9}$'\n", f"          pattern: '^WO-[0-9]{{9}}$'\n          {options}\n")
    line = line_of(file, options.splitlines()[-1].strip())
    refused(
        lambda: compile_contract(load_contract(file), TABLE),
        file,
        line,
        f"{S}.properties[1].logicalTypeOptions.{field}",
    )


@pytest.mark.parametrize("end", ["2101-01-01", "0001-01-01"])
def test_partition_end_outside_a_sane_range(domain, end):
    file = domain / DESCRIPTOR
    line = edit(file, 'start: "2022-01-01"}', f'start: "2022-01-01", end: "{end}"}}')
    refused(lambda: load_domain(domain), file, line, "customProperties[6].value.end", "between 1970")
