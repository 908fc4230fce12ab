"""Key checks count hashes of their keys in the shared aggregate (contracts/key_counts.py) and
stay exact: the hashed count equals COUNT(DISTINCT), a repeated key fails, a hash collision
falls back to the exact count instead of failing, and a collated string column is never hashed."""

from __future__ import annotations

import dataclasses

import duckdb
import ibis
import pytest
from test_contract_rules import CLEAN, compile_one, make_table, row, run, write_contract

from mesh_platform.contracts import key_counts
from mesh_platform.contracts.measure import build_aggregate, measure_aggregate
from mesh_platform.contracts.runner import run_checks

DUPLICATE_VALUES = (
    "      - type: library\n        metric: duplicateValues\n        mustBe: 0\n"
    "        arguments:\n          properties: [region, amount]\n"
)


def table_of(ddl: str, rows: str, setup: str = "") -> ibis.Table:
    raw = duckdb.connect()
    if setup:
        raw.execute(setup)
    raw.execute(f"create table t ({ddl})")
    raw.execute(f"insert into t values {rows}")
    return ibis.duckdb.from_connection(raw).table("t")


def exact(table: ibis.Table, sql: str) -> int:
    return table.get_backend().con.execute(sql).fetchall()[0][0]


def counted(table: ibis.Table, columns: tuple[str, ...], tmp_path) -> int:
    """The distinct keys the checks measure: a primary key on `columns`, through the shared
    aggregate (and the exact count if its hashes repeat)."""
    contract = write_contract(tmp_path, {"id": "        primaryKey: true\n"})
    spec = dataclasses.replace(compile_one(contract, "primary_key"), columns=columns, key=f"t__{'_'.join(columns)}")
    values, unevaluable = measure_aggregate([spec], table, "duckdb", None)
    assert unevaluable == {}
    return values[f"nunique:{','.join(columns)}"]


@pytest.fixture
def exact_counts(monkeypatch) -> list[tuple[str, ...]]:
    """The key column sets that took the exact count (SELECT DISTINCT)."""
    calls = []
    original = key_counts.exact_distinct_keys

    def spy(keys, columns):
        calls.append(tuple(columns))
        return original(keys, columns)

    monkeypatch.setattr(key_counts, "exact_distinct_keys", spy)
    return calls


def test_the_hashed_count_is_the_exact_count(exact_counts, tmp_path):
    t = table_of(
        "s varchar, i bigint, f double, d date",
        "('a', 1, 0.0, '2024-01-01'), ('b', 2, -0.0, '2024-01-02'), ('c', NULL, 'nan', NULL), "
        "(NULL, 3, -'nan'::double, '2024-01-01'), ('é', 4, 1.5, '2024-01-03')",
    )
    for columns in [("s",), ("i",), ("d",), ("f",), ("s", "i"), ("i", "d")]:
        single = len(columns) == 1
        where = f" where {columns[0]} is not null" if single else ""
        expected = exact(t, f"select count(*) from (select distinct {', '.join(columns)} from t{where})")
        assert key_counts.hashing_is_exact(t, columns)
        assert counted(t, columns, tmp_path) == expected, columns
    # only the keys that repeat took the exact count: d (2024-01-01 twice) and f (0.0 = -0.0, NaN)
    assert exact_counts == [("d",), ("f",)]


def test_unique_keys_are_confirmed_by_hashes_alone(tmp_path, exact_counts):
    contract = write_contract(tmp_path, {"id": "        primaryKey: true\n"})
    assert run(compile_one(contract, "primary_key"), contract, CLEAN).passed
    assert exact_counts == []


