"""The rest of the ODCS rule vocabulary, in DuckDB: types and schema drift, logicalTypeOptions,
enum, missing/invalid values, sql rules, relationships, freshness and retention.

Every rule kind is fed clean data (it passes) and a violating row or table (it fails
with its key, severity, failing count and a masked sample). `test_contract_rules.py`
covers required, unique, primary keys, row counts and null/duplicate metrics.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import ibis
import pandera.ibis as pa
import pyarrow as pa_arrow
import pyarrow.parquet as pq
import pytest

from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.contracts.explain import MASK, masked_columns
from mesh_platform.contracts.measure import build_aggregate
from mesh_platform.contracts.model import CheckOutcome, CheckSpec
from mesh_platform.contracts.pandera_schemas import to_pandera
from mesh_platform.contracts.runner import run_checks
from mesh_platform.specs.contract import Contract, load_contract
from mesh_platform.specs.errors import SpecError

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def contract(tmp_path: Path, properties: str, *, table_yaml: str = "", top: str = "", name: str = "t") -> Contract:
    """A contract for table `name`: an `id` column (integer, secret: masked) plus `properties`
    (YAML list items at 6-space indent); `table_yaml` adds schema-object keys (4-space)."""
    text = (
        textwrap.dedent("""\
        apiVersion: v3.2.0  # enum on a property is 3.2 vocabulary
        kind: DataContract
        id: vocab-v1
        version: 1.0.0
        status: active
        """)
        + top
        + textwrap.dedent(f"""\
        schema:
          - name: {name}
            physicalType: table
            properties:
              - name: id
                logicalType: integer
              - name: secret
                logicalType: string
                classification: restricted
        """)
        + textwrap.indent(textwrap.dedent(properties), "      ")
        + textwrap.indent(textwrap.dedent(table_yaml), "    ")
    )
    file = tmp_path / "contract.yaml"
    file.write_text(text)
    return load_contract(file)


def table(columns: str, rows: list[tuple], name: str = "t", con=None) -> ibis.Table:
    """`columns` is SQL (`v varchar`); rows give (id, v, ...) - `secret` is filled in."""
    con = con or ibis.duckdb.connect()
    con.raw_sql(f"create table {name} (id integer, secret varchar, {columns})")
    for r in rows:
        values = ", ".join(_sql(x) for x in (r[0], f"s{r[0]}", *r[1:]))
        con.raw_sql(f"insert into {name} values ({values})")
    return con.table(name)


def _sql(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"'{value.isoformat()}'"
    return repr(value)


def only(c: Contract, rule: str, name: str = "t") -> CheckSpec:
    specs = [s for s in compile_contract(c, name) if s.rule == rule]
    assert len(specs) == 1, [s.key for s in compile_contract(c, name)]
    return specs[0]


def check(spec: CheckSpec, c: Contract, t: ibis.Table, **kwargs) -> CheckOutcome:
    (outcome,) = run_checks([spec], t, masked_columns(c.schema_object(spec.table)), now=NOW, **kwargs)
    return outcome


def assert_fails(outcome: CheckOutcome, key: str, failing: int | None, total: int, ids: list[int] | None = None):
    assert not outcome.passed, outcome.message
    assert outcome.spec.key == key
    assert outcome.total_rows == total
    assert outcome.failing_count == failing
    if failing is not None:
        assert outcome.failing_ratio == pytest.approx(failing / total)
    if ids is not None:
        assert sorted(r["id"] for r in outcome.sample) == ids
        assert all(r["secret"] == MASK for r in outcome.sample)  # classified restricted


# --- logicalTypeOptions, enum, library value metrics: a row-level table ---------------------

ROW_RULES = [
    # (property yaml, column sql, clean values, bad values (ids 90+), key suffix, rule)
    ("logicalType: integer\nlogicalTypeOptions: {minimum: 1}", "v integer", [1, 5, None], [0, -3], "minimum"),
    ("logicalType: integer\nlogicalTypeOptions: {maximum: 10}", "v integer", [10, 1], [11], "maximum"),
    (
        "logicalType: number\nlogicalTypeOptions: {exclusiveMinimum: 0}",
        "v double",
        [0.01, 3.0],
        [0.0, -1.0],
        "exclusive_minimum",
    ),
    (
        "logicalType: number\nlogicalTypeOptions: {exclusiveMaximum: 1.5}",
        "v double",
        [1.49],
        [1.5, 2.0],
        "exclusive_maximum",
    ),
    ("logicalType: string\nlogicalTypeOptions: {minLength: 2}", "v varchar", ["ab", "abc"], ["a", ""], "min_length"),
    ("logicalType: string\nlogicalTypeOptions: {maxLength: 3}", "v varchar", ["abc", ""], ["abcd"], "max_length"),
    (
        "logicalType: string\nlogicalTypeOptions: {pattern: '^WO-[0-9]{9}$'}",
        "v varchar",
        ["WO-000000001", None],
        ["WO-1", "wo-000000001", "WO-0000000011"],
        "pattern",
    ),
    (
        "logicalType: string\nlogicalTypeOptions: {format: email}",
        "v varchar",
        ["a@example.com"],
        ["not-an-email", "a@b"],
        "format",
    ),
    (
        "logicalType: string\nlogicalTypeOptions: {format: uuid}",
        "v varchar",
        ["123e4567-e89b-12d3-a456-426614174000"],
        ["123e4567-e89b-12d3-a456"],
        "format",
    ),
    (
        "logicalType: string\nlogicalTypeOptions: {format: date}",
        "v varchar",
        ["2024-02-29"],
        ["2023-02-29", "yesterday"],
        "format",
    ),
    ("logicalType: integer\nlogicalTypeOptions: {multipleOf: 5}", "v integer", [0, 5, -10], [3], "multiple_of"),
    (
        "logicalType: date\nlogicalTypeOptions: {minimum: '2020-01-01'}",
        "v date",
        [dt.date(2020, 1, 1)],
        [dt.date(2019, 12, 31)],
        "minimum",
    ),
    ("logicalType: string\nenum: [{value: eu}, {value: us}]", "v varchar", ["eu", "us", None], ["apac"], "enum"),
    (
        "logicalType: string\nquality:\n  - metric: invalidValues\n    arguments: {validValues: [eu, us]}\n"
        "    mustBe: 0",
        "v varchar",
        ["eu", None],
        ["EU", "apac"],
        "invalid_values",
    ),
    (
        "logicalType: string\nquality:\n  - metric: invalidValues\n    arguments: {pattern: '^[a-z]+$'}\n    mustBe: 0",
        "v varchar",
        ["eu"],
        ["EU1"],
        "invalid_values",
    ),
    (
        "logicalType: string\nquality:\n  - metric: missingValues\n    arguments: {missingValues: [null, '', n/a]}\n"
        "    mustBe: 0",
        "v varchar",
        ["eu"],
        [None, "", "n/a"],
        "missing_values",
    ),
]


@pytest.mark.parametrize(
    ("prop", "column", "clean", "bad", "rule"), ROW_RULES, ids=[f"{r[4]}-{i}" for i, r in enumerate(ROW_RULES)]
)
def test_row_rule_passes_on_clean_rows_and_fails_on_violating_ones(tmp_path, prop, column, clean, bad, rule):
    c = contract(tmp_path, "- name: v\n" + textwrap.indent(prop, "  ") + "\n")
    spec = only(c, rule)
    assert spec.key == f"t__v__{rule}"
    assert spec.severity == "error" and spec.blocking

    clean_rows = [(i, v) for i, v in enumerate(clean)]
    assert check(spec, c, table(column, clean_rows)).passed

    bad_rows = [(90 + i, v) for i, v in enumerate(bad)]
    outcome = check(spec, c, table(column, clean_rows + bad_rows))
    assert_fails(outcome, f"t__v__{rule}", len(bad), len(clean) + len(bad), [r[0] for r in bad_rows])
    assert len(outcome.sample) == len(bad)

    # the reference form (pandera over the table, one rule) agrees with the fast path
    reference = to_pandera(spec, now=NOW)
    reference.validate(table(column, clean_rows))
    with pytest.raises((pa.errors.SchemaErrors, pa.errors.SchemaError)):
        reference.validate(table(column, clean_rows + bad_rows), lazy=True)


def test_a_library_metric_in_percent_with_a_warning_severity(tmp_path):
    c = contract(
        tmp_path,
        """\
        - name: v
          logicalType: string
          quality:
            - metric: missingValues
              mustBeLessOrEqualTo: 25
              unit: percent
              severity: warning
        """,
    )
    spec = only(c, "missing_values")
    assert spec.severity == "warning" and not spec.blocking
    quarter = check(spec, c, table("v varchar", [(1, "a"), (2, "b"), (3, "c"), (4, "")]))
    assert quarter.passed and quarter.metric == pytest.approx(25.0)
    half = check(spec, c, table("v varchar", [(1, "a"), (2, None), (3, "c"), (4, "")]))
    assert_fails(half, "t__v__missing_values", 2, 4, [2, 4])
    assert half.metric == pytest.approx(50.0) and "50%" in half.message


# --- types and schema drift -----------------------------------------------------------------

TYPED = """\
- name: amount
  logicalType: number
  physicalType: decimal(10,2)
