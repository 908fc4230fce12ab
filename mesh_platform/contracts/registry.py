"""The rule registry: one entry per rule kind the contract checks know.

An entry says what the rule measures (`shape`), its default quality dimension, the
parameters the compiler must give it (with their types), where it comes from in ODCS,
and, for a row-level rule, its predicate: an ibis expression true on an offending row.
A new row-level rule kind is one entry here (plus its tests); the compiler, measuring,
judging, explaining and the BigQuery compile all read the entry.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # predicates build ibis expressions when a run audits; loading needs no ibis
    import ibis
    import ibis.expr.types as ir

from mesh_platform.contracts.model import NO_FAILING_ROWS, CheckSpec, Threshold


class Shape(enum.Enum):
    """How a rule is measured."""

    SCHEMA = "schema"  # read from the relation's schema, without a scan
    ROW = "row"  # a predicate on each row; its failing count is one SUM in the shared aggregate
    KEY = "key"  # distinct (hashed) keys in the shared aggregate; offending rows: a semi-join with repeated keys
    TABLE = "table"  # a table-level aggregate in the shared query (row count, newest timestamp)
    QUERY = "query"  # its own read-only SELECT returning one number (`type: sql`)
    RELATION = "relation"  # an anti-join against another relation (foreign key)


# (spec, table, now) -> true on the rows that break the rule (never null)
Predicate = Callable[[CheckSpec, "ibis.Table", dt.datetime], "ir.BooleanColumn"]


@dataclass(frozen=True)
class RuleKind:
    name: str
    shape: Shape
    dimension: str
    odcs: str  # where the rule is written in ODCS, for people
    params: Mapping[str, Any] = field(default_factory=dict)  # parameter -> type(s) the compiler gives
    predicate: Predicate | None = None  # Shape.ROW only
    reports_metric: bool = False  # its measured value is a figure worth showing (metric, sql, freshness)
    library_metric: str | None = None  # ODCS library metric name (`quality: [{metric: ...}]`)
    default_threshold: Threshold | None = None  # when a library metric names no comparator
    option: str | None = None  # `logicalTypeOptions` key (a row rule on each non-null value)
    option_words: str = ""  # "<column> <words> <value>", the option rule's description

    @property
    def counts_rows(self) -> bool:
        """Whether failing means offending rows (with a count and a sample)."""
        return self.shape in (Shape.ROW, Shape.KEY, Shape.RELATION)

    def check_params(self, params: Mapping[str, Any]) -> None:
        """A compiler bug if a spec is built without the parameters its rule declares."""
        for name, types in self.params.items():
            if name not in params or not isinstance(params[name], types):
                raise TypeError(
                    f"rule {self.name!r} needs parameter {name!r} of type {types}, got {params.get(name)!r}"
                )


# string formats we can check, as what a value must look like
STRING_FORMATS = {
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "uri": r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$",
    "ipv4": r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$",
    "date": None,  # checked by a safe cast to DATE
    "date-time": None,  # checked by a safe cast to TIMESTAMP
}


# --- predicates ------------------------------------------------------------------------------


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _now_for(column: ir.Column, now: dt.datetime) -> Any:
    """`now` as a literal comparable with the column: naive UTC for naive timestamps."""
    dtype = column.type()
    if dtype.is_date():
        return now.date()
    if dtype.is_timestamp() and dtype.timezone is None:
        return now.astimezone(dt.UTC).replace(tzinfo=None)
    return now


def _same_kind(col: ir.Column, values: list) -> list:
    """Keep only the missing-value markers a column of this type can hold ('' for strings...)."""
    if col.type().is_string():
        return [v for v in values if isinstance(v, str)]
    if col.type().is_numeric():
        return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return []


def _any_null(spec, table, now):
    # lazy: a location compiles contracts without ibis; it is needed when a check runs
    import ibis

    return ibis.or_(*[table[c].isnull() for c in spec.columns])


def _missing(spec, table, now):
    col = table[spec.columns[0]]
    missing = _same_kind(col, spec.params["missing"])
    if not missing:
        return col.isnull()
    return col.isnull() | col.isin(missing)


def _retention(spec, table, now):
    col = table[spec.columns[0]]
    cutoff = now - dt.timedelta(seconds=spec.params["window_seconds"])
    return col.notnull() & (col < _now_for(col, cutoff))


def _invalid(spec, table, now):
    col = table[spec.columns[0]]
    if "valid" in spec.params:
        return col.notnull() & ~col.isin(spec.params["valid"])
    return col.notnull() & ~col.re_search(spec.params["pattern"])


def _bad_format(col: ir.Column, name: str) -> ir.BooleanColumn:
    pattern = STRING_FORMATS[name]
    if pattern is not None:
        return ~col.re_search(pattern)
    return col.try_cast("date" if name == "date" else "timestamp").isnull()


def _on_value(bad: Callable[[ir.Column, Any], ir.BooleanColumn], param: str = "value") -> Predicate:
    """A rule on each non-null value of the spec's one column."""

    def predicate(spec, table, now):
        col = table[spec.columns[0]]
        return col.notnull() & bad(col, spec.params[param])

    return predicate


