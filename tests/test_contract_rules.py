"""Every rule kind the contract compiler produces, run in DuckDB through ibis and pandera.

Each test writes a small ODCS contract in tmp_path, compiles it for table `orders`,
builds the table in an in-memory DuckDB and checks the outcome: pass on clean data,
and on bad data the key, severity, failing count and ratio, and a masked sample.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandera.ibis as pa
import pytest

from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.contracts.explain import MASK, SAMPLE_ROWS, masked_columns
from mesh_platform.contracts.model import CheckOutcome, CheckSpec
from mesh_platform.contracts.pandera_schemas import to_pandera
from mesh_platform.contracts.runner import run_check, run_checks
from mesh_platform.specs.contract import Contract, load_contract

TABLE = "orders"
COLUMNS = "id integer, region varchar, email varchar, note varchar, amount double"

HEAD = f"""\
apiVersion: v3.1.0
kind: DataContract
id: rules-test-v1
version: 1.0.0
status: active
schema:
  - name: {TABLE}
    physicalName: {TABLE}
    physicalType: table
"""

# The properties every test's contract declares; rules are added per test.
PROPERTIES = {
    "id": "        logicalType: integer\n",
    "region": "        logicalType: string\n",
    "email": "        logicalType: string\n        classification: restricted\n",
    "note": "        logicalType: string\n        tags: [pii]\n",
    "amount": "        logicalType: number\n",
}


def write_contract(tmp_path: Path, rules: dict[str, str] | None = None, table_quality: str = "") -> Contract:
    """`rules` maps a column to extra YAML under its property (8-space indent);
    `table_quality` is YAML for the schema object's quality list (6-space indent)."""
    rules = rules or {}
    text = HEAD + "    properties:\n"
    for name, base in PROPERTIES.items():
        text += f"      - name: {name}\n" + base + rules.get(name, "")
    if table_quality:
        text += "    quality:\n" + table_quality
    file = tmp_path / "contract.yaml"
    file.write_text(text)
    return load_contract(file)


def compile_one(contract: Contract, rule: str) -> CheckSpec:
    specs = [s for s in compile_contract(contract, TABLE) if s.rule == rule]
    assert len(specs) == 1, specs
    return specs[0]


def make_table(rows: list[tuple]) -> ibis.Table:
    con = ibis.duckdb.connect()
    con.raw_sql(f"create table {TABLE} ({COLUMNS})")
    if rows:
        values = ", ".join("(" + ", ".join(_sql(v) for v in row) + ")" for row in rows)
        con.raw_sql(f"insert into {TABLE} values {values}")
    return con.table(TABLE)


