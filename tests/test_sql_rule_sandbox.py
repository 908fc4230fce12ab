"""A contract's `type: sql` rule sees only the checked relation: table functions, other
tables, files, settings and the environment are refused at validation (file and line), and
the sandbox it runs in stops whatever validation might miss; its errors never quote values."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import ibis
import pytest

from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.contracts.runner import run_checks
from mesh_platform.contracts.sql_sandbox import run_rule, safe_error, SqlRuleError
from mesh_platform.specs.errors import SpecError
from test_contract_vocabulary import NOW, SQL_RULE, contract, only

SECRET = "planted-api-key-0123456789"
GOOD = "SELECT count(*) FROM ${table} WHERE ${column} > 100"

REFUSED = [
    ("SELECT CAST(regexp_extract(content, 'RATINGS_API_KEY=([^\\x00]*)', 1) AS INTEGER) "
     "FROM read_text('/proc/self/environ')", "READ_TEXT"),
    ("SELECT count(*) FROM read_blob('/etc/shadow')", "READ_BLOB"),
    ("SELECT count(*) FROM read_csv('/etc/passwd')", "READ_CSV"),
    ("SELECT count(*) FROM glob('/etc/*')", "GLOB"),
    ("SELECT count(*) FROM range(3e9)", "RANGE"),
    ("SELECT count(*) FROM '/data/published/checkout/web_orders/current.parquet'", "file"),
    ("SELECT count(*) FROM read_parquet('/data/published/x/current.parquet')", "READ_PARQUET"),
    ("SELECT count(*) FROM other_internal_model", "other_internal_model is not allowed"),
    ("SELECT count(*) FROM main.${table}", "is not allowed"),
    ("SELECT count(*) FROM query('SELECT 1')", "QUERY"),
    ("SELECT count(*) FROM duckdb_settings()", "DUCKDB_SETTINGS"),
    ("SELECT count(*) FROM duckdb_secrets()", "DUCKDB_SECRETS"),
    ("SELECT current_setting('memory_limit')", "current_setting()"),
    ("SELECT count(*) FROM ${table} WHERE getenv('HOME') IS NOT NULL", "getenv()"),
    ("SELECT count(*) FROM ${table} WHERE ${column} IN (SELECT 1 FROM read_json('/x.json'))", "READ_JSON"),
    ("SET enable_external_access = true", "expected a SELECT"),
    ("INSTALL httpfs", "expected a SELECT"),
]


@pytest.mark.parametrize(("query", "complaint"), REFUSED)
def test_rules_reaching_beyond_the_relation_are_refused_at_validation_with_file_and_line(tmp_path, query, complaint):
    c = contract(tmp_path, SQL_RULE.replace(GOOD, f'"{query}"'))
    with pytest.raises(SpecError) as exc:
        compile_contract(c, "t")
    (problem,) = exc.value.problems
    assert complaint in problem.message
    assert problem.file == tmp_path / "contract.yaml"
    lines = (tmp_path / "contract.yaml").read_text().splitlines()
    assert lines[problem.line - 1].strip().startswith("query:")


@pytest.mark.parametrize("query", [
    "WITH big AS (SELECT * FROM ${table} WHERE ${column} > 100) SELECT count(*) FROM big",
    "SELECT count(*) FROM ${table} a JOIN ${table} b ON a.id = b.id WHERE a.${column} > 100",
])
def test_ordinary_rules_are_accepted(tmp_path, query):
    c = contract(tmp_path, SQL_RULE.replace(GOOD, f'"{query}"'))
    assert only(c, "sql").params["query"] == query


@pytest.fixture
def file_table(tmp_path):
    """A table in a DuckDB file, opened read-only as the audit opens a domain's warehouse."""
    path = tmp_path / "domain.duckdb"
    con = ibis.duckdb.connect(str(path))
    con.raw_sql("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT range AS id, 's' AS secret, "
                "range * 10 AS v FROM range(30)")
    con.raw_sql("CREATE TABLE marts.internal AS SELECT 1 AS x")
    con.disconnect()
    ro = ibis.duckdb.connect(str(path), read_only=True)
    yield ro.table("t", database="marts")
    ro.disconnect()


def unvalidated(tmp_path, query):
    """A compiled sql spec whose query is swapped after validation: the sandbox's job alone."""
    spec = only(contract(tmp_path, SQL_RULE), "sql")
    return dataclasses.replace(spec, params={**spec.params, "query": query})


def test_a_valid_rule_runs_in_the_sandbox_on_the_domain_file(tmp_path, file_table):
    spec = only(contract(tmp_path, SQL_RULE), "sql")
    (outcome,) = run_checks([spec], file_table, now=NOW)
    assert not outcome.passed and outcome.metric == 19  # v = 110 .. 290


@pytest.mark.parametrize(("query", "complaint"), [
    ("SELECT count(*) FROM read_text('/proc/self/environ')", "file system operations are disabled"),
    ("SELECT count(*) FROM read_csv('/etc/passwd')", "file system operations are disabled"),
    ("SELECT count(*) FROM glob('/etc/*')", "file system operations are disabled"),
])
def test_the_sandbox_cannot_reach_files_even_when_validation_is_bypassed(tmp_path, file_table, query, complaint):
    with pytest.raises(SqlRuleError, match=complaint):
        run_rule(file_table, query)


def test_the_sandbox_cannot_change_its_settings_or_attach(file_table):
    for query in ("SET enable_external_access = true", "SET memory_limit = '64GB'",
                  "ATTACH '/tmp/other.duckdb' AS other"):
        with pytest.raises(SqlRuleError):
            run_rule(file_table, query)


def test_a_long_rule_is_stopped_by_the_time_limit(file_table):
    with pytest.raises(SqlRuleError, match="longer than 0.5 s"):
        run_rule(file_table, "SELECT count(*) FROM range(3000000000) r WHERE r.range % 7 = hash(r.range) % 5",
                 timeout=0.5)


def test_rule_errors_never_quote_values_or_secrets(tmp_path, file_table, monkeypatch):
    monkeypatch.setenv("RATINGS_API_KEY", SECRET)
    spec = unvalidated(tmp_path, f"SELECT CAST('{SECRET}' AS INTEGER) FROM mesh_checked LIMIT 1")
    (outcome,) = run_checks([spec], file_table, now=NOW)
    assert not outcome.passed and "sql rule failed to run" in outcome.message
    assert "Conversion Error" in outcome.message
    assert SECRET not in outcome.message and "planted" not in outcome.message
    assert SECRET not in safe_error(RuntimeError(f"leak {SECRET} here"))