def _option(
    name: str, option: str, words: str, bad, dimension: str = "conformity", value_types: Any = object
) -> RuleKind:
    return RuleKind(
        name,
        Shape.ROW,
        dimension,
        f"logicalTypeOptions.{option}",
        params={"value": value_types},
        predicate=_on_value(bad),
        option=option,
        option_words=words,
    )


def _library(
    name: str,
    metric: str,
    shape: Shape,
    dimension: str,
    default: Threshold | None,
    predicate: Predicate | None = None,
    **params: Any,
) -> RuleKind:
    return RuleKind(
        name,
        shape,
        dimension,
        f"quality: library metric {metric}",
        params=params,
        predicate=predicate,
        reports_metric=True,
        library_metric=metric,
        default_threshold=default,
    )


_NUMBER = (int, float)
_RULES = [
    RuleKind("schema", Shape.SCHEMA, "conformity", "the schema object's property list", params={"expected": dict}),
    # One spec per typed column, only when the contract sets customProperties
    # `typeChecks: per-column` (`compiler._Ctx.type_rules`, the one place `type` specs are
    # made); otherwise the `schema` check judges every column's type in one check.
    RuleKind(
        "type",
        Shape.SCHEMA,
        "conformity",
        "logicalType / physicalType, with customProperties typeChecks: per-column",
        params={"logical_type": (str, type(None)), "physical_type": (str, type(None))},
    ),
    RuleKind("not_null", Shape.ROW, "completeness", "required", predicate=_any_null),
    RuleKind("unique", Shape.KEY, "uniqueness", "unique"),
    RuleKind("primary_key", Shape.KEY, "uniqueness", "primaryKey (+ primaryKeyPosition)"),
    RuleKind(
        "enum",
        Shape.ROW,
        "conformity",
        "enum",
        params={"values": list},
        predicate=_on_value(lambda col, values: ~col.isin(values), "values"),
    ),
    _option("minimum", "minimum", ">=", lambda col, v: col < v),
    _option("maximum", "maximum", "<=", lambda col, v: col > v),
    _option("exclusive_minimum", "exclusiveMinimum", ">", lambda col, v: col <= v),
    _option("exclusive_maximum", "exclusiveMaximum", "<", lambda col, v: col >= v),
    _option("min_length", "minLength", "length >=", lambda col, v: col.length() < v, value_types=int),
    _option("max_length", "maxLength", "length <=", lambda col, v: col.length() > v, value_types=int),
    _option("pattern", "pattern", "matches", lambda col, v: ~col.re_search(v), value_types=str),
    _option("format", "format", "is a valid", _bad_format, value_types=str),
    # no `%`: ibis' BigQuery compiler cannot render a modulus of decimals
    _option(
        "multiple_of",
        "multipleOf",
        "is a multiple of",
        lambda col, v: (col - (col / v).floor() * v) != 0,
        value_types=_NUMBER,
    ),
    _library("row_count", "rowCount", Shape.TABLE, "completeness", None),
    _library("null_values", "nullValues", Shape.ROW, "completeness", NO_FAILING_ROWS, _any_null),
    _library("missing_values", "missingValues", Shape.ROW, "completeness", NO_FAILING_ROWS, _missing, missing=list),
    _library("invalid_values", "invalidValues", Shape.ROW, "conformity", NO_FAILING_ROWS, _invalid),
    _library("duplicate_values", "duplicateValues", Shape.KEY, "uniqueness", NO_FAILING_ROWS),
    RuleKind(
        "sql",
        Shape.QUERY,
        "conformity",
        "quality: type sql",
        params={"query": str, "schema_columns": list},
        reports_metric=True,
    ),
    RuleKind(
        "relationship",
        Shape.RELATION,
        "consistency",
        "relationships (foreign key)",
        params={"target": str, "to_columns": list, "external": bool},
    ),
    RuleKind(
        "freshness",
        Shape.TABLE,
        "timeliness",
        "slaProperties freshness + element",
        params={"window_seconds": float},
        reports_metric=True,
    ),
    RuleKind(
        "retention",
        Shape.ROW,
        "timeliness",
        "slaProperties retention + element",
        params={"window_seconds": float},
        predicate=_retention,
    ),
]
RULES: dict[str, RuleKind] = {kind.name: kind for kind in _RULES}
assert len(RULES) == len(_RULES), "two rule kinds share a name"

LIBRARY_METRICS = {k.library_metric: k for k in _RULES if k.library_metric}
OPTION_RULES = {k.option: k for k in _RULES if k.option}


def of_shape(*shapes: Shape) -> set[str]:
    return {k.name for k in _RULES if k.shape in shapes}