def _sql(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def row(id, region="eu", email=None, note=None, amount=1.0) -> tuple:
    """A row; email/note default to values derived from id so each row is distinct."""
    return (
        id,
        region,
        email if email is not None else f"c{id}@example.com",
        note if note is not None else f"note {id}",
        amount,
    )


def run(spec: CheckSpec, contract: Contract, rows: list[tuple]) -> CheckOutcome:
    return run_check(spec, make_table(rows), masked_columns(contract.schema_object(TABLE)))


def sample_row(id, region="eu", amount=1.0) -> dict:
    """What a row looks like in a failure sample: PII columns masked, others real."""
    return {"id": id, "region": region, "email": MASK, "note": MASK, "amount": amount}


CLEAN = [row(1), row(2), row(3), row(4)]
SCHEMA_RULES = ("schema", "type")  # compiled from every contract; tested in test_contract_vocabulary.py


# --- masking ---------------------------------------------------------------------------


def test_restricted_and_pii_tagged_columns_are_the_masked_ones(tmp_path):
    contract = write_contract(tmp_path)
    assert masked_columns(contract.schema_object(TABLE)) == {"email", "note"}


# --- not_null --------------------------------------------------------------------------


def test_not_null(tmp_path):
    contract = write_contract(tmp_path, {"amount": "        required: true\n"})
    spec = compile_one(contract, "not_null")
    assert spec.key == "orders__amount__not_null"
    assert spec.columns == ("amount",)
    assert spec.severity == "error" and spec.blocking is True

    assert run(spec, contract, CLEAN).passed

    outcome = run(spec, contract, [*CLEAN, row(5, region="us", amount=None)])
    assert not outcome.passed
    assert outcome.failing_count == 1
    assert outcome.failing_ratio == pytest.approx(1 / 5)
    assert outcome.total_rows == 5
    assert outcome.sample == [sample_row(5, region="us", amount=None)]


# --- unique ----------------------------------------------------------------------------


def test_unique(tmp_path):
    contract = write_contract(tmp_path, {"region": "        unique: true\n"})
    spec = compile_one(contract, "unique")
    assert spec.key == "orders__region__unique"
    assert spec.blocking is True

    assert run(spec, contract, [row(1, "eu"), row(2, "us"), row(3, "apac")]).passed

    outcome = run(spec, contract, [row(1, "eu"), row(2, "us"), row(3, "eu"), row(4, "apac")])
    assert not outcome.passed
    assert outcome.failing_count == 2  # both rows sharing "eu"
    assert outcome.failing_ratio == pytest.approx(2 / 4)
    assert sorted(outcome.sample, key=lambda r: r["id"]) == [sample_row(1, "eu"), sample_row(3, "eu")]


def test_regression_unique_column_with_duplicates_fails_in_the_ibis_backend(tmp_path):
    """pandera's ibis backend silently skips Column(unique=True); uniqueness must be
    declared at schema level, and pandera itself (not only our SQL) must reject duplicates."""
    contract = write_contract(tmp_path, {"id": "        unique: true\n"})
    spec = compile_one(contract, "unique")
    table = make_table([row(1), row(2), row(2), row(3)])

    with pytest.raises((pa.errors.SchemaErrors, pa.errors.SchemaError)):
        to_pandera(spec).validate(table, lazy=True)

    outcome = run_check(spec, table)
    assert outcome.passed is False
    assert outcome.failing_count == 2


# --- primary_key -----------------------------------------------------------------------


def test_primary_key_single_column(tmp_path):
    contract = write_contract(tmp_path, {"id": "        primaryKey: true\n"})
    spec = compile_one(contract, "primary_key")
    assert spec.key == "orders__id__primary_key"
    assert spec.blocking is True

    assert run(spec, contract, CLEAN).passed

    duplicate = run(spec, contract, [*CLEAN, row(4, region="us")])
    assert not duplicate.passed
    assert duplicate.failing_count == 2
    assert duplicate.failing_ratio == pytest.approx(2 / 5)
    assert sorted(duplicate.sample, key=lambda r: r["region"]) == [sample_row(4, "eu"), sample_row(4, "us")]

    null_key = run(spec, contract, [*CLEAN, (None, "us", "x@example.com", "n", 2.0)])
    assert not null_key.passed
    assert null_key.failing_count == 1
    assert null_key.sample == [{"id": None, "region": "us", "email": MASK, "note": MASK, "amount": 2.0}]


def test_composite_primary_key(tmp_path):
    contract = write_contract(
        tmp_path,
        {
            "id": "        primaryKey: true\n        primaryKeyPosition: 2\n",
            "region": "        primaryKey: true\n        primaryKeyPosition: 1\n",
        },
    )
    spec = compile_one(contract, "primary_key")
    assert spec.columns == ("region", "id")  # ordered by primaryKeyPosition
    assert spec.key == "orders__region_id__primary_key"

    # id repeats, but each (region, id) pair is unique
    assert run(spec, contract, [row(1, "eu"), row(1, "us"), row(2, "eu")]).passed

    duplicate = run(spec, contract, [row(1, "eu"), row(1, "us"), row(2, "eu"), row(1, "eu", amount=9.0)])
    assert not duplicate.passed
    assert duplicate.failing_count == 2
    assert duplicate.failing_ratio == pytest.approx(2 / 4)
    assert sorted(duplicate.sample, key=lambda r: r["amount"]) == [sample_row(1, "eu"), sample_row(1, "eu", 9.0)]

    null_part = run(spec, contract, [row(1, "eu"), (2, None, "x@example.com", "n", 3.0)])
    assert not null_part.passed
    assert null_part.failing_count == 1
    assert null_part.sample == [{"id": 2, "region": None, "email": MASK, "note": MASK, "amount": 3.0}]


# --- row_count: every comparator ------------------------------------------------------


@pytest.mark.parametrize(
    ("comparator", "passing", "failing"),
    [
        ("mustBe", "3", "4"),
        ("mustNotBe", "4", "3"),
        ("mustBeGreaterThan", "2", "3"),
        ("mustBeGreaterOrEqualTo", "3", "4"),
        ("mustBeLessThan", "4", "3"),
        ("mustBeLessOrEqualTo", "3", "2"),
        ("mustBeBetween", "[1, 3]", "[4, 10]"),
        ("mustNotBeBetween", "[4, 10]", "[1, 3]"),
    ],
)
def test_row_count_comparators(tmp_path, comparator, passing, failing):
    rows = [row(1), row(2), row(3)]
    outcomes = {}
    for label, value in (("pass", passing), ("fail", failing)):
        quality = f"      - type: library\n        metric: rowCount\n        {comparator}: {value}\n"
        contract = write_contract(tmp_path, table_quality=quality)
        spec = compile_one(contract, "row_count")
        assert spec.key == "orders__table__row_count"
        assert spec.columns == ()
        outcomes[label] = run(spec, contract, rows)

    assert outcomes["pass"].passed, outcomes["pass"].message
    assert outcomes["pass"].metric == 3

    failed = outcomes["fail"]
    assert not failed.passed
    assert failed.metric == 3
    assert "measured 3" in failed.message
    # a table-level rule has no offending rows to count or show
    assert failed.failing_count is None and failed.failing_ratio is None and failed.sample == []


def test_row_count_on_an_empty_table(tmp_path):
    contract = write_contract(tmp_path, table_quality="      - metric: rowCount\n        mustBeGreaterThan: 0\n")
    spec = compile_one(contract, "row_count")
    outcome = run(spec, contract, [])
    assert not outcome.passed
    assert outcome.metric == 0


# --- null_values -----------------------------------------------------------------------


def test_null_values_in_rows(tmp_path):
    contract = write_contract(
        tmp_path, {"amount": "        quality:\n          - metric: nullValues\n            mustBeLessOrEqualTo: 1\n"}
    )
    spec = compile_one(contract, "null_values")
    assert spec.key == "orders__amount__null_values"
    assert spec.threshold.unit == "rows"

    one_null = run(spec, contract, [row(1), row(2, amount=None), row(3), row(4)])
    assert one_null.passed
    assert one_null.metric == 1

    outcome = run(spec, contract, [row(1), row(2, amount=None), row(3, amount=None), row(4)])
    assert not outcome.passed
    assert outcome.metric == 2
    assert outcome.failing_count == 2
    assert outcome.failing_ratio == pytest.approx(2 / 4)
    assert sorted(outcome.sample, key=lambda r: r["id"]) == [sample_row(2, amount=None), sample_row(3, amount=None)]


def test_null_values_in_percent(tmp_path):
    contract = write_contract(
        tmp_path,
        {
            "amount": "        quality:\n"
            "          - metric: nullValues\n"
            "            mustBeLessThan: 30\n"
            "            unit: percent\n"
        },
    )
    spec = compile_one(contract, "null_values")
    assert spec.threshold.unit == "percent"

    quarter = run(spec, contract, [row(1), row(2, amount=None), row(3), row(4)])
    assert quarter.passed
    assert quarter.metric == pytest.approx(25.0)

    half = run(spec, contract, [row(1), row(2, amount=None), row(3, amount=None), row(4)])
    assert not half.passed
    assert half.metric == pytest.approx(50.0)
    assert half.failing_count == 2
    assert half.failing_ratio == pytest.approx(0.5)
    assert "50%" in half.message


def test_null_values_default_threshold_is_zero(tmp_path):
    """A nullValues rule with mustBe: 0 on a column: any null fails."""
    contract = write_contract(
        tmp_path, {"region": "        quality:\n          - metric: nullValues\n            mustBe: 0\n"}
    )
    spec = compile_one(contract, "null_values")
    assert run(spec, contract, CLEAN).passed
    outcome = run(spec, contract, [*CLEAN, (5, None, "e@example.com", "n", 1.0)])
    assert not outcome.passed
    assert outcome.failing_count == 1
    assert outcome.sample == [{"id": 5, "region": None, "email": MASK, "note": MASK, "amount": 1.0}]


# --- duplicate_values ------------------------------------------------------------------


def test_duplicate_values_over_several_columns(tmp_path):
    quality = (
        "      - type: library\n"
        "        metric: duplicateValues\n"
        "        mustBe: 0\n"
        "        arguments:\n"
        "          properties: [region, amount]\n"
    )
    contract = write_contract(tmp_path, table_quality=quality)
    spec = compile_one(contract, "duplicate_values")
    assert spec.key == "orders__region_amount__duplicate_values"
    assert spec.columns == ("region", "amount")
    assert spec.dimension == "uniqueness"

    # region repeats and amount repeats, but no (region, amount) pair does
    clean = [row(1, "eu", amount=1.0), row(2, "eu", amount=2.0), row(3, "us", amount=1.0)]
    assert run(spec, contract, clean).passed

    dirty = [*clean, row(4, "eu", amount=2.0), row(5, "eu", amount=2.0)]
    outcome = run(spec, contract, dirty)
    assert not outcome.passed
    assert outcome.metric == 2  # three rows share (eu, 2.0): two are extra
    assert outcome.failing_count == 3
    assert outcome.failing_ratio == pytest.approx(3 / 5)
    assert sorted(outcome.sample, key=lambda r: r["id"]) == [
        sample_row(2, "eu", 2.0),
        sample_row(4, "eu", 2.0),
        sample_row(5, "eu", 2.0),
    ]


def test_duplicate_values_in_percent_on_a_property(tmp_path):
    contract = write_contract(
        tmp_path,
        {
            "region": "        quality:\n"
            "          - metric: duplicateValues\n"
            "            mustBeLessOrEqualTo: 25\n"
            "            unit: percent\n"
        },
    )
    spec = compile_one(contract, "duplicate_values")
    assert spec.key == "orders__region__duplicate_values"
    assert run(spec, contract, [row(1, "eu"), row(2, "eu"), row(3, "us"), row(4, "apac")]).passed  # 25%
    outcome = run(spec, contract, [row(1, "eu"), row(2, "eu"), row(3, "eu"), row(4, "us")])  # 50%
    assert not outcome.passed
    assert outcome.metric == pytest.approx(50.0)
    assert outcome.failing_count == 3


# --- severity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "expected", "blocking"),
    [
        ("warning", "warning", False),
        ("info", "warning", False),
        ("error", "error", True),
        ("critical", "error", True),
        (None, "error", True),
    ],
)
def test_severity_of_a_quality_rule(tmp_path, severity, expected, blocking):
    yaml = "        quality:\n          - metric: nullValues\n            mustBe: 0\n"
    if severity:
        yaml += f"            severity: {severity}\n"
    contract = write_contract(tmp_path, {"amount": yaml})
    spec = compile_one(contract, "null_values")
    assert spec.severity == expected
    assert spec.blocking is blocking
    # a warning still fails (it just does not block publishing)
    outcome = run(spec, contract, [row(1, amount=None)])
    assert not outcome.passed
    assert outcome.spec.blocking is blocking


