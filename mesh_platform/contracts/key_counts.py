"""Distinct keys counted so that DuckDB can spill them: unique, primary-key and duplicate checks.

In the shared aggregate, `COUNT(DISTINCT key)` keeps every distinct key of the table beside
twenty other aggregates. Measured on 100M rows under the 256 MB cap (bench/contract_checks.py):
that query failed with OutOfMemoryException (it needed ~4 GB), and so did
`COUNT(DISTINCT {order_number, line_number})` on its own. So on DuckDB each key is counted in a
query of its own, as `COUNT(DISTINCT hash(key))`: 8-byte values instead of strings and structs,
which spill (100M rows: ~20 s at 256 MB, 344 MB peak RSS).

Exact all the same. Equal keys hash equal (`hashing_is_exact` makes sure of it), so
distinct hashes <= distinct keys <= rows: when the hashes are as many as the rows, the keys
are unique, exactly. Fewer hashes (a repeated key, or a collision: about n^2 / 2^65, 3e-4 for
100M keys) and the exact count runs, `SELECT COUNT(*) FROM (SELECT DISTINCT cols ...)`, a
GROUP BY that spills too (100M rows: ~30 s). A collision costs that query, never a check.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis import _

# Four strings that differ only by case, accent or Unicode normalisation (composed vs decomposed):
# distinct byte for byte, but one key under NOCASE, NOACCENT or an ICU collation.
COLLATION_PROBE = ("A", "a", "\u00e1", "a\u0301")


def counted_apart(dialect: str) -> bool:
    """Whether keys are counted here instead of in the shared aggregate. BigQuery counts
    `COUNT(DISTINCT)` exactly at any size, and one scan is what it bills: it keeps them there."""
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


def distinct_keys(table: ibis.Table, columns: tuple[str, ...]) -> int:
    """COUNT(DISTINCT key), exactly, as `measure.metric` reads it: of a single column's non-null
    values; of a composite key over all rows (a key with a null part is one more value)."""
    keys = table.filter(table[columns[0]].notnull()) if len(columns) == 1 else table
    if hashing_is_exact(table, columns):
        counts = keys.aggregate(rows=_.count(), hashes=hash_expr(keys, columns).nunique())
        row = counts.to_pyarrow().to_pylist()[0]
        if row["hashes"] == row["rows"]:  # as many hashes as keys: no key repeats
            return int(row["rows"])
    return exact_distinct_keys(keys, columns)


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
    distinct = none.union(probe).v.nunique().to_pyarrow().as_py()
    return distinct == len(COLLATION_PROBE)
