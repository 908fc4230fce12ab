"""A sql rule's run on BigQuery. (The SQL the other checks run there, compiled without a
connection: contracts/bigquery_sql.py.)

A sql rule runs on BigQuery without the DuckDB sandbox, so besides the validation every
target shares (`sql_rules.py`), it is dry-run first (`QueryJobConfig(dry_run=True)`): it runs
only if BigQuery's `referenced_tables` for the exact SQL are the port's table(s) and nothing
else; an empty list (a query reading no table, or a service that does not report them) is
refused too. Then the same SQL runs with a time limit (`MESH_SQL_RULE_TIMEOUT`).
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
from ibis.expr.operations import DatabaseTable, UnboundTable

from mesh_platform.contracts.sql_sandbox import timeout_s

TableId = tuple[str, str, str]  # (project, dataset, table)


class RuleReachError(RuntimeError):
    """A sql rule's dry run shows it would read something besides the port's table."""


def port_tables(table: ibis.Table, project: str) -> set[TableId]:
    """The BigQuery tables behind `table` (the port's table, or the one a window filters)."""
    found = set()
    for op in table.op().find((DatabaseTable, UnboundTable)):
        ns = op.namespace
        found.add((ns.catalog or project, ns.database or "", op.name))
    return found


def only_port_tables(referenced: Iterable, allowed: set[TableId]) -> None:
    """Nothing, or RuleReachError: `referenced` (a dry-run job's `referenced_tables`) must be
    non-empty and name only `allowed` tables. Names no table it refuses beyond the count."""
    seen = [(t.project, t.dataset_id, t.table_id) for t in referenced]
    if not seen:
        raise RuleReachError(
            "the dry run of the sql rule reports no table read: refused (it must read the port's table, and only that)"
        )
    other = [t for t in seen if t not in allowed]
    if other:
        raise RuleReachError(
            f"the dry run of the sql rule shows it reads {len(other)} table(s) besides the port's: refused"
        )


def run_sql_rule(table: ibis.Table, sql: str, client=None, timeout: float | None = None) -> list[tuple]:
    """At most two rows of the (validated, BigQuery-dialect) rule `sql`, after its dry run
    shows it reads only `table`'s BigQuery table(s)."""
    from google.cloud import bigquery  # lazy: the BigQuery client is only needed on the BigQuery target

    client = client or table.get_backend().client
    dry = client.query(sql, job_config=bigquery.QueryJobConfig(dry_run=True, use_query_cache=False))
    only_port_tables(dry.referenced_tables, port_tables(table, client.project))
    limit = timeout_s() if timeout is None else timeout
    job = client.query(sql, job_config=bigquery.QueryJobConfig(job_timeout_ms=int(limit * 1000)))
    return [tuple(row.values()) for row in job.result(timeout=limit, max_results=2)]