def test_rules_from_the_compiler_are_not_blocking_only_when_asked(tmp_path):
    contract = write_contract(
        tmp_path,
        {
            "id": "        required: true\n        unique: true\n",
            "amount": "        quality:\n          - metric: nullValues\n            mustBe: 0\n"
            "            severity: warning\n",
        },
        table_quality="      - metric: rowCount\n        mustBeGreaterThan: 0\n",
    )
    blocking = {s.key: s.blocking for s in compile_contract(contract, TABLE) if s.rule not in SCHEMA_RULES}
    assert blocking == {
        "orders__id__not_null": True,
        "orders__id__unique": True,
        "orders__table__row_count": True,
        "orders__amount__null_values": False,
    }


# --- samples ---------------------------------------------------------------------------


def test_sample_shows_real_values_and_masks_only_restricted_or_pii(tmp_path):
    contract = write_contract(tmp_path, {"amount": "        required: true\n"})
    spec = compile_one(contract, "not_null")
    outcome = run(
        spec,
        contract,
        [row(1), row(7, region="latam", email="secret@example.com", note="lives at 1 Main St", amount=None)],
    )
    (sample,) = outcome.sample
    assert sample["email"] == MASK and sample["note"] == MASK
    assert sample["id"] == 7 and sample["region"] == "latam" and sample["amount"] is None
    assert "secret@example.com" not in repr(outcome.sample) and "Main St" not in repr(outcome.sample)
    assert "secret@example.com" not in outcome.message


