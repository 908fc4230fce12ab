"""Publishing's Parquet writer: pyarrow for the types it writes as DuckDB's COPY does, COPY for the
rest, and either way DuckDB reads back the same column types and the same rows as from COPY."""

from __future__ import annotations

import duckdb
import pytest

from mesh_platform.publishing.parquet_files import ROW_GROUP, write_parquet

# every type pyarrow writes (SAME_TYPES), with nulls, extremes and more than one row group
SAME = f"""
SELECT
    i % 2 = 0 AS flag, (i % 100)::TINYINT AS tiny, (i % 30000)::SMALLINT AS small, i::INTEGER AS int,
    (i * 3000000000)::BIGINT AS big, (i / 7)::FLOAT AS f, (i / 7)::DOUBLE AS d,
    CASE WHEN i % 5 = 0 THEN NULL ELSE 'ünïcode-' || i END AS s,
    DATE '2024-01-01' + (i % 400)::INTEGER AS day,
    TIMESTAMP '2024-01-01 00:00:00.123456' + to_seconds(i) AS at,
    TIMESTAMPTZ '2024-01-01 00:00:00+02' + to_seconds(i) AS at_tz,
    ((i % 9999) / 100)::DECIMAL(4,2) AS dec4, (i / 100)::DECIMAL(12,2) AS dec12,
    (i * 1000000000000)::DECIMAL(38,4) AS dec38
FROM range({ROW_GROUP + 1000}) t(i)
"""
OTHER = {  # types outside SAME_TYPES: pyarrow cannot write intervals, UUIDs come back as VARCHAR
    "interval": "SELECT to_seconds(range) AS gap FROM range(10)",
    "list": "SELECT [range, range + 1] AS pair FROM range(10)",
    "struct": "SELECT {'a': range} AS rec FROM range(10)",
    "unsigned": "SELECT range::UINTEGER AS u FROM range(10)",
    "seconds": "SELECT '2024-01-01'::TIMESTAMP_S AS at FROM range(10)",
    "uuid": "SELECT uuid() AS id FROM range(10)",
}


def _written_by(path) -> str:
    return duckdb.connect().execute(f"SELECT created_by FROM parquet_file_metadata('{path}')").fetchone()[0]


def _same_as_copy(con, query: str, tmp_path) -> str:
    ours, copied = tmp_path / "ours.parquet", tmp_path / "copied.parquet"
    write_parquet(con.cursor(), query, ours)
    con.execute(f"COPY ({query}) TO '{copied}' (FORMAT parquet)")
    describe = "DESCRIBE SELECT * FROM read_parquet('{}')"
    assert con.sql(describe.format(ours)).fetchall() == con.sql(describe.format(copied)).fetchall()
    for a, b in ((ours, copied), (copied, ours)):
        extra = f"SELECT count(*) FROM (FROM read_parquet('{a}') EXCEPT ALL FROM read_parquet('{b}'))"
        assert con.execute(extra).fetchone()[0] == 0
    return _written_by(ours)


def test_pyarrow_writes_what_duckdb_reads_back_as_copy_would(tmp_path):
    con = duckdb.connect()
    assert "parquet-cpp-arrow" in _same_as_copy(con, SAME, tmp_path)
    groups = con.execute(f"SELECT count(*) FROM parquet_metadata('{tmp_path / 'ours.parquet'}') WHERE column_id = 0")
    assert groups.fetchone()[0] == 2  # DuckDB's row-group size, not one group per file


@pytest.mark.parametrize("kind", sorted(OTHER))
def test_other_types_go_through_copy(kind, tmp_path):
    con = duckdb.connect()
    con.execute("SELECT setseed(0.5)")
    if kind == "uuid":  # random per query: compare through a table
        con.execute(f"CREATE TABLE t AS {OTHER[kind]}")
        assert "DuckDB" in _same_as_copy(con, "SELECT * FROM t", tmp_path)
        return
    assert "DuckDB" in _same_as_copy(con, OTHER[kind], tmp_path)


def test_no_rows_and_odd_names_read_back_as_copy_would(tmp_path):
    con = duckdb.connect()
    assert "parquet-cpp-arrow" in _same_as_copy(con, f"FROM ({SAME}) WHERE int < 0", tmp_path)
    odd = 'SELECT 1 AS "a b", \'x\' AS "ünï ""quoted""", DATE \'2024-01-01\' AS "select"'
    assert "parquet-cpp-arrow" in _same_as_copy(con, odd, tmp_path)
