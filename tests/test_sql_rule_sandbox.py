"""A contract's `type: sql` rule sees only the checked relation: names are resolved per scope,
and other relations, table functions, qualified names, settings, files and undeclared columns
are refused at validation (file, line and field, no quoted values); the sandbox it runs in
holds only the columns the rule reads and no path, and stops whatever validation might miss;
its errors never quote values."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import duckdb
import ibis
import pytest
import sqlglot
from test_contract_vocabulary import NOW, SQL_RULE, contract, only

from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.contracts.measure import sql_rule_query
from mesh_platform.contracts.runner import run_checks
from mesh_platform.contracts.sql_refusals import forbidden_function
from mesh_platform.contracts.sql_rules import ReadOnlyError, bind, validate_read_only
from mesh_platform.contracts.sql_sandbox import Sandbox, SqlRuleError, run_rule, safe_error
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
SECRET = "planted-api-key-0123456789"
GOOD = "SELECT count(*) FROM ${table} WHERE ${column} > 100"
ONLY = "may read only ${table}"
NOT_CALLABLE = "may not call"

# (id, query, what the refusal says); the contract's table is `t` with columns id, secret, v
HOSTILE = [
    # names resolved per scope: a CTE is visible only in its own scope and the ones inside it
    (
        "cte-shadows-catalog-view",
        "SELECT (SELECT count(*) FROM duckdb_tables) FROM (WITH duckdb_tables AS (SELECT 1 AS x) "
        "SELECT x FROM duckdb_tables) t",
        "table duckdb_tables is not allowed",
    ),
    (
        "nested-cte-used-outside",
        "WITH a AS (WITH duckdb_views AS (SELECT 1 AS x) SELECT x FROM duckdb_views) "
        "SELECT (SELECT count(*) FROM duckdb_views) FROM a",
        "table duckdb_views is not allowed",
    ),
    (
        "cte-in-sibling-scope",
        "SELECT s2.n FROM (WITH duckdb_columns AS (SELECT 1 AS x) SELECT x FROM duckdb_columns) s1, "
        "(SELECT count(*) AS n FROM duckdb_columns) s2",
        "table duckdb_columns is not allowed",
    ),
    (
        "cte-of-a-cte-body-used-by-the-next-cte",
        "WITH a AS (WITH pg_settings AS (SELECT 1 AS x) SELECT x FROM pg_settings), "
        "b AS (SELECT count(*) AS n FROM pg_settings) SELECT n FROM b",
        "table pg_settings is not allowed",
    ),
    (
        "recursive-cte-naming-itself",
        "WITH RECURSIVE duckdb_tables AS (SELECT count(*) AS x FROM duckdb_tables) SELECT x FROM duckdb_tables",
        "WITH RECURSIVE is not allowed",
    ),
    (
        "lateral-subquery",
        "SELECT count(*) FROM ${table}, LATERAL (SELECT count(*) AS n FROM duckdb_databases) l",
        "table duckdb_databases is not allowed",
    ),
    ("lateral-table-function", "SELECT count(*) FROM ${table} t, LATERAL generate_series(1, t.v) g", "table function"),
    (
        "union-with-catalog-view",
        "SELECT count(*) FROM ${table} UNION ALL SELECT count(*) FROM duckdb_tables",
        "table duckdb_tables",
    ),
    (
        "except-with-information-schema",
        "SELECT count(*) FROM ${table} EXCEPT SELECT count(*) FROM information_schema.tables",
        "qualified name information_schema.tables",
    ),
    # table functions, files
    ("read-csv", "SELECT count(*) FROM read_csv('/etc/passwd')", NOT_CALLABLE),
    ("read-parquet", "SELECT count(*) FROM read_parquet('/data/published/x/current.parquet')", NOT_CALLABLE),
    ("read-blob", "SELECT max(size) FROM read_blob('/data/warehouse/domain.duckdb')", NOT_CALLABLE),
    (
        "read-text-environ",
        "SELECT CAST(regexp_extract(content, 'RATINGS_API_KEY=([^\\x00]*)', 1) AS INTEGER) "
        "FROM read_text('/proc/self/environ')",
        NOT_CALLABLE,
    ),
    ("glob", "SELECT count(*) FROM glob('/etc/*')", NOT_CALLABLE),
    ("range", "SELECT count(*) FROM range(3000000000)", "table function or file RANGE"),
    ("unnest-in-from", "SELECT count(*) FROM unnest([1, 2, 3])", "table function UNNEST"),
    ("duckdb-settings-function", "SELECT count(*) FROM duckdb_settings()", NOT_CALLABLE),
    ("pragma-function", "SELECT count(*) FROM pragma_database_size()", NOT_CALLABLE),
    ("pragma-table-info", "SELECT count(*) FROM pragma_table_info('internal')", NOT_CALLABLE),
    ("query-table-function", "SELECT count(*) FROM query('SELECT 1')", NOT_CALLABLE),
    (
        "bare-file-name",
        "SELECT count(*) FROM '/data/published/checkout/web_orders/current.parquet'",
        "a file name is not allowed",
    ),
    # qualified names
    ("schema-qualified-table", "SELECT count(*) FROM main.${table}", "qualified name main.t"),
    ("catalog-qualified-table", "SELECT count(*) FROM memory.main.${table}", "qualified name memory.main.t"),
    ("pg-catalog", "SELECT count(*) FROM pg_catalog.pg_settings", "qualified name pg_catalog.pg_settings"),
    ("system-schema", "SELECT count(*) FROM system.main.duckdb_tables", "qualified name system.main.duckdb_tables"),
    ("attached-source", "SELECT count(*) FROM mesh_source.marts.internal", "qualified name mesh_source.marts.internal"),
    ("qualified-column", "SELECT count(*) FROM ${table} WHERE main.t.v > 1", "qualified name"),
    (
        "qualified-function",
        'SELECT count(*) FROM ${table} WHERE "system".main.current_database() IS NULL',
        "qualified function",
    ),
    # quoted identifiers: DuckDB matches them case-insensitively
    ("quoted-catalog-view", 'SELECT count(*) FROM "duckdb_tables"', "table duckdb_tables is not allowed"),
    (
        "quoted-mixed-case-information-schema",
        'SELECT count(*) FROM "Information_Schema"."Tables"',
        "qualified name information_schema.tables",
    ),
    ("quoted-upper-case-view", 'SELECT count(*) FROM "DUCKDB_SETTINGS"', "table duckdb_settings"),
    ("sandbox-view-by-name", "SELECT count(*) FROM mesh_checked", "table mesh_checked is not allowed"),
    # settings, variables, the environment, the catalog through functions
    ("current-setting", "SELECT length(current_setting('allowed_paths')) FROM ${table}", "current_setting()"),
    ("getvariable", "SELECT count(*) FROM ${table} WHERE getvariable('x') IS NULL", "getvariable()"),
    ("getenv", "SELECT count(*) FROM ${table} WHERE getenv('HOME') IS NOT NULL", "getenv()"),
    ("current-schema", "SELECT length(current_schema()) FROM ${table}", "current_schema()"),
    ("version", "SELECT count(*) FROM ${table} WHERE version() > 'v1'", "version()"),
    ("catalog-macro", "SELECT length(pg_get_viewdef(1)) FROM ${table}", "pg_get_viewdef()"),
    ("error-with-a-value", "SELECT count(*) FROM ${table} WHERE error(secret) IS NULL", "error()"),
    ("sleep", "SELECT count(*) FROM ${table} WHERE sleep_ms(100000) IS NULL", "sleep_ms()"),
    # subqueries reaching another table
    (
        "scalar-subquery-in-select",
        "SELECT (SELECT count(*) FROM duckdb_databases) FROM ${table}",
        "table duckdb_databases",
    ),
    (
        "subquery-in-where",
        "SELECT count(*) FROM ${table} WHERE EXISTS (SELECT 1 FROM pg_settings)",
        "table pg_settings",
    ),
    (
        "subquery-in-having",
        "SELECT count(*) FROM ${table} GROUP BY id HAVING count(*) > (SELECT count(*) FROM duckdb_views)",
        "table duckdb_views",
    ),
    (
        "in-subquery-other-table",
        "SELECT count(*) FROM ${table} WHERE v IN (SELECT x FROM other_model)",
        "table other_model",
    ),
    # columns that are not the contract's
    (
        "undeclared-column",
        "SELECT count(*) FROM ${table} WHERE undeclared > 0",
        "column undeclared is not a property of t",
    ),
    (
        "undeclared-qualified-column",
        "SELECT count(*) FROM ${table} x WHERE x.undeclared > 0",
        "column undeclared is not a property of t",
    ),
    (
        "undeclared-column-through-cte",
        "WITH c AS (SELECT v FROM ${table}) SELECT count(*) FROM c WHERE c.secret_extra > 0",
        "column secret_extra",
    ),
    ("struct-field-of-unknown-relation", "SELECT count(*) FROM ${table} WHERE v.field = 1", "unknown relation v"),
    ("column-renaming-in-from", "SELECT count(*) FROM ${table} AS x(a, b, c) WHERE a > 1", "rename"),
    # values from outside the query, dynamic shapes
    ("positional-parameter", "SELECT count(*) FROM ${table} WHERE v > $1", "query parameters"),
    ("session-variable", "SELECT count(*) FROM ${table} WHERE v > @@max_rows", "column max_rows"),
    ("named-parameter", "SELECT count(*) FROM ${table} WHERE v > $limit", "query parameters"),
    ("pivot", "SELECT count(*) FROM ${table} PIVOT (sum(v) FOR id IN (1, 2))", "PIVOT"),
    ("unpivot", "SELECT count(*) FROM ${table} UNPIVOT (val FOR col IN (v, id))", "PIVOT"),
    ("time-travel", "SELECT count(*) FROM ${table} AT (VERSION => 3)", "t with when is not allowed"),
    ("star-of-unknown-relation", "SELECT x.* FROM ${table}", "unknown relation x"),
]


def _yaml(query: str) -> str:
    return json.dumps(query)  # a JSON string is a YAML double-quoted scalar


@pytest.mark.parametrize(("query", "complaint"), [pytest.param(q, c, id=i) for i, q, c in HOSTILE])
def test_hostile_rules_are_refused_at_validation_with_file_line_and_field(tmp_path, query, complaint):
    c = contract(tmp_path, SQL_RULE.replace(GOOD, _yaml(query)))
    with pytest.raises(SpecError) as exc:
        compile_contract(c, "t")
    (problem,) = exc.value.problems
    assert complaint in problem.message
    assert problem.file == tmp_path / "contract.yaml"
    lines = (tmp_path / "contract.yaml").read_text().splitlines()
    assert lines[problem.line - 1].strip().startswith("query:")
    assert problem.field.endswith("quality[0].query")
    for literal in re.findall(r"'([^']+)'", query):  # the rule's values are never quoted back
        assert literal not in problem.message


def test_there_are_at_least_twenty_hostile_shapes():
    assert len(HOSTILE) >= 20 and len({i for i, _, _ in HOSTILE}) == len(HOSTILE)


ORDINARY = [
    "WITH big AS (SELECT * FROM ${table} WHERE ${column} > 100) SELECT count(*) FROM big",
    "SELECT count(*) FROM ${table} a JOIN ${table} b ON a.id = b.id WHERE a.${column} > 100",
    "SELECT count(*) FROM ${table} JOIN ${table} x USING (id) WHERE x.v > 1",
    "SELECT count(*) FROM ${table} WHERE ${column} > 100 AND current_date > DATE '2000-01-01'",
    "SELECT count(*) FROM t WHERE v > 1",  # the table's own name
    "SELECT count(*) FROM ${table} t1 WHERE EXISTS (SELECT 1 FROM ${table} t2 WHERE t2.id = t1.id AND t2.v <> t1.v)",
    "SELECT count(*) FROM (SELECT id, count(*) AS n FROM ${table} GROUP BY id HAVING n > 1) d",
    "WITH A AS (SELECT v FROM ${table}) SELECT count(*) FROM a WHERE V > 1",  # case-insensitive, like DuckDB
    "SELECT sum(c) FROM (SELECT count(*) AS c FROM ${table} UNION ALL SELECT count(*) FROM ${table} WHERE v > 1) u",
    "SELECT count(*) FROM ${table}, (VALUES (1), (2)) AS k(x) WHERE v = k.x",
    "SELECT count(*) FROM ${table} t, LATERAL (SELECT t.v * 2 AS w) l WHERE l.w > 3",
    "SELECT count(*) FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY v) AS rn FROM ${table}) r WHERE rn > 1",
    "SELECT count(*) FILTER (WHERE list_contains([1, 2], v)) FROM ${table}",
    "WITH duckdb_tables AS (SELECT v FROM ${table}) SELECT count(*) FROM duckdb_tables WHERE v > 1",  # in scope
    "WITH a AS (SELECT id, v FROM ${table}), b AS (SELECT v FROM a WHERE id > 3) SELECT count(*) FROM b WHERE v > 1",
    "SELECT count(*) FROM ${table} WHERE v > (WITH m AS (SELECT avg(v) AS x FROM ${table}) SELECT x FROM m)",
]


@pytest.mark.parametrize("query", ORDINARY)
def test_ordinary_rules_are_accepted(tmp_path, query):
    c = contract(tmp_path, SQL_RULE.replace(GOOD, _yaml(query)))
    assert only(c, "sql").params["query"] == query


@pytest.mark.parametrize("query", ORDINARY)
def test_ordinary_rules_run_in_the_sandbox(tmp_path, file_table, query):
    spec = only(contract(tmp_path, SQL_RULE.replace(GOOD, _yaml(query))), "sql")
    (outcome,) = run_checks([spec], file_table, now=NOW)
    assert outcome.metric is not None, outcome.message


def test_the_rule_reads_only_the_columns_it_names():
    columns = ["id", "secret", "v"]
    assert validate_read_only("SELECT count(*) FROM ${table}", "t", None, columns=columns).columns == set()
    assert validate_read_only(GOOD, "t", "v", columns=columns).columns == {"v"}
    assert validate_read_only(
        "SELECT count(*) FROM ${table} a JOIN ${table} b USING (id) WHERE a.v > b.v", "t", None, columns=columns
    ).columns == {"id", "v"}
    assert validate_read_only("SELECT count(*) FROM (SELECT * FROM ${table})", "t", None, columns=columns).columns == {
        "id",
        "secret",
        "v",
    }


def test_every_duckdb_macro_that_reads_a_relation_or_a_setting_is_refused():
    """The function list is reviewed against DuckDB's catalogue; this keeps it honest on upgrades."""
    con = duckdb.connect()
    rows = con.execute(
        "SELECT DISTINCT function_name, macro_definition FROM duckdb_functions() "
        "WHERE function_type NOT IN ('table', 'table_macro') AND macro_definition IS NOT NULL"
    ).fetchall()
    reaching = re.compile(r"\bFROM\b|\"system\"|\bmain\.|duckdb_|pragma_|current_setting|getvariable", re.I)
    missed = sorted({name for name, body in rows if reaching.search(body) and not forbidden_function(name)})
    assert missed == []