def test_sample_is_unmasked_without_a_mask_set(tmp_path):
    contract = write_contract(tmp_path, {"amount": "        required: true\n"})
    spec = compile_one(contract, "not_null")
    outcome = run_check(spec, make_table([row(1, email="a@example.com", note="n", amount=None)]))
    assert outcome.sample == [{"id": 1, "region": "eu", "email": "a@example.com", "note": "n", "amount": None}]


def test_more_than_ten_failing_rows_give_ten_sample_rows_and_the_full_count(tmp_path):
    assert SAMPLE_ROWS == 10
    contract = write_contract(tmp_path, {"amount": "        required: true\n"})
    spec = compile_one(contract, "not_null")
    rows = [row(i, amount=None) for i in range(25)] + [row(i) for i in range(25, 30)]
    outcome = run(spec, contract, rows)
    assert not outcome.passed
    assert outcome.failing_count == 25
    assert outcome.failing_ratio == pytest.approx(25 / 30)
    assert len(outcome.sample) == 10
    assert all(r["amount"] is None and r["email"] == MASK for r in outcome.sample)
    assert len({r["id"] for r in outcome.sample}) == 10


# --- several rules at once -------------------------------------------------------------


def test_run_checks_runs_every_compiled_rule_and_only_the_broken_ones_fail(tmp_path):
    contract = write_contract(
        tmp_path,
        {
            "id": "        primaryKey: true\n        required: true\n        unique: true\n",
            "amount": "        quality:\n          - metric: nullValues\n            mustBe: 0\n",
        },
        table_quality="      - metric: rowCount\n        mustBeGreaterThan: 0\n",
    )
    specs = [s for s in compile_contract(contract, TABLE) if s.rule not in SCHEMA_RULES]
    table = make_table([row(1), row(2), row(3, amount=None)])
    outcomes = {o.spec.key: o for o in run_checks(specs, table, masked_columns(contract.schema_object(TABLE)))}
    assert {k: o.passed for k, o in outcomes.items()} == {
        "orders__id__not_null": True,
        "orders__id__unique": True,
        "orders__id__primary_key": True,
        "orders__table__row_count": True,
        "orders__amount__null_values": False,
    }
    assert all(o.total_rows == 3 for o in outcomes.values())
