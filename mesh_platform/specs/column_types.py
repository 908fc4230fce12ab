"""Column types as ibis data types: one reading of ODCS logical types and SQL physical types.

The contract checks (is the published column what the contract says?), the dbt-contract policy
(is dbt's `numeric(10,2)` the contract's `decimal(10,2)`?) and the breaking-change gate all read
types here, so a type the checks accept is one governance accepts too.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.datatypes as dt

# ODCS logicalType -> which ibis types it admits.
LOGICAL: dict[str, Callable[[dt.DataType], bool]] = {
    "string": lambda t: t.is_string() or t.is_uuid(),
    "integer": lambda t: t.is_integer(),
    "number": lambda t: t.is_numeric(),
    "boolean": lambda t: t.is_boolean(),
    "date": lambda t: t.is_date(),
    "timestamp": lambda t: t.is_timestamp(),
    "time": lambda t: t.is_time(),
    "array": lambda t: t.is_array(),
    "object": lambda t: t.is_struct(),
    "map": lambda t: t.is_map(),
    "vector": lambda t: t.is_array(),
}


def parse(type_: str | None, dialect: str = "duckdb") -> dt.DataType | None:
    """A physical type in ibis terms (nullable), or None when this dialect cannot read it."""
    if not type_:
        return None
    # lazy: ibis's type parsers; the specs load without ibis
    from ibis.backends.sql.datatypes import BigQueryType, DuckDBType

    mapper = {"duckdb": DuckDBType, "bigquery": BigQueryType}.get(dialect, DuckDBType)
    try:
        return mapper.from_string(str(type_)).copy(nullable=True)
    except Exception:  # noqa: BLE001 - another platform's type
        return None


def matches_logical(type_: dt.DataType, logical: str) -> bool | None:
    """None when the logical type is not one ODCS defines (then no verdict)."""
    check = LOGICAL.get((logical or "").lower())
    return None if check is None else bool(check(type_))


def same(wanted: dt.DataType, actual: dt.DataType) -> bool:
    """Equal types; a timestamp's precision is the engine's business, its time zone is not."""
    if wanted.is_timestamp() and actual.is_timestamp():
        return wanted.timezone == actual.timezone
    return wanted.copy(nullable=True) == actual.copy(nullable=True)


def known_physical_type(type_: object) -> str | None:
    """None when a target (DuckDB or BigQuery) knows this physical type, else why not."""
    if not isinstance(type_, str) or not type_.strip():
        return f"expected a SQL type name, got {type_!r}"
    for dialect in ("duckdb", "bigquery"):
        parsed = parse(type_, dialect)
        if parsed is not None and not parsed.is_unknown():
            if (
                parsed.is_decimal()
                and parsed.precision is not None
                and not (1 <= parsed.precision <= 76 and 0 <= (parsed.scale or 0) <= parsed.precision)
            ):
                return (
                    f"decimal precision {parsed.precision} and scale {parsed.scale} are out of range "
                    "(precision 1..76, scale 0..precision)"
                )
            return None
    return (
        f"unknown physicalType {type_[:60]!r}: neither DuckDB nor BigQuery has such a type "
        "(e.g. varchar, integer, bigint, decimal(10,2), date, timestamp, boolean, double)"
    )