def test_every_duckdb_table_function_is_refused_in_from():
    con = duckdb.connect()
    names = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN ('table', 'table_macro')"
        ).fetchall()
    ]
    assert len(names) > 50
    for name in names:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            continue
        with pytest.raises(ReadOnlyError):
            validate_read_only(f"SELECT count(*) FROM {name}()", "t", None, columns=["id"])


@pytest.mark.parametrize(
    ("hide", "complaint"),
    [
        ("tables", "duckdb_tables is in a place whose names cannot be resolved"),
        ("columns", "column v is in a place whose names cannot be resolved"),
    ],
)
def test_what_scope_analysis_does_not_reach_is_refused(monkeypatch, hide, complaint):
    """The safety net: a table or column no scope accounts for (a construct sqlglot's scope
    analysis does not descend into) is refused, not trusted."""
    from sqlglot.optimizer import scope as sqlglot_scope

    monkeypatch.setattr(sqlglot_scope.Scope, hide, property(lambda self: []))
    with pytest.raises(ReadOnlyError, match=complaint):
        validate_read_only("SELECT count(*) FROM duckdb_tables WHERE v > 1", "duckdb_tables", None, columns=["v"])


def test_what_runs_is_the_validated_tree_with_the_relation_swapped_in():
    sql, reads = bind(
        "SELECT count(*) FROM ${table} WHERE ${column} > 100",
        "t",
        "v",
        ["id", "v"],
        sqlglot.exp.to_table("mesh_checked"),
        "duckdb",
    )
    assert sql == 'SELECT COUNT(*) FROM mesh_checked AS "t" WHERE "v" > 100' and reads == {"v"}
    # a CTE named like the table is the CTE in its scope, not the relation
    sql, _ = bind(
        "WITH t AS (SELECT 1 AS v) SELECT count(*) FROM t",
        "t",
        None,
        ["v"],
        sqlglot.exp.to_table("mesh_checked"),
        "duckdb",
    )
    assert "mesh_checked" not in sql