@pytest.mark.parametrize(
    ("rule", "rules", "quality", "rows", "failing"),
    [
        ("primary_key", {"id": "        primaryKey: true\n"}, "", [*CLEAN, row(4, "us")], 2),
        ("unique", {"region": "        unique: true\n"}, "", [row(1, "eu"), row(2, "us"), row(3, "eu")], 2),
        ("duplicate_values", {}, DUPLICATE_VALUES, [row(1, "eu", amount=2.0), row(2, "eu", amount=2.0)], 2),
    ],
)
def test_a_repeated_key_fails_after_the_exact_count(tmp_path, exact_counts, rule, rules, quality, rows, failing):
    contract = write_contract(tmp_path, rules, table_quality=quality)
    outcome = run(compile_one(contract, rule), contract, rows)
    assert not outcome.passed
    assert outcome.failing_count == failing
    assert len(exact_counts) == 1


def test_a_hash_collision_falls_back_to_the_exact_count_and_passes(tmp_path, monkeypatch, exact_counts):
    """Every key hashes to 0: the hashes say "repeats", the exact count says unique."""
    monkeypatch.setattr(key_counts, "hash_expr", lambda table, columns: table[columns[0]].isnull().cast("uint64") * 0)
    contract = write_contract(
        tmp_path,
        {"id": "        primaryKey: true\n", "region": "        unique: true\n"},
        table_quality=DUPLICATE_VALUES,
    )
    specs = [compile_one(contract, r) for r in ("primary_key", "unique", "duplicate_values")]
    clean = [row(1, "eu", amount=1.0), row(2, "us", amount=1.0), row(3, "apac", amount=2.0)]
    assert all(o.passed for o in run_checks(specs, make_table(clean)))
    assert sorted(exact_counts) == [("id",), ("region",), ("region", "amount")]
    # and a real duplicate still fails under the colliding hash
    outcomes = run_checks(specs, make_table([*clean, row(3, "eu", amount=1.0)]))
    assert [o.passed for o in outcomes] == [False, False, False]


@pytest.mark.parametrize(
    ("ddl", "setup"),
    [
        ("k varchar collate nocase", ""),
        ("k varchar collate noaccent", ""),
        ("k varchar collate nfc", ""),
        ("k varchar", "set default_collation = 'nocase'"),
    ],
)
def test_a_collated_string_key_is_counted_exactly_not_hashed(ddl, setup, exact_counts, tmp_path):
    """Under a collation 'A' and 'a' (or 'á' and 'a'+accent) are one key but two hashes: the
    hashes alone would call two equal keys unique."""
    t = table_of(ddl, "('A'), ('a'), ('\u00e1'), ('a\u0301'), ('b')", setup)
    assert not key_counts.hashing_is_exact(t, ("k",))
    assert counted(t, ("k",), tmp_path) == exact(t, "select count(distinct k) from t") < 5
    assert exact_counts == [("k",)]


def test_a_collation_behind_a_view_is_found_too():
    t = table_of("k varchar", "('A')")
    con = t.get_backend()
    con.raw_sql("create view v as select k collate nocase as k from t")
    assert key_counts.hashing_is_exact(t, ("k",))
    assert not key_counts.hashing_is_exact(con.table("v"), ("k",))


def test_types_without_a_byte_for_byte_equality_are_not_hashed():
    t = table_of("j json, l integer[], iv interval", "('1', [1], interval 1 month)")
    for column in ("j", "l", "iv"):
        assert not key_counts.hashing_is_exact(t, (column,)), column


def test_keys_are_hashed_in_the_one_aggregate_on_duckdb_only(tmp_path):
    contract = write_contract(tmp_path, {"id": "        primaryKey: true\n"}, table_quality=DUPLICATE_VALUES)
    specs = [compile_one(contract, r) for r in ("primary_key", "duplicate_values")]
    table = make_table(CLEAN)
    duckdb_sql = ibis.to_sql(build_aggregate(specs, table, "duckdb")[0], dialect="duckdb")
    assert duckdb_sql.count("COUNT(DISTINCT HASH(") == 2 and duckdb_sql.upper().count("FROM") == 1
    bigquery_sql = ibis.to_sql(build_aggregate(specs, table, "bigquery")[0], dialect="bigquery")
    assert "HASH(" not in bigquery_sql.upper() and bigquery_sql.count("DISTINCT") == 2