- name: sold_at
  logicalType: timestamp
"""


PER_COLUMN = "customProperties:\n  - {property: typeChecks, value: per-column}\n"


def test_types_fold_into_the_schema_check_unless_the_contract_asks_per_column(tmp_path):
    folded = compile_contract(contract(tmp_path, TYPED), "t")
    assert [s.rule for s in folded].count("type") == 0 and [s.rule for s in folded].count("schema") == 1
    # the folded schema check still fails on one retyped column, naming it
    drift = run_checks(folded, table("amount double, sold_at timestamp", [(1, 2.5, NOW.replace(tzinfo=None))]), now=NOW)
    (schema,) = [o for o in drift if o.spec.rule == "schema"]
    assert not schema.passed and "retyped column 'amount'" in schema.message
    per_column = compile_contract(contract(tmp_path, TYPED, top=PER_COLUMN), "t")
    assert {s.key for s in per_column if s.rule == "type"} == {
        "t__amount__type",
        "t__sold_at__type",
        "t__id__type",
        "t__secret__type",
    }


def test_types_and_schema_pass_when_the_relation_matches(tmp_path):
    c = contract(tmp_path, TYPED, top=PER_COLUMN)
    t = table("amount decimal(10,2), sold_at timestamp", [(1, 2.5, NOW.replace(tzinfo=None))])
    outcomes = {o.spec.key: o for o in run_checks(compile_contract(c, "t"), t, now=NOW)}
    assert {k for k, o in outcomes.items() if not o.passed} == set()
    assert {"t__table__schema", "t__amount__type", "t__sold_at__type", "t__id__type"} <= set(outcomes)


def test_schema_drift_names_missing_extra_and_retyped_columns(tmp_path):
    c = contract(tmp_path, TYPED, top=PER_COLUMN)
    # amount is a double now (physical type drift), sold_at is gone, `extra` appeared
    t = table("amount double, extra varchar", [(1, 2.5, "x")])
    outcomes = {o.spec.key: o for o in run_checks(compile_contract(c, "t"), t, now=NOW)}
    drift = outcomes["t__table__schema"]
    assert not drift.passed and drift.spec.severity == "error"
    assert "missing column 'sold_at'" in drift.message
    assert "extra column 'extra'" in drift.message
    assert "retyped column 'amount'" in drift.message and "decimal(10,2)" in drift.message
    assert drift.failing_count is None and drift.sample == []
    amount = outcomes["t__amount__type"]
    assert not amount.passed and "expected physical type decimal(10,2), found float64" in amount.message
    assert not outcomes["t__sold_at__type"].passed
    assert outcomes["t__id__type"].passed


def test_logical_type_drift(tmp_path):
    c = contract(tmp_path, "- name: sold_at\n  logicalType: timestamp\n", top=PER_COLUMN)
    (spec,) = [s for s in compile_contract(c, "t") if s.key == "t__sold_at__type"]
    assert check(spec, c, table("sold_at timestamp", [(1, NOW.replace(tzinfo=None))])).passed
    outcome = check(spec, c, table("sold_at varchar", [(1, "2024-01-01")]))
    assert not outcome.passed and "expected logical type timestamp, found string" in outcome.message


# --- sql rules ------------------------------------------------------------------------------

SQL_RULE = """\
- name: v
  logicalType: integer
  quality:
    - type: sql
      id: small_values
      query: SELECT count(*) FROM ${table} WHERE ${column} > 100
      mustBeLessThan: 2
      severity: warning
