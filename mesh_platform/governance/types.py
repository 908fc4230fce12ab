"""Column types across dbt, ODCS and SQL dialects (read by `specs.column_types`, as the checks read them).

`same_type` is what the dbt-contract policy asks ("is `numeric(10,2)` in dbt the contract's
`decimal(10,2)`?"); `widens` is what the breaking-change gate asks ("can every consumer still
read the column after this change?").
"""

from __future__ import annotations

from typing import Any

import ibis.expr.datatypes as dt

from mesh_platform.specs import column_types
from mesh_platform.specs.column_types import parse

_LOGICAL_ORDER = {"integer": 0, "number": 1}  # integer widens to number


def same_type(a: str, b: str, dialect: str = "duckdb") -> bool | None:
    """None when either side is not a type of this dialect (then no verdict)."""
    ta, tb = parse(a, dialect), parse(b, dialect)
    if ta is None or tb is None:
        return None
    return column_types.same(ta, tb)


def matches_logical(type_: str, logical: str, dialect: str = "duckdb") -> bool | None:
    parsed = parse(type_, dialect)
    return None if parsed is None else column_types.matches_logical(parsed, logical)


def widens(old: dict[str, Any], new: dict[str, Any], dialect: str = "duckdb") -> bool:
    """Whether a column typed `old` (logicalType/physicalType) may become `new` without breaking
    a reader: same type, a wider integer or float, a decimal that keeps its integer digits and
    scale, integer -> decimal/float, a longer or unbounded string."""
    old_l, new_l = (old.get("logicalType") or "").lower(), (new.get("logicalType") or "").lower()
    if old_l and new_l and old_l != new_l:
        if not (old_l in _LOGICAL_ORDER and new_l in _LOGICAL_ORDER and _LOGICAL_ORDER[new_l] > _LOGICAL_ORDER[old_l]):
            return False
    a, b = parse(old.get("physicalType"), dialect), parse(new.get("physicalType"), dialect)
    if a is None or b is None:
        return (old.get("physicalType") or "").lower() == (new.get("physicalType") or "").lower() or b is None
    if a == b:
        return True
    if a.is_integer() and b.is_integer():
        return _int_bits(b) >= _int_bits(a) and (
            a.is_signed_integer() == b.is_signed_integer() or b.is_signed_integer()
        )
    if a.is_floating() and b.is_floating():
        return b.nbytes >= a.nbytes
    if a.is_integer() and b.is_floating():
        return _int_bits(a) < 53 or b.nbytes == 8
    if a.is_integer() and b.is_decimal():
        digits = {8: 3, 16: 5, 32: 10, 64: 19}.get(_int_bits(a), 19)
        return (b.precision or 38) - (b.scale or 0) >= digits
    if a.is_decimal() and b.is_decimal():
        ap, as_, bp, bs = a.precision or 38, a.scale or 0, b.precision or 38, b.scale or 0
        return bs >= as_ and bp - bs >= ap - as_
    if a.is_decimal() and b.is_floating():
        return False  # loses exactness
    if a.is_string() and b.is_string():
        return True  # DuckDB/BigQuery strings are unbounded; length bounds live in logicalTypeOptions
    if a.is_timestamp() and b.is_timestamp():
        return a.timezone == b.timezone and (b.scale or 6) >= (a.scale or 6)
    return False


def _int_bits(t: dt.DataType) -> int:
    return t.nbytes * 8
