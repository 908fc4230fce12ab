"""Ibis expressions for each rule: what it measures, and which rows violate it.

Every expression here is backend-neutral ibis, so the same compiled checks run in
DuckDB and compile to BigQuery SQL. Three shapes:

* `row_predicate(spec, table)`: a boolean column, true on an offending row (rules
  that judge rows one by one: required, minimum, pattern, enum, retention, ...);
* `aggregates(spec, table)`: named scalar aggregates a rule's metric is computed
  from. Names are canonical (`nunique:order_line_id`), so two rules needing the same
  aggregate share one, and all of them go into a single `SELECT ... FROM table`;
* `violations(spec, table)`: the offending rows, for the count and sample of a
  failed rule only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis import _

from mesh_platform.contracts.check_specs import STRING_FORMATS, CheckSpec

METRICS = {"row_count", "null_values", "missing_values", "invalid_values", "duplicate_values"}
# rules judged on each row independently: their failing count is one SUM in the aggregate
PREDICATE_RULES = {"not_null", "enum", "minimum", "maximum", "exclusive_minimum", "exclusive_maximum",
                   "min_length", "max_length", "pattern", "format", "multiple_of", "retention",
                   "null_values", "missing_values", "invalid_values"}
# rules that need a GROUP BY / COUNT(DISTINCT) over a key
KEY_RULES = {"unique", "primary_key", "duplicate_values"}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _now_for(column: ir.Column, now: dt.datetime) -> Any:
    """`now` as a literal comparable with the column: naive UTC for naive timestamps."""
    dtype = column.type()
    if dtype.is_date():
        return now.date()
    if dtype.is_timestamp() and dtype.timezone is None:
        return now.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return now


def row_predicate(spec: CheckSpec, table: ibis.Table, now: dt.datetime | None = None) -> ir.BooleanColumn:
    """True on the rows that break `spec` (never null)."""
    cols = [table[c] for c in spec.columns]
    col = cols[0] if cols else None
    v = spec.params.get("value")
    rule = spec.rule
    if rule in ("not_null", "null_values"):
        return ibis.or_(*[c.isnull() for c in cols])
    if rule == "missing_values":
        missing = _same_kind(col, spec.params.get("missing", []))
        return col.isnull() | (col.isin(missing) if missing else ibis.literal(False))
    if rule == "retention":
        cutoff = (now or utc_now()) - dt.timedelta(seconds=spec.params["window_seconds"])
        return col.notnull() & (col < _now_for(col, cutoff))
    if rule == "enum" or (rule == "invalid_values" and "valid" in spec.params):
        values = spec.params.get("values") or spec.params.get("valid")
        return col.notnull() & ~col.isin(values)
    if rule == "invalid_values":
        return col.notnull() & ~col.re_search(spec.params["pattern"])
    bad: Callable[[], ir.BooleanColumn] = {
        "minimum": lambda: col < v,
        "maximum": lambda: col > v,
        "exclusive_minimum": lambda: col <= v,
        "exclusive_maximum": lambda: col >= v,
        "min_length": lambda: col.length() < v,
        "max_length": lambda: col.length() > v,
        "pattern": lambda: ~col.re_search(v),
        "format": lambda: _bad_format(col, v),
        # no `%`: ibis' BigQuery compiler cannot render a modulus of decimals
        "multiple_of": lambda: (col - (col / v).floor() * v) != 0,
    }[rule]
    return col.notnull() & bad()


def _bad_format(col: ir.Column, name: str) -> ir.BooleanColumn:
    pattern = STRING_FORMATS[name]
    if pattern is not None:
        return ~col.re_search(pattern)
    return col.try_cast("date" if name == "date" else "timestamp").isnull()


def _same_kind(col: ir.Column, values: list) -> list:
    """Keep only the missing-value markers a column of this type can hold ('' for strings...)."""
    if col.type().is_string():
        return [v for v in values if isinstance(v, str)]
    if col.type().is_numeric():
        return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return []


def key_expr(table: ibis.Table, columns: tuple[str, ...], dialect: str) -> ir.Column:
    """One value per row identifying its key, for COUNT(DISTINCT ...): the column itself, or
    for a composite key a struct (DuckDB) or a delimited string (BigQuery, which cannot
    COUNT(DISTINCT) a STRUCT). Null parts stay distinguishable from values."""
    if len(columns) == 1:
        return table[columns[0]]
    if dialect == "bigquery":
        parts = [table[c].cast("string").fill_null("\x00") for c in columns]
        return ibis.literal("\x1f").join(parts)
    return ibis.struct({c: table[c] for c in columns})


def aggregates(spec: CheckSpec, table: ibis.Table, dialect: str,
               now: dt.datetime | None = None) -> dict[str, ir.Scalar]:
    """The named scalar aggregates `metric` needs, for the one shared aggregate query."""
    out: dict[str, ir.Scalar] = {"n": table.count()}
    cols = spec.columns
    if spec.rule in PREDICATE_RULES:
        out[_bad_name(spec)] = row_predicate(spec, table, now).sum().fill_null(0)
    elif spec.rule in KEY_RULES:
        name = ",".join(cols)
        out[f"nunique:{name}"] = key_expr(table, cols, dialect).nunique()
        if len(cols) == 1:
            out[f"nulls:{name}"] = table[cols[0]].isnull().sum().fill_null(0)
        elif spec.rule == "primary_key":
            out[f"anynull:{name}"] = ibis.or_(*[table[c].isnull() for c in cols]).sum().fill_null(0)
    elif spec.rule == "freshness":
        out[f"max:{cols[0]}"] = table[cols[0]].max()
    return out


FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # clock skew between the source and us


def _bad_name(spec: CheckSpec) -> str:
    """The aggregate counting a rule's offending rows; `required` and a nullValues metric on
    the same column share one."""
    if spec.rule in ("not_null", "null_values") and len(spec.columns) == 1:
        return f"nulls:{spec.columns[0]}"
    return f"bad:{spec.key}"


def metric(spec: CheckSpec, values: dict[str, Any], now: dt.datetime | None = None) -> tuple[float, int | None]:
    """(the value the rule's threshold judges, the exact failing row count if already known)."""
    n = int(values["n"] or 0)
    cols = spec.columns
    name = ",".join(cols)
    percent = spec.threshold is not None and spec.threshold.unit == "percent"

    def scaled(count: float) -> float:
        return (count * 100.0 / n if n else 0.0) if percent else float(count)

    if spec.rule == "row_count":
        return float(n), None
    if spec.rule in PREDICATE_RULES:
        bad = int(values[_bad_name(spec)] or 0)
        return scaled(bad), bad
    if spec.rule in KEY_RULES:
        distinct = int(values[f"nunique:{name}"] or 0)
        nulls = int(values.get(f"nulls:{name}") or values.get(f"anynull:{name}") or 0)
        if spec.rule == "unique":  # nulls are not duplicates of each other
            return float(n - nulls - distinct), None
        if spec.rule == "primary_key":  # a null key or a repeated key
            return float(n - distinct + (nulls if len(cols) > 1 else 0)), None
        groups = distinct + (1 if len(cols) == 1 and nulls else 0)  # GROUP BY keeps one null group
        return scaled(n - groups), None
    if spec.rule == "freshness":
        newest = values[f"max:{cols[0]}"]
        if newest is None:
            return float("inf"), None
        now = now or utc_now()
        if isinstance(newest, dt.datetime):
            if newest.tzinfo is None:
                newest = newest.replace(tzinfo=dt.timezone.utc)
            start = newest
        else:  # a date: its end
            start = dt.datetime.combine(newest, dt.time.min, tzinfo=dt.timezone.utc)
            newest = dt.datetime.combine(newest, dt.time.max, tzinfo=dt.timezone.utc)
        if start > now + FUTURE_TOLERANCE:  # a value from the future is wrong data, not fresh data
            return float("inf"), None
        return max((now - newest).total_seconds() / 3600.0, 0.0), None
    raise ValueError(f"rule {spec.rule!r} is not measured by the shared aggregate")


def violations(spec: CheckSpec, table: ibis.Table, now: dt.datetime | None = None,
               target: ibis.Table | None = None) -> ibis.Table | None:
    """The offending rows, or None for table-level rules (row count, sql, freshness...)."""
    cols = list(spec.columns)
    if spec.rule in PREDICATE_RULES:
        return table.filter(row_predicate(spec, table, now))
    if spec.rule == "unique":
        return table.filter(table[cols[0]].notnull() & (_.count().over(group_by=cols) > 1))
    if spec.rule == "duplicate_values":
        return table.filter(_.count().over(group_by=cols) > 1)
    if spec.rule == "primary_key":
        null_key = ibis.or_(*[table[c].isnull() for c in cols])
        return table.filter(null_key | (_.count().over(group_by=cols) > 1))
    if spec.rule == "relationship" and target is not None:
        to = spec.params["to_columns"]
        keys = target.select(**{f"__to_{i}": target[c] for i, c in enumerate(to)}).distinct()
        present = table.filter(ibis.and_(*[table[c].notnull() for c in cols]))
        return present.anti_join(keys, [present[c] == keys[f"__to_{i}"] for i, c in enumerate(cols)])
    return None


def threshold_expr(spec: CheckSpec, measured: ir.NumericValue) -> ir.BooleanValue:
    """The threshold of `spec` as an ibis predicate over `measured`."""
    assert spec.threshold is not None
    return spec.threshold.apply(measured)