"""


def test_sql_rule(tmp_path):
    c = contract(tmp_path, SQL_RULE)
    spec = only(c, "sql")
    assert spec.key == "t__v__small_values" and spec.severity == "warning"
    ok = check(spec, c, table("v integer", [(1, 5), (2, 500)]))
    assert ok.passed and ok.metric == 1
    outcome = check(spec, c, table("v integer", [(1, 500), (2, 500), (3, 1)]))
    assert not outcome.passed and outcome.metric == 2
    assert "measured 2, expected < 2" in outcome.message
    assert outcome.failing_count is None and outcome.sample == []  # a query result, not rows


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("DELETE FROM ${table}", "expected a SELECT, got DELETE"),
        ("DROP TABLE ${table}", "expected a SELECT, got DROP"),
        ("SELECT 1; DELETE FROM ${table}", "exactly one SELECT statement, got 2"),
        ("INSERT INTO ${table} SELECT * FROM ${table}", "expected a SELECT, got INSERT"),
        ("UPDATE ${table} SET v = 1", "expected a SELECT, got UPDATE"),
        ("COPY ${table} TO '/tmp/x.csv'", "expected a SELECT"),
        ("ATTACH 'other.duckdb'", "expected a SELECT"),
        ("SELECT count(*) INTO other FROM ${table}", "found INTO inside the SELECT"),
        ("SELEC count(*) FROM", "not valid SQL"),
    ],
)
def test_sql_rules_that_are_not_one_read_only_select_are_refused_with_file_and_line(tmp_path, query, complaint):
    text = SQL_RULE.replace("SELECT count(*) FROM ${table} WHERE ${column} > 100", f'"{query}"')
    c = contract(tmp_path, text)
    with pytest.raises(SpecError) as exc:
        compile_contract(c, "t")
    (problem,) = exc.value.problems
    assert complaint in problem.message
    assert problem.file == tmp_path / "contract.yaml"
    lines = (tmp_path / "contract.yaml").read_text().splitlines()
    assert lines[problem.line - 1].strip().startswith("query:")
    assert problem.field.endswith("quality[0].query")


# --- relationships --------------------------------------------------------------------------


def test_relationship_to_another_output_port_reads_its_published_snapshot(tmp_path, monkeypatch):
    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path / "data"))
    from mesh_platform import settings

    port_dir = settings.published_dir("sales", "customers", "customers")
    port_dir.mkdir(parents=True)
    pq.write_table(pa_arrow.table({"customer_id": ["C1", "C2"]}), port_dir / "current.parquet")

    c = contract(
        tmp_path,
        """\
        - name: customer_id
          logicalType: string
          relationships:
            - to: sales.customers.customers.customer_id
        """,
    )
    spec = only(c, "relationship")
    assert spec.key == "t__customer_id__relationship" and spec.dimension == "consistency"
    assert check(spec, c, table("customer_id varchar", [(1, "C1"), (2, "C2"), (3, None)])).passed

    outcome = check(spec, c, table("customer_id varchar", [(1, "C1"), (2, "C9"), (3, "C7"), (4, None)]))
    assert_fails(outcome, "t__customer_id__relationship", 2, 4, [2, 3])

    (port_dir / "current.parquet").unlink()
    missing = check(spec, c, table("customer_id varchar", [(1, "C1")]))
    assert not missing.passed and "not available" in missing.message


def test_composite_relationship_within_the_same_contract(tmp_path):
    c = contract(
        tmp_path,
        """\
        - name: parent_id
          logicalType: integer
        - name: region
          logicalType: string
        """,
        table_yaml="""\
        relationships:
          - from: [t.parent_id, t.region]
            to: [t.id, t.secret]
        """,
    )
    spec = only(c, "relationship")
    assert spec.columns == ("parent_id", "region")
    assert spec.key == "t__parent_id_region__relationship"
    # rows are (id, parent_id, region); secret is "s<id>", so a parent is (id, "s<id>")
    clean = [(1, None, None), (2, 1, "s1"), (3, 2, "s2")]
    assert check(spec, c, table("parent_id integer, region varchar", clean)).passed
    outcome = check(spec, c, table("parent_id integer, region varchar", [*clean, (4, 1, "s2"), (5, 9, "s9")]))
    assert_fails(outcome, "t__parent_id_region__relationship", 2, 5, [4, 5])


@pytest.mark.parametrize(
    ("to", "complaint"),
    [
        ("nope.id", "'nope' is not a schema object of this contract"),
        ("t.nope", "column 'nope' is not a property of 't'"),
        ("sales.customers.customer_id", "expected `<domain>.<product>.<port>.<column>`"),
    ],
)
def test_relationship_targets_are_checked_at_load(tmp_path, to, complaint):
    c = contract(tmp_path, f"- name: parent_id\n  logicalType: integer\n  relationships:\n    - to: {to}\n")
    with pytest.raises(SpecError) as exc:
        compile_contract(c, "t")
    assert complaint in str(exc.value) and "relationships[0].to" in str(exc.value)


# --- SLA: freshness and retention on a timestamp column ---------------------------------------

SLA = """\
slaDefaultElement: t.sold_at
slaProperties:
  - property: freshness
    value: 24
    unit: h
  - property: retention
    value: 1
    unit: y
    customProperties:
      - property: severity
        value: error