@pytest.fixture
def file_table(tmp_path):
    """A table in a DuckDB file, opened read-only as the audit opens a domain's warehouse."""
    path = tmp_path / "domain.duckdb"
    con = ibis.duckdb.connect(str(path))
    con.raw_sql(
        "CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT range AS id, 's' AS secret, range * 10 AS v FROM range(30)"
    )
    con.raw_sql("CREATE TABLE marts.internal AS SELECT 1 AS x")
    con.disconnect()
    ro = ibis.duckdb.connect(str(path), read_only=True)
    yield ro.table("t", database="marts")
    ro.disconnect()


def test_a_valid_rule_runs_in_the_sandbox_on_the_domain_file(tmp_path, file_table):
    spec = only(contract(tmp_path, SQL_RULE), "sql")
    (outcome,) = run_checks([spec], file_table, now=NOW)
    assert not outcome.passed and outcome.metric == 19  # v = 110 .. 290


def test_a_rule_on_a_partition_window_sees_only_the_windows_rows(tmp_path, file_table):
    spec = only(contract(tmp_path, SQL_RULE), "sql")
    (outcome,) = run_checks([spec], file_table.filter(file_table.id >= 25), now=NOW)
    assert outcome.metric == 5  # v = 250 .. 290


def test_a_rule_swapped_after_compiling_is_validated_again_before_it_runs(tmp_path, file_table):
    spec = only(contract(tmp_path, SQL_RULE), "sql")
    spec = dataclasses.replace(spec, params={**spec.params, "query": "SELECT count(*) FROM duckdb_tables"})
    (outcome,) = run_checks([spec], file_table, now=NOW)
    assert not outcome.passed and "sql rule failed to run" in outcome.message
    assert "duckdb_tables is not allowed" in outcome.message
    with pytest.raises(ReadOnlyError):  # the BigQuery SQL is built from the validated tree too
        sql_rule_query(spec, ibis.table({"id": "int64", "v": "int64"}, name="t", database="d"), "bigquery")


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("SELECT count(*) FROM read_text('/proc/self/environ')", "file system operations are disabled"),
        ("SELECT count(*) FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("SELECT count(*) FROM glob('/etc/*')", "file system operations are disabled"),
    ],
)
def test_the_sandbox_cannot_reach_files_even_when_validation_is_bypassed(tmp_path, file_table, query, complaint):
    with pytest.raises(SqlRuleError, match=complaint):
        run_rule(file_table, query)


