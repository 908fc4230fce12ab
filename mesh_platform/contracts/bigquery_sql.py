"""The checks on BigQuery, compiled without a connection: the SQL they run there. (A sql
rule's run on BigQuery, with its dry run: contracts/bigquery.py.)"""

from __future__ import annotations

import datetime as dt

import ibis

from mesh_platform.contracts.explain import SAMPLE_ROWS
from mesh_platform.contracts.measure import build_aggregate, sql_rule_query, violations
from mesh_platform.contracts.model import CheckSpec
from mesh_platform.contracts.registry import Shape, utc_now


def compile_sql(
    specs: list[CheckSpec], table: ibis.Table, dialect: str, now: dt.datetime | None = None
) -> dict[str, str]:
    """The SQL the checks run, for an (unbound) table in `dialect`, without connecting:
    `aggregate` (the one measuring query), `<key>` for each sql rule and relationship,
    and `<key>:sample` for the failing-row query of each rule that has offending rows.
    Relationship targets become unbound tables named `<domain>__<product>__<port>`
    (on BigQuery, a port's table in its producer's dataset)."""
    now = now or utc_now()
    aggregated = [s for s in specs if s.kind.shape in (Shape.ROW, Shape.KEY, Shape.TABLE)]
    relation, _, unevaluable = build_aggregate(aggregated, table, dialect, now)
    if unevaluable:
        raise ValueError(f"cannot compile for {dialect}: {unevaluable}")
    out = {"aggregate": ibis.to_sql(relation, dialect=dialect)}
    for spec in specs:
        target = None
        if spec.kind.shape is Shape.QUERY:
            out[spec.key] = sql_rule_query(spec, table, dialect)
            continue
        if spec.kind.shape is Shape.RELATION:
            to = spec.params["to_columns"]
            target = ibis.table(
                {c: table.schema()[f] for c, f in zip(to, spec.columns)}, name=spec.params["target"].replace(".", "__")
            )
            out[spec.key] = ibis.to_sql(violations(spec, table, target=target).count().as_table(), dialect=dialect)
        rows = violations(spec, table, now, target=target)
        if rows is not None:
            out[f"{spec.key}:sample"] = ibis.to_sql(rows.limit(SAMPLE_ROWS), dialect=dialect)
    return out
