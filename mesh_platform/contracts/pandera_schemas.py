"""Check specs as pandera schemas for the ibis backend, so rules run inside the database.

Two forms:

* `measured_schema(specs)`: the validator `run_checks` uses. One `DataFrameSchema` for a
  whole table, one `Column` per check spec (named by its key) whose pandera check is
  the rule's threshold, validated lazily over a one-row relation of measured values
  (see `runner.py` for why the measurement is one aggregate query).
* `to_pandera(spec)`: the rule alone as a pandera schema over the table itself, row by
  row. It re-scans the table per rule, so it is the reference the fast path is tested
  against, not what runs in production. Uniqueness is declared at schema level
  (`unique=[...]`): pandera's ibis backend silently skips `Column(unique=True)`.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandera.ibis as pa

from mesh_platform.contracts import metrics
from mesh_platform.contracts.check_specs import CheckSpec


def threshold_check(spec: CheckSpec) -> pa.Check:
    t = spec.threshold
    assert t is not None, spec.key
    v = t.value
    builtin = {
        "==": lambda: pa.Check.equal_to(v),
        "!=": lambda: pa.Check.not_equal_to(v),
        ">": lambda: pa.Check.greater_than(v),
        ">=": lambda: pa.Check.greater_than_or_equal_to(v),
        "<": lambda: pa.Check.less_than(v),
        "<=": lambda: pa.Check.less_than_or_equal_to(v),
        "between": lambda: pa.Check.in_range(v[0], v[1]),
    }.get(t.op)
    if builtin is not None:
        return builtin()
    return pa.Check(lambda data: metrics.threshold_expr(spec, data.table[data.key]),
                    name=t.op.replace(" ", "_"), error=f"{t.describe()}")


def measured_schema(specs: list[CheckSpec], name: str = "contract") -> pa.DataFrameSchema:
    """One column per spec key holding its measured value; each column's check is the threshold."""
    return pa.DataFrameSchema(
        {s.key: pa.Column(float, checks=[threshold_check(s)], nullable=False) for s in specs},
        name=name,
    )


def to_pandera(spec: CheckSpec, now: dt.datetime | None = None) -> pa.DataFrameSchema:
    """The rule alone, validated row by row against the table (the reference form)."""
    cols = spec.columns
    if spec.rule == "not_null":
        return pa.DataFrameSchema({c: pa.Column(nullable=False) for c in cols}, name=spec.key)
    if spec.rule == "unique":
        return pa.DataFrameSchema({c: pa.Column(nullable=True) for c in cols}, unique=list(cols), name=spec.key)
    if spec.rule == "primary_key":
        return pa.DataFrameSchema({c: pa.Column(nullable=False) for c in cols}, unique=list(cols), name=spec.key)
    if spec.rule in metrics.PREDICATE_RULES and spec.rule not in metrics.METRICS:
        def rows_ok(data: pa.IbisData):
            return ~metrics.row_predicate(spec, data.table, now)

        return pa.DataFrameSchema({c: pa.Column(nullable=True) for c in cols},
                                  checks=[pa.Check(rows_ok, name=spec.rule, error=spec.description)],
                                  name=spec.key)
    if spec.rule in metrics.METRICS:
        def holds(data: pa.IbisData) -> ibis.expr.types.BooleanScalar:
            return metrics.threshold_expr(spec, _metric_expr(spec, data.table, now))

        return pa.DataFrameSchema({c: pa.Column(nullable=True) for c in cols},
                                  checks=[pa.Check(holds, name=spec.rule, error=spec.description)],
                                  name=spec.key)
    raise ValueError(f"no row-level pandera form for rule {spec.rule!r}")


def _metric_expr(spec: CheckSpec, table: ibis.Table, now) -> ibis.expr.types.NumericScalar:
    """A library metric as one ibis scalar over the table (the reference form)."""
    from ibis import _

    percent = spec.threshold is not None and spec.threshold.unit == "percent"
    total = table.count()
    if spec.rule == "row_count":
        return total
    if spec.rule == "duplicate_values":
        groups = table.group_by(list(spec.columns)).agg(_n=_.count())
        count = (groups._n - 1).sum().fill_null(0)
        total = groups._n.sum()
    else:
        count = metrics.row_predicate(spec, table, now).sum().fill_null(0)
    if percent:
        return ibis.ifelse(total == 0, 0.0, count.cast("float64") * 100.0 / total.cast("float64"))
    return count