def test_the_sandbox_allows_no_path_and_holds_no_warehouse(file_table):
    """Measured (sql_sandbox's docstring): an attached file is readable whole with read_blob,
    so the sandbox does not attach the domain's file; allowed_paths is empty."""
    warehouse = str(
        Path(
            file_table.get_backend()
            .con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal AND path IS NOT NULL")
            .fetchall()[0][0]
        )
    )
    with Sandbox(file_table) as sandbox:
        ((paths, directories),) = sandbox.con.execute(
            "SELECT current_setting('allowed_paths'), current_setting('allowed_directories')"
        ).fetchall()
        assert paths == [] and warehouse not in str(directories)
        assert directories == [sandbox.spill.rstrip("/") + "/"]  # its own spill directory only
        with pytest.raises(duckdb.Error, match="file system operations are disabled"):
            sandbox.con.execute(f"SELECT size FROM read_blob('{warehouse}')").fetchall()
        ((tables,),) = sandbox.con.execute("SELECT list(table_name) FROM duckdb_tables()").fetchall()
        assert tables == ["mesh_checked"]  # no other table of the domain is in reach
        spill = sandbox.spill
    assert not Path(spill).exists()


def test_the_sandbox_holds_only_the_columns_the_rule_reads(file_table):
    assert run_rule(file_table, "SELECT count(*) FROM mesh_checked WHERE v > 100", columns={"v"}) == [(19,)]
    with pytest.raises(SqlRuleError, match="not found in FROM clause"):
        run_rule(file_table, "SELECT count(*) FROM mesh_checked WHERE secret = 's'", columns={"v"})
    assert run_rule(file_table, "SELECT count(*) FROM mesh_checked", columns=set()) == [(30,)]


