"""Check specs as pandera schemas for the ibis backend, so rules run inside the database.

Two forms:

* `measured_schema()`: the validator `run_checks` uses. One `DataFrameSchema` over a
  relation with one row per check spec (key, measured value, comparator, bounds),
  whose table-level check is "the measured value meets the threshold", validated
  lazily: pandera's failure cases are the failed checks' rows. The measured values come
  from one aggregate query over the table (see `runner.py` for why). A schema with one
  `Column` per check key was measured first: pandera runs two tiny queries per column,
  0.6 s of fixed overhead for the benchmark's 41 checks; this form runs a few.
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
from mesh_platform.contracts.check_specs import OPS, CheckSpec, Threshold


def measured_rows(specs: list[CheckSpec], measured: dict[str, float]):
    """The one-row-per-check relation pandera validates: key, measured value, threshold."""
    import pyarrow as pa_arrow

    def bounds(spec: CheckSpec) -> tuple[float, float]:
        v = spec.threshold.value
        return (float(v[0]), float(v[1])) if isinstance(v, (list, tuple)) else (float(v), float(v))

    return pa_arrow.table({
        "key": pa_arrow.array([s.key for s in specs], pa_arrow.string()),
        "measured": pa_arrow.array([measured[s.key] for s in specs], pa_arrow.float64()),
        "comparator": pa_arrow.array([s.threshold.op for s in specs], pa_arrow.string()),
        "low": pa_arrow.array([bounds(s)[0] for s in specs], pa_arrow.float64()),
        "high": pa_arrow.array([bounds(s)[1] for s in specs], pa_arrow.float64()),
    })


def _threshold_holds(data: pa.IbisData) -> ibis.expr.types.BooleanColumn:
    t = data.table
    bounds = {op: (t.low, t.high) if "between" in op else t.low for op in OPS}
    return ibis.cases(*((t.comparator == op, Threshold(op, bounds[op]).apply(t.measured)) for op in OPS),
                      else_=False)


MEASURED_SCHEMA = pa.DataFrameSchema(
    {
        "key": pa.Column(str, nullable=False),
        "measured": pa.Column(float, nullable=False),
        "comparator": pa.Column(str, pa.Check.isin(list(OPS))),
        "low": pa.Column(float),
        "high": pa.Column(float),
    },
    checks=[pa.Check(_threshold_holds, name="threshold", error="measured value breaks the rule's threshold")],
    unique=["key"],
    name="contract checks",
)


def measured_schema() -> pa.DataFrameSchema:
    """The validator for `measured_rows`: each row's measured value must meet its threshold."""
    return MEASURED_SCHEMA


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
