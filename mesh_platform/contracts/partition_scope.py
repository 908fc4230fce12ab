"""Contract checks for a run that rebuilt some partitions of a port, not all of history.

Rows outside the run's partitions passed the contract when they were published and have
not changed, so each rule is evaluated on as little as keeps it exact for the whole port:

* row rules (required, pattern, minimum, enum, invalid/missing values, sql rules,
  relationships: "no offending row") -- on the run's partitions only. A sql rule's
  `${table}` is the run's partitions. Percentage thresholds are judged on those partitions.
* row count, freshness -- on the whole table: a count and a max are cheap (DuckDB answers
  count(*) from row-group metadata; max reads one column).
* keys (primary key, unique, duplicateValues) -- duplicates inside the run's partitions
  (hashing only those rows), plus an exact cross-partition test: the rows of *other*
  partitions whose key is one of the new keys (a semi-join whose hash table is built on the
  new keys only, so memory follows the run's size, not history's). Old rows were unique
  among themselves when published, so both counts zero means the whole port is unique --
  the same answer as COUNT(DISTINCT) over all history, without it.
* schema and types -- from the relation's schema, no scan.
"""

from __future__ import annotations

import datetime as dt

import ibis

from mesh_platform.contracts.explain import MASK, SAMPLE_ROWS, plain
from mesh_platform.contracts.model import CheckOutcome, CheckSpec, Status
from mesh_platform.contracts.registry import Shape
from mesh_platform.contracts.runner import run_checks

# measured on the whole table: from its schema (no scan), a count, a max
WHOLE_TABLE_RULES = {"row_count", "freshness", "schema", "type"}

Window = tuple[dt.date, dt.date]


def in_window(table: ibis.Table, column: str, window: Window) -> ibis.expr.types.BooleanColumn:
    col = table[column]
    return (col >= ibis.date(window[0].isoformat())) & (col < ibis.date(window[1].isoformat()))


def run_partition_checks(
    specs: list[CheckSpec],
    table: ibis.Table,
    column: str,
    window: Window | None,
    masked: set[str] = frozenset(),
    **kwargs,
) -> list[CheckOutcome]:
    """Outcomes in the order of `specs`, exact for the whole port (see the module docstring)."""
    if window is None:
        return run_checks(specs, table, masked, **kwargs)
    scoped = table.filter(in_window(table, column, window))
    whole = [s for s in specs if s.rule in WHOLE_TABLE_RULES]
    rows = [s for s in specs if s.rule not in WHOLE_TABLE_RULES]
    by_key = {o.spec.key: o for o in run_checks(whole, table, masked, **kwargs)} if whole else {}
    if rows:
        by_key.update({o.spec.key: o for o in run_checks(rows, scoped, masked, **kwargs)})
        rest = table.filter(~in_window(table, column, window))
        for spec in rows:
            if spec.kind.shape is Shape.KEY and spec.columns and all(c in table.columns for c in spec.columns):
                _cross_partition_keys(by_key[spec.key], scoped, rest, window, masked)
    return [by_key[s.key] for s in specs]


def _cross_partition_keys(
    outcome: CheckOutcome, scoped: ibis.Table, rest: ibis.Table, window: Window, masked: set[str]
) -> None:
    """Add the rows of other partitions whose key one of this run's rows also has.

    Each such row is one more duplicate of the whole port (old rows were unique among
    themselves), so the whole port's measured value is the run's plus these rows: in rows,
    or for a percentage threshold as a share of the run's rows plus these."""
    spec = outcome.spec
    columns = list(spec.columns)
    new_keys = scoped.select(*columns).filter(*[scoped[c].notnull() for c in columns]).distinct()
    clashes = rest.semi_join(new_keys, columns)
    count = int(clashes.count().to_pyarrow().as_py())
    if not count:
        return
    total = outcome.total_rows or 0
    percent = spec.threshold is not None and spec.threshold.unit == "percent"
    if outcome.metric is not None:  # duplicateValues reports what its threshold judges
        within = outcome.metric * total / 100.0 if percent else outcome.metric
    else:
        within = outcome.failing_count or 0
    measured_rows = within + count
    measured = measured_rows * 100.0 / (total + count) if percent else float(measured_rows)
    if outcome.metric is not None:
        outcome.metric = measured
    if spec.threshold is not None and bool(spec.threshold.apply(measured)):
        return
    outcome.status = Status.of(False, spec.blocking)
    outcome.failing_count = (outcome.failing_count or 0) + count
    outcome.failing_ratio = outcome.failing_count / (total + count)
    outcome.message = (
        f"{spec.description}: {count} rows of partitions outside "
        f"{window[0]}..{window[1] - dt.timedelta(days=1)} have a key ({', '.join(columns)}) "
        "that this run's partitions also have"
    )
    outcome.sample = [
        {k: MASK if k in masked and v is not None else plain(v) for k, v in row.items()}
        for row in clashes.select(*columns).limit(SAMPLE_ROWS).to_pyarrow().to_pylist()
    ]
