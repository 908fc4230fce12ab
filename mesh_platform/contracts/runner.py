"""Run compiled checks against a relation, in the database: measure, judge, explain.

How a table is checked, and why this way
----------------------------------------
1. **Measure, in one query** (`measure.py`). Every rule that can be measured by an aggregate (row
   predicates such as required/minimum/pattern/retention as `SUM(bad_row)`, keys as
   `COUNT(DISTINCT hash(key))` on DuckDB (`key_counts.py`: it spills; an exact count follows
   only if a hash repeats), library metrics, the newest timestamp for freshness) becomes
   one named aggregate of a single `SELECT ... FROM table`: the table is scanned once,
   however many rules the contract has, and aggregates two rules share are computed
   once. Rules that need another relation run as one query each: a `type: sql` rule
   (its own SELECT, on the stream of the rows it reads) and a relationship (an anti-join
   against the target port).
   Schema drift and types are read from the relation's schema, without a scan.
2. **Judge with pandera** (`judge.py`), each threshold once. The measured values form a small relation, one row per
   check (key, measured value, comparator, bounds); one pandera `DataFrameSchema`
   whose check is "the measured value meets its threshold" validates it lazily
   through pandera's ibis backend, and pandera's failure cases are the failed checks.
3. **Explain only failures** (`explain.py`). Only a failed rule costs more: its exact failing row
   count when the aggregate did not give it (duplicate keys: a GROUP BY of the key), and a
   sample of at most `SAMPLE_ROWS` offending rows with PII/restricted columns masked.

Measured with bench/contract_checks.py (docs/benchmarks.md): validating one pandera schema
per rule directly on the table re-scans it per rule (3.4x one hand-written query at 10M
rows); the plan above runs 100M rows under DuckDB's 256 MB cap (`duckdb_config`) in 1.01x
the hand-written query, which itself needs 4 GB there. Nothing is pulled into pandas or
Python but the measured row and failing-row samples.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from mesh_platform.contracts import measure, sql_sandbox
from mesh_platform.contracts.explain import explain
from mesh_platform.contracts.judge import judge
from mesh_platform.contracts.model import CheckOutcome, CheckSpec
from mesh_platform.contracts.registry import Shape, utc_now


def run_check(spec: CheckSpec, table: ibis.Table, masked: set[str] = frozenset(), **kwargs: Any) -> CheckOutcome:
    """One spec on its own (same path as `run_checks`)."""
    return run_checks([spec], table, masked, **kwargs)[0]


def run_checks(
    specs: list[CheckSpec],
    table: ibis.Table,
    masked: set[str] = frozenset(),
    *,
    resolve: measure.Resolver | None = None,
    now: dt.datetime | None = None,
) -> list[CheckOutcome]:
    """Every spec against `table`, in the order given. `resolve` finds relationship targets
    (default: another port's published `current.parquet`, or a table of this contract)."""
    now = now or utc_now()
    resolve = resolve or measure.default_resolver
    dialect = measure.dialect_of(table)
    measured: dict[str, float] = {}
    early: dict[str, CheckOutcome] = {}  # outcomes decided without judging (cannot be evaluated)
    found: dict[str, dict[str, Any]] = {}  # what measuring learnt that explains a failure

    def cannot(spec: CheckSpec, message: str, **figures: Any) -> None:
        early[spec.key] = CheckOutcome.judged(spec, False, message, **figures)

    schema = table.schema()
    for spec in specs:
        if spec.kind.shape is Shape.SCHEMA:
            drift = measure.schema_drift(spec, schema, dialect)
            measured[spec.key] = float(len(drift))
            found[spec.key] = {"drift": drift}
        elif missing := [c for c in spec.columns if c not in schema]:
            cannot(spec, f"column(s) {missing} missing from the relation")

    # 1. one aggregate query for everything it can measure
    aggregated = [s for s in specs if s.key not in early and s.kind.shape in (Shape.ROW, Shape.KEY, Shape.TABLE)]
    values, unevaluable = measure.measure_aggregate(aggregated, table, dialect, now)
    total = int(values.get("n") or 0)
    for spec in aggregated:
        if spec.key in unevaluable:
            cannot(spec, f"cannot evaluate on this relation: {unevaluable[spec.key]}", total_rows=total)
            continue
        value, failing = measure.metric(spec, values, now)
        measured[spec.key] = value
        found[spec.key] = {"failing": failing}
        if spec.rule == "freshness":
            found[spec.key]["newest"] = values[f"max:{spec.columns[0]}"]

    # 2. rules that read another relation: one query each
    for spec in specs:
        if spec.key in early:
            continue
        if spec.kind.shape is Shape.QUERY:
            try:
                measured[spec.key] = measure.run_sql_rule(spec, table, dialect)
            except Exception as exc:  # noqa: BLE001 - reported as the check's failure, values removed
                cannot(spec, f"sql rule failed to run: {sql_sandbox.safe_error(exc)}", total_rows=total)
        elif spec.kind.shape is Shape.RELATION:
            target = resolve(spec, table)
            if target is None:
                cannot(
                    spec,
                    f"relationship target {spec.params['target']!r} is not available (not published yet?)",
                    total_rows=total,
                )
                continue
            rows = measure.violations(spec, table, target=target)
            failing = int(rows.count().to_pyarrow().as_py())
            measured[spec.key] = float(failing)
            found[spec.key] = {"failing": failing, "target": target}

    # 3. pandera judges every measured value against its threshold, once
    failed = judge([s for s in specs if s.key in measured], measured)

    outcomes = []
    for spec in specs:
        if spec.key in early:
            outcomes.append(early[spec.key])
            continue
        value = measured[spec.key]
        passed = spec.key not in failed
        outcome = CheckOutcome.judged(
            spec,
            passed,
            f"passed: {spec.description}",
            total_rows=total,
            metric=value if spec.kind.reports_metric else None,
            newest=found.get(spec.key, {}).get("newest"),
        )
        if not passed:
            explain(outcome, table, masked, now, found.get(spec.key, {}), failed[spec.key])
        outcomes.append(outcome)
    return outcomes
