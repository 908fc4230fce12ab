"""Explaining a failed check: its exact failing row count, a sample of at most
`SAMPLE_ROWS` offending rows with personal or restricted columns masked, and a message
saying what was measured against what. Only failures cost this extra query.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: loading a location needs no ibis
    import ibis

from mesh_platform.contracts.measure import violations
from mesh_platform.contracts.model import CheckOutcome, masked_columns  # noqa: F401
from mesh_platform.contracts.registry import Shape
from mesh_platform.redaction import MASK

SAMPLE_ROWS = 10


def explain(
    outcome: CheckOutcome, table: ibis.Table, masked: set[str], now: dt.datetime, info: dict[str, Any], reason: str
) -> None:
    spec = outcome.spec
    total = outcome.total_rows or 0
    if spec.kind.shape is Shape.SCHEMA:
        outcome.message = f"{spec.description}: " + "; ".join(info["drift"])
        return
    if spec.counts_rows:
        rows = violations(spec, table, now, target=info.get("target"))
        failing = info.get("failing")
        if failing is None:
            failing = int(rows.count().to_pyarrow().as_py())
        outcome.failing_count = failing
        outcome.failing_ratio = failing / total if total else 0.0
        outcome.sample = _sample(rows, masked)
    if spec.rule == "freshness" and outcome.metric == float("inf") and info.get("newest") is not None:
        outcome.message = (
            f"{spec.description}: newest {spec.columns[0]} is {plain(info['newest'])}, which is in the future"
        )
    elif spec.rule == "freshness":
        outcome.message = (
            f"{spec.description}: newest {spec.columns[0]} is {plain(info['newest'])}, "
            f"{outcome.metric:.1f}h old, expected <= {spec.threshold.value:g}h"
        )
    elif spec.threshold is not None and spec.kind.reports_metric:
        outcome.message = (
            f"{spec.description}: measured {outcome.metric:g}"
            f"{'%' if spec.threshold.unit == 'percent' else ''}, "
            f"expected {spec.threshold.describe()}"
        )
    elif outcome.failing_count is not None:
        outcome.message = f"{spec.description}: {outcome.failing_count} of {total} rows fail"
    else:
        outcome.message = reason


def _sample(rows: ibis.Table, masked: set[str]) -> list[dict[str, Any]]:
    frame = rows.limit(SAMPLE_ROWS).to_pyarrow().to_pylist()
    return [{k: (MASK if k in masked and v is not None else plain(v)) for k, v in row.items()} for row in frame]


def plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value