def test_the_sandbox_cannot_read_the_callers_python_variables(file_table):
    leak = ibis.memtable({"x": [1, 2, 3]}).to_pyarrow()  # noqa: F841 - what a replacement scan would find
    with pytest.raises(SqlRuleError, match="does not exist"):
        run_rule(file_table, "SELECT count(*) FROM leak")


def test_the_sandbox_cannot_change_its_settings_or_attach(file_table):
    for query in (
        "SET enable_external_access = true",
        "SET memory_limit = '64GB'",
        "SET allowed_paths = ['/']",
        "SET python_enable_replacements = true",
        "ATTACH '/tmp/other.duckdb' AS other",
    ):
        with pytest.raises(SqlRuleError):
            run_rule(file_table, query)


def test_a_long_rule_is_stopped_by_the_time_limit(file_table):
    with pytest.raises(SqlRuleError, match="longer than 0.5 s"):
        run_rule(
            file_table, "SELECT count(*) FROM range(3000000000) r WHERE r.range % 7 = hash(r.range) % 5", timeout=0.5
        )


def test_rule_errors_never_quote_values_or_secrets(tmp_path, file_table, monkeypatch):
    monkeypatch.setenv("RATINGS_API_KEY", SECRET)
    query = _yaml(f"SELECT CAST('{SECRET}' AS INTEGER) FROM ${{table}} LIMIT 1")
    spec = only(contract(tmp_path, SQL_RULE.replace(GOOD, query)), "sql")
    (outcome,) = run_checks([spec], file_table, now=NOW)
    assert not outcome.passed and "sql rule failed to run" in outcome.message
    assert "Conversion Error" in outcome.message
    assert SECRET not in outcome.message and "planted" not in outcome.message
    assert SECRET not in safe_error(RuntimeError(f"leak {SECRET} here"))


