"""Run compiled checks against a relation, in the database, and explain failures.

Nothing is pulled into pandas but the failing-row sample (at most `SAMPLE_ROWS`),
and columns classified as PII or restricted are masked in it.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandera.ibis as pa

from mesh_platform.contracts import metrics
from mesh_platform.contracts.check_specs import CheckSpec
from mesh_platform.contracts.pandera_schemas import to_pandera

SAMPLE_ROWS = 10
MASK = "***"
MASKED_CLASSIFICATIONS = {"restricted", "confidential", "pii", "sensitive", "secret"}


@dataclass
class CheckOutcome:
    spec: CheckSpec
    passed: bool
    message: str
    failing_count: int | None = None
    failing_ratio: float | None = None
    metric: float | None = None
    total_rows: int | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)


def masked_columns(schema_object) -> set[str]:
    """Columns whose classification or tags mark them as personal or restricted."""
    out = set()
    for prop in schema_object.properties or []:
        tags = {t.lower() for t in prop.tags or []}
        if (prop.classification or "").lower() in MASKED_CLASSIFICATIONS or tags & MASKED_CLASSIFICATIONS:
            out.add(prop.physicalName or prop.name)
    return out


def run_checks(specs: list[CheckSpec], table: ibis.Table, masked: set[str] = frozenset()) -> list[CheckOutcome]:
    total = int(table.count().execute())
    return [run_check(spec, table, masked, total) for spec in specs]


def run_check(spec: CheckSpec, table: ibis.Table, masked: set[str] = frozenset(),
              total: int | None = None) -> CheckOutcome:
    if total is None:
        total = int(table.count().execute())
    schema = to_pandera(spec)
    try:
        schema.validate(table, lazy=True)
        passed, message = True, f"passed: {spec.description}"
    except pa.errors.SchemaErrors as exc:
        passed = False
        message = "; ".join(_reason(err) for err in exc.schema_errors)
    except pa.errors.SchemaError as exc:
        passed, message = False, _reason(exc)
    outcome = CheckOutcome(spec=spec, passed=passed, message=message, total_rows=total)
    missing = [c for c in spec.columns if c not in table.columns]
    if missing:
        outcome.message = f"column(s) {missing} missing from the relation"
        return outcome
    if spec.rule in metrics.METRICS:
        outcome.metric = _number(metrics.metric_expr(spec, table).execute())
        if spec.threshold and outcome.passed != spec.threshold.holds(outcome.metric):
            raise AssertionError(f"pandera and the metric disagree for {spec.key}")  # a platform bug, loudly
    if not passed:
        rows = metrics.violations(spec, table)
        if rows is not None:
            outcome.failing_count = int(rows.count().execute())
            outcome.failing_ratio = outcome.failing_count / total if total else 0.0
            outcome.sample = _sample(rows, masked)
        if spec.threshold:
            outcome.message = (f"{spec.description}: measured {outcome.metric:g}"
                               f"{'%' if spec.threshold.unit == 'percent' else ''}, "
                               f"expected {spec.threshold.describe()}")
    return outcome


def _sample(rows: ibis.Table, masked: set[str]) -> list[dict[str, Any]]:
    frame = rows.limit(SAMPLE_ROWS).to_pyarrow().to_pylist()
    return [{k: (MASK if k in masked and v is not None else _plain(v)) for k, v in row.items()} for row in frame]


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def _number(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _reason(err: Exception) -> str:
    text = str(err).split("\n", 1)[0]
    return text[:300]
