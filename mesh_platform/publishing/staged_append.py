"""Write-audit-publish for a table a domain builds in Python (e.g. a history bought from an API).

1. write: the new rows go to a staging table `<schema>.<table>__staging` in the domain's
   DuckDB file (replaced on every run);
2. audit: the staging rows are checked against the contract of the output port they feed
   (the same check specs as the port, blocking rules only gate);
3. publish: only if the audit passed, one transaction replaces the target's rows that share
   the `replace_on` values of the new rows and appends the new rows.
A failed audit raises AuditFailed and leaves the target exactly as it was, so the next clean
run publishes; the staging table is dropped either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import duckdb
import ibis

from mesh_platform.contracts.model import CheckOutcome, CheckSpec
from mesh_platform.contracts.runner import run_checks


class AuditFailed(RuntimeError):
    """The staged rows break the contract: nothing was appended."""

    def __init__(self, message: str, outcomes: list[CheckOutcome]):
        super().__init__(message)
        self.outcomes = outcomes


@dataclass
class Appended:
    rows: int
    outcomes: list[CheckOutcome]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def staged_append(database: Path, rows: Any, *, schema: str, table: str, create_sql: str,
                  replace_on: Sequence[str] = (), extra_columns: dict[str, tuple[str, list]] | None = None,
                  specs: Sequence[CheckSpec] = (), masked: set[str] = frozenset(),
                  label: str | None = None) -> Appended:
    """Stage `rows` (a pyarrow Table), audit them with `specs`, then append in one transaction.

    `create_sql` creates the target if it does not exist; `extra_columns` maps target columns
    not in `rows` to (SQL expression, parameters), e.g. {"run_id": ("?", [run_id])}.
    """
    label = label or f"{schema}.{table}"
    staging = f"{_quote(schema)}.{_quote(table + '__staging')}"
    target = f"{_quote(schema)}.{_quote(table)}"
    con = duckdb.connect(str(database))
    try:
        con.execute(f"create schema if not exists {_quote(schema)}")
        con.register("mesh_new_rows", rows)
        con.execute(f"create or replace table {staging} as select * from mesh_new_rows")
        con.unregister("mesh_new_rows")
        outcomes = run_checks(list(specs), ibis.duckdb.from_connection(con).table(
            table + "__staging", database=schema), masked) if specs else []
        blocked = [o for o in outcomes if o.blocks]
        if blocked:
            con.execute(f"drop table if exists {staging}")
            raise AuditFailed(
                f"{label}: the new rows break the contract, nothing was appended: "
                + "; ".join(f"{o.spec.key}: {o.message}" for o in blocked), outcomes)
        columns = [f.name for f in rows.schema]
        extra = extra_columns or {}
        params = [p for _, ps in extra.values() for p in ps]
        select = ", ".join([*map(_quote, columns), *(expr for expr, _ in extra.values())])
        con.execute("begin transaction")
        try:
            con.execute(create_sql)
            if replace_on:
                keys = ", ".join(map(_quote, replace_on))
                con.execute(f"delete from {target} where ({keys}) in (select distinct {keys} from {staging})")
            con.execute(f"insert into {target} ({', '.join(map(_quote, [*columns, *extra]))}) "
                        f"select {select} from {staging}", params)
            con.execute(f"drop table {staging}")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        return Appended(rows=rows.num_rows, outcomes=outcomes)
    finally:
        con.close()