"""


def test_freshness(tmp_path):
    c = contract(tmp_path, "- name: sold_at\n  logicalType: timestamp\n", top=SLA)
    spec = only(c, "freshness")
    assert spec.key == "t__sold_at__freshness" and spec.dimension == "timeliness"
    assert spec.severity == "warning"  # stale data is still published unless the SLA says otherwise
    naive = NOW.replace(tzinfo=None)
    fresh = check(
        spec, c, table("sold_at timestamp", [(1, naive - dt.timedelta(days=9)), (2, naive - dt.timedelta(hours=2))])
    )
    assert fresh.passed and fresh.metric == pytest.approx(2.0)
    stale = check(spec, c, table("sold_at timestamp", [(1, naive - dt.timedelta(hours=30))]))
    assert not stale.passed and stale.metric == pytest.approx(30.0)
    assert "30.0h old, expected <= 24h" in stale.message
    empty = check(spec, c, table("sold_at timestamp", []))
    assert not empty.passed


def test_retention(tmp_path):
    c = contract(tmp_path, "- name: sold_at\n  logicalType: timestamp\n", top=SLA)
    spec = only(c, "retention")
    assert spec.key == "t__sold_at__retention" and spec.blocking
    naive = NOW.replace(tzinfo=None)
    rows = [(1, naive - dt.timedelta(days=30)), (2, naive - dt.timedelta(days=364))]
    assert check(spec, c, table("sold_at timestamp", rows)).passed
    outcome = check(spec, c, table("sold_at timestamp", [*rows, (3, naive - dt.timedelta(days=400))]))
    assert_fails(outcome, "t__sold_at__retention", 1, 3, [3])


def test_an_sla_without_an_element_is_only_a_materialisation_policy(tmp_path):
    c = contract(
        tmp_path,
        "- name: sold_at\n  logicalType: timestamp\n",
        top="slaProperties:\n  - property: freshness\n    value: 24\n    unit: h\n",
    )
    assert not [s for s in compile_contract(c, "t") if s.rule in ("freshness", "retention")]


# --- load-time errors name the line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "complaint"),
    [
        ("logicalType: string\nlogicalTypeOptions: {format: password}", "cannot check string format 'password'"),
        ("logicalType: string\nlogicalTypeOptions: {pattern: '[unclosed'}", "invalid regular expression"),
        ("logicalType: string\nquality:\n  - metric: invalidValues\n    mustBe: 0", "needs arguments.validValues"),
        ("logicalType: date\nlogicalTypeOptions: {minimum: soon}", "expected an ISO-8601 date"),
    ],
)
def test_rules_that_cannot_be_checked_are_refused_at_load(tmp_path, prop, complaint):
    c = contract(tmp_path, "- name: v\n" + textwrap.indent(prop, "  ") + "\n")
    with pytest.raises(SpecError) as exc:
        compile_contract(c, "t")
    (problem,) = exc.value.problems
    assert complaint in problem.message and problem.line is not None and problem.line > 10


# --- one scan -------------------------------------------------------------------------------


def test_every_row_level_rule_is_measured_by_one_aggregate_query(tmp_path):
    """The checkout contract's measurable rules compile to one SELECT over the table, and
    rules that need the same aggregate (unique and primary key) share it."""
    root = Path(__file__).resolve().parent.parent
    c = load_contract(
        root / "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
    )
    name = "web_orders_with_consent"
    specs = [s for s in compile_contract(c, name) if s.rule not in ("schema", "type", "sql", "relationship")]
    t = ibis.duckdb.connect().create_table(
        name,
        schema={
            p.name: ("string" if p.logicalType == "string" else "float64") for p in c.schema_object(name).properties
        },
    )
    relation, aliases, unevaluable = build_aggregate(specs, t, "duckdb")
    assert unevaluable == {}
    sql = " ".join(ibis.to_sql(relation, dialect="duckdb").replace("(", "( ").split())
    assert sql.upper().count("FROM") == 1
    # on DuckDB keys are counted as hashes (key_counts.py), which spill: unique and primary key
    # share one count of order_line_id, duplicateValues has the other; no distinct set of strings
    assert sql.count("COUNT( DISTINCT HASH(") == 2 and 'COUNT( DISTINCT "t0"."order_line_id"' not in sql
    assert len(aliases) < len(specs) + 1  # shared aggregates
    # where the aggregate counts keys themselves (BigQuery), unique and primary key share one count
    relation, _, _ = build_aggregate(specs, t, "bigquery")
    assert ibis.to_sql(relation, dialect="bigquery").count("COUNT(DISTINCT `t0`.`order_line_id`)") == 1


def test_text_quality_rules_are_prose_and_custom_rules_are_refused(tmp_path):
    text = contract(
        tmp_path,
        "- name: v\n  logicalType: string\n  quality:\n"
        "    - type: text\n      description: values are reviewed monthly\n",
    )
    assert [s.rule for s in compile_contract(text, "t") if s.columns == ("v",)] == []
    custom = contract(
        tmp_path,
        "- name: v\n  logicalType: string\n  quality:\n"
        "    - type: custom\n      engine: soda\n      implementation: x > 0\n",
    )
    with pytest.raises(SpecError, match="unsupported quality rule"):
        compile_contract(custom, "t")