def test_a_rule_returning_a_value_instead_of_a_number_does_not_quote_it(tmp_path, file_table):
    spec = only(contract(tmp_path, SQL_RULE.replace(GOOD, _yaml("SELECT max(secret) FROM ${table}"))), "sql")
    (outcome,) = run_checks([spec], file_table, now=NOW)
    assert not outcome.passed and "expected a number, got str" in outcome.message
    assert "'s'" not in outcome.message


# --- the repository's own rules -------------------------------------------------------------

REPO_CONTRACTS = sorted(
    p for p in (ROOT / "domains").glob("*/products/*/contracts/*.odcs.yaml") if "type: sql" in p.read_text()
)


@pytest.mark.parametrize("file", REPO_CONTRACTS, ids=lambda p: p.name)
def test_the_repositorys_sql_rules_still_validate_and_build_for_both_targets(file):
    contract_ = load_contract(file)
    sql_specs = []
    for obj in contract_.model.schema_ or []:
        name = obj.physicalName or obj.name
        sql_specs += [s for s in compile_contract(contract_, name) if s.rule == "sql"]
    assert sql_specs
    for spec in sql_specs:
        cols = {c: "int64" for c in spec.params["schema_columns"]}
        bq = sql_rule_query(spec, ibis.table(cols, name=spec.table, catalog="project", database="dataset"), "bigquery")
        assert f"`project`.`dataset`.`{spec.table}`" in bq
        tables = {t.name for t in sqlglot.parse_one(bq, read="bigquery").find_all(sqlglot.exp.Table)}
        assert tables == {spec.table}
