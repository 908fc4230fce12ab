"""Distinct keys counted so that DuckDB can spill them: unique, primary-key and duplicate checks.

Measured on 100M rows under the 256 MB cap (bench/contract_checks.py): the shared aggregate
with `COUNT(DISTINCT order_line_id)` and `COUNT(DISTINCT {order_number, line_number})` failed
with OutOfMemoryException (it needed ~4 GB), and so did the struct's distinct count alone: a
distinct aggregate keeps every distinct string or struct. So on DuckDB the shared aggregate
counts `COUNT(DISTINCT hash(key))` instead: 8-byte values, which spill, in the same one scan.

Exact all the same. Equal keys hash equal (`hashing_is_exact` makes sure of it), so
distinct hashes <= distinct keys <= rows with a key: when the hashes are as many as those
rows, the keys are unique, exactly. Fewer hashes (a repeated key, or a collision: about
n^2 / 2^65, 3e-4 for 100M keys) and the exact count runs, `SELECT COUNT(*) FROM (SELECT
DISTINCT cols ...)`, a GROUP BY that spills too (100M rows: ~30 s). A collision costs that
query, never a check. Where hashing is not exact (a collation), only the exact count runs.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

# Four strings that differ only by case, accent or Unicode normalisation (composed vs decomposed):
# distinct byte for byte, but one key under NOCASE, NOACCENT or an ICU collation.
COLLATION_PROBE = ("A", "a", "\u00e1", "a\u0301")


def hashes_keys(dialect: str) -> bool:
    """Whether the shared aggregate counts hashed keys. BigQuery counts `COUNT(DISTINCT key)`
    exactly at any size: it keeps that."""
    return dialect == "duckdb"


@ibis.udf.scalar.builtin(name="hash")
def _duckdb_hash(value) -> dt.uint64:
    """DuckDB's 64-bit hash(). (ibis' own `.hash()` casts it through BIT: 25% slower.)"""


def hash_expr(table: ibis.Table, columns: tuple[str, ...]) -> ir.IntegerColumn:
    """One 64-bit hash per row of its key: of the column, or of a struct of the columns (null
    parts hash as values, as COUNT(DISTINCT struct) and SELECT DISTINCT treat them)."""
    if len(columns) == 1:
        return _duckdb_hash(table[columns[0]])
    return _duckdb_hash(ibis.struct({c: table[c] for c in columns}))


def keyed(table: ibis.Table, columns: tuple[str, ...]) -> ibis.Table:
    """The rows whose key is counted: a single column's non-null ones; every row of a composite
    key (one with a null part is one more value), as `measure.metric` reads the count."""
    return table.filter(table[columns[0]].notnull()) if len(columns) == 1 else table


def hash_count(table: ibis.Table, columns: tuple[str, ...]) -> ir.IntegerScalar:
    """`COUNT(DISTINCT hash(key))` over the `keyed` rows, for the shared aggregate."""
    if len(columns) == 1:
        return hash_expr(table, columns).nunique(where=table[columns[0]].notnull())
    return hash_expr(table, columns).nunique()


def distinct_keys(table: ibis.Table, columns: tuple[str, ...], hashes: int | None, rows: int) -> int:
    """COUNT(DISTINCT key) over the `rows` keyed rows, exactly: `hashes` (the shared
    aggregate's `hash_count`) when it equals `rows`, so no key repeats; else (or without
    hashes) the exact count."""
    if hashes is not None and int(hashes) == rows:
        return rows
    return exact_distinct_keys(keyed(table, columns), columns)


def exact_distinct_keys(keys: ibis.Table, columns: tuple[str, ...]) -> int:
    """`SELECT COUNT(*) FROM (SELECT DISTINCT cols FROM keys)`: a GROUP BY, which spills."""
    return int(keys.select(*columns).distinct().count().to_pyarrow().as_py())


def hashing_is_exact(table: ibis.Table, columns: tuple[str, ...]) -> bool:
    """Whether equal keys always hash equal on this relation. hash() reads a value's bytes; a
    string column compared under a collation (a column's COLLATE, or the connection's
    `default_collation`) makes 'A' and 'a' one key but two hashes, and a repeated key would
    pass. Numbers, dates and times hash by value (DuckDB hashes -0.0 as 0.0 and every NaN
    alike); other types (nested, JSON, intervals) take the exact count."""
    strings = []
    for column in columns:
        dtype = table[column].type()
        if dtype.is_string():
            strings.append(column)
        elif not (dtype.is_numeric() or dtype.is_boolean() or dtype.is_temporal() or dtype.is_uuid()):
            return False
    return all(compares_bytes(table, c) for c in strings)


def compares_bytes(table: ibis.Table, column: str) -> bool:
    """Whether `column` compares strings byte for byte: `COLLATION_PROBE` in the column's type
    (appended to none of its rows, so nothing is scanned) keeps its four distinct values."""
    none = table.select(v=table[column]).filter(ibis.literal(False))  # no CAST: it would drop the collation
    probe = ibis.memtable({"v": list(COLLATION_PROBE)}, schema={"v": none.v.type()})  # same nullability
    try:
        distinct = none.union(probe).v.nunique().to_pyarrow().as_py()
    except Exception:  # noqa: BLE001 - cannot tell (an unbound table...): count exactly
        return False
    return distinct == len(COLLATION_PROBE)
