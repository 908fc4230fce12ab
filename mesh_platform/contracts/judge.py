"""Judging: every measured value against its threshold, once, by pandera.

The measured values form a small relation, one row per check (key, measured value,
comparator, bounds); one pandera `DataFrameSchema` whose check is "the measured value
meets its threshold" validates it lazily through pandera's ibis backend, and pandera's
failure cases are the failed checks. A schema with one `Column` per check key was
measured first: pandera runs two tiny queries per column, 0.6 s of fixed overhead for
the benchmark's 41 checks; this form runs a few.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa_arrow

if TYPE_CHECKING:  # annotations only: see measured_schema
    import pandera.ibis as pa

from mesh_platform.contracts.model import OPS, CheckSpec, Threshold


def measured_rows(specs: list[CheckSpec], measured: dict[str, float]):
    """The one-row-per-check relation pandera validates: key, measured value, threshold."""

    def bounds(spec: CheckSpec) -> tuple[float, float]:
        v = spec.threshold.value
        return (float(v[0]), float(v[1])) if isinstance(v, (list, tuple)) else (float(v), float(v))

    return pa_arrow.table(
        {
            "key": pa_arrow.array([s.key for s in specs], pa_arrow.string()),
            "measured": pa_arrow.array([measured[s.key] for s in specs], pa_arrow.float64()),
            "comparator": pa_arrow.array([s.threshold.op for s in specs], pa_arrow.string()),
            "low": pa_arrow.array([bounds(s)[0] for s in specs], pa_arrow.float64()),
            "high": pa_arrow.array([bounds(s)[1] for s in specs], pa_arrow.float64()),
        }
    )


def _threshold_holds(data: pa.IbisData) -> ibis.expr.types.BooleanColumn:
    t = data.table
    bounds = {op: (t.low, t.high) if "between" in op else t.low for op in OPS}
    return ibis.cases(*((t.comparator == op, Threshold(op, bounds[op]).apply(t.measured)) for op in OPS), else_=False)


@functools.cache
def measured_schema() -> pa.DataFrameSchema:
    """The validator for `measured_rows`: each row's measured value must meet its threshold."""
    # lazy: pandera costs ~0.4 s to import; a code location imports the platform without running a check
    import pandera.ibis as pa

    return pa.DataFrameSchema(
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


def judge(specs: list[CheckSpec], measured: dict[str, float]) -> dict[str, str]:
    """spec key -> pandera's reason, for the specs whose measured value fails its threshold
    (the others passed)."""
    if not specs:
        return {}
    import pandera.errors  # lazy: see measured_schema

    rows = measured_rows(specs, {s.key: finite(measured[s.key]) for s in specs})
    try:
        measured_schema().validate(ibis.memtable(rows), lazy=True)
        return {}
    except pandera.errors.SchemaErrors as exc:
        errors = exc.schema_errors
    except pandera.errors.SchemaError as exc:
        errors = [exc]
    failed: dict[str, str] = {}
    for err in errors:
        cases = getattr(err, "failure_cases", None)
        if getattr(err.check, "name", None) != "threshold" or cases is None:
            raise err  # the measured relation itself is malformed: a platform bug
        for case in cases.to_dict("records"):
            row = case["failure_case"]
            failed[row["key"]] = f"measured {row['measured']:g}, expected {row['comparator']} {row['low']:g}" + (
                f" and {row['high']:g}" if "between" in row["comparator"] else ""
            )
    return failed


def finite(value: float) -> float:
    return value if math.isfinite(value) else 1e300
