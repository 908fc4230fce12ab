"""Check specs as pandera schemas over the table itself, row by row (the reference form).

`to_pandera(spec)` re-scans the table per rule, so it is the reference the fast path
(`measure.py` + `judge.py`) is tested against, not what runs in production. Uniqueness
is declared at schema level (`unique=[...]`): pandera's ibis backend silently skips
`Column(unique=True)`.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandera.ibis as pa
from ibis import _

from mesh_platform.contracts.measure import row_predicate
from mesh_platform.contracts.model import CheckSpec
from mesh_platform.contracts.registry import Shape


def to_pandera(spec: CheckSpec, now: dt.datetime | None = None) -> pa.DataFrameSchema:
    """The rule alone, validated row by row against the table (the reference form)."""
    cols = spec.columns
    if spec.rule == "not_null":
        return pa.DataFrameSchema({c: pa.Column(nullable=False) for c in cols}, name=spec.key)
    if spec.rule == "unique":
        return pa.DataFrameSchema({c: pa.Column(nullable=True) for c in cols}, unique=list(cols), name=spec.key)
    if spec.rule == "primary_key":
        return pa.DataFrameSchema({c: pa.Column(nullable=False) for c in cols}, unique=list(cols), name=spec.key)
    if spec.kind.shape is Shape.ROW and spec.kind.library_metric is None:

        def rows_ok(data: pa.IbisData):
            return ~row_predicate(spec, data.table, now)

        return pa.DataFrameSchema(
            {c: pa.Column(nullable=True) for c in cols},
            checks=[pa.Check(rows_ok, name=spec.rule, error=spec.description)],
            name=spec.key,
        )
    if spec.kind.library_metric is not None:

        def holds(data: pa.IbisData) -> ibis.expr.types.BooleanScalar:
            return spec.threshold.apply(_metric_expr(spec, data.table, now))

        return pa.DataFrameSchema(
            {c: pa.Column(nullable=True) for c in cols},
            checks=[pa.Check(holds, name=spec.rule, error=spec.description)],
            name=spec.key,
        )
    raise ValueError(f"no row-level pandera form for rule {spec.rule!r}")


def _metric_expr(spec: CheckSpec, table: ibis.Table, now) -> ibis.expr.types.NumericScalar:
    """A library metric as one ibis scalar over the table (the reference form)."""
    percent = spec.threshold is not None and spec.threshold.unit == "percent"
    total = table.count()
    if spec.rule == "row_count":
        return total
    if spec.rule == "duplicate_values":
        groups = table.group_by(list(spec.columns)).agg(_n=_.count())
        count = (groups._n - 1).sum().fill_null(0)
        total = groups._n.sum()
    else:
        count = row_predicate(spec, table, now).sum().fill_null(0)
    if percent:
        return ibis.ifelse(total == 0, 0.0, count.cast("float64") * 100.0 / total.cast("float64"))
    return count
