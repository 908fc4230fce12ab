"""Ibis expressions for each rule: the metric it measures and the rows that violate it.

Pandera decides pass/fail; these expressions explain a failure (count, ratio,
sample) and compute threshold metrics inside the database.
"""

from __future__ import annotations

import ibis
from ibis import _

from mesh_platform.contracts.check_specs import CheckSpec

METRICS = {"row_count", "null_values", "duplicate_values"}


def metric_expr(spec: CheckSpec, table: ibis.Table) -> ibis.expr.types.NumericScalar:
    """The measured value the threshold compares against (rows, or percent of rows).

    Each metric is built over a single relation so it compiles to one query.
    """
    percent = spec.threshold is not None and spec.threshold.unit == "percent"
    if spec.rule == "row_count":
        return table.count()
    if spec.rule == "null_values":
        isnull = table[spec.columns[0]].isnull()
        if percent:
            return isnull.mean().fill_null(0.0) * 100.0
        return isnull.sum().fill_null(0)
    if spec.rule == "duplicate_values":
        groups = table.group_by(list(spec.columns)).agg(_n=_.count())
        extra = (groups._n - 1).sum().fill_null(0)
        if percent:
            total = groups._n.sum()
            return ibis.ifelse(total == 0, 0.0, extra.cast("float64") * 100.0 / total.cast("float64"))
        return extra
    raise ValueError(f"rule {spec.rule!r} has no metric")


def threshold_expr(spec: CheckSpec, table: ibis.Table) -> ibis.expr.types.BooleanScalar:
    metric = metric_expr(spec, table)
    t = spec.threshold
    assert t is not None
    v = t.value
    return {
        "==": lambda: metric == v,
        "!=": lambda: metric != v,
        ">": lambda: metric > v,
        ">=": lambda: metric >= v,
        "<": lambda: metric < v,
        "<=": lambda: metric <= v,
        "between": lambda: metric.between(v[0], v[1]),
        "not between": lambda: ~metric.between(v[0], v[1]),
    }[t.op]()


def violations(spec: CheckSpec, table: ibis.Table) -> ibis.Table | None:
    """The offending rows, or None for table-level rules (row count) that have none."""
    cols = list(spec.columns)
    if spec.rule in ("not_null", "null_values"):
        return table.filter(ibis.or_(*[table[c].isnull() for c in cols]))
    if spec.rule in ("unique", "duplicate_values"):
        return table.filter(_.count().over(group_by=cols) > 1)
    if spec.rule == "primary_key":
        null_key = ibis.or_(*[table[c].isnull() for c in cols])
        return table.filter(null_key | (_.count().over(group_by=cols) > 1))
    return None
