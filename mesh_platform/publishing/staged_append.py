"""Write-audit-publish for a table a domain builds in Python (e.g. a history bought from an API),
on DuckDB (the BigQuery twin is publishing/bigquery_append.py; publishing/target.py picks one).

1. write: the new rows go to a staging table `<schema>.<table>__staging` in the domain's
   DuckDB file (replaced on every run);
2. audit: the staging rows are checked against the contract of the output port they feed
   (the same check specs as the port, blocking rules only gate);
3. publish: only if the audit passed, one transaction replaces the target's rows that share
   the `replace_on` values of the new rows and appends the new rows, each stamped with
   `loaded_at` (UTC) and `run_id`.
A failed audit raises AuditFailed and leaves the target exactly as it was, so the next clean
run publishes; the staging table is dropped either way.

The target is declared by the rows themselves, so the same call works on every target: its
columns and types are the rows' Arrow schema (a non-nullable field is NOT NULL), plus the two
stamps, with `primary_key` as the table's primary key. It is created when missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import ibis

from mesh_platform.contracts.model import CheckOutcome, CheckSpec
from mesh_platform.contracts.runner import run_checks
from mesh_platform.publishing.audit import AuditFailed

# Every appended row says when and by which run it was written (same names on every target).
STAMPS = ("loaded_at", "run_id")


@dataclass
class Appended:
    rows: int
    outcomes: list[CheckOutcome]


def blocked(label: str, outcomes: list[CheckOutcome]) -> AuditFailed | None:
    """The error to raise when blocking checks failed, else None."""
    failed = [o for o in outcomes if o.blocks]
    if not failed:
        return None
    return AuditFailed(
        f"{label}: the new rows break the contract, nothing was appended: "
        + "; ".join(f"{o.spec.key}: {o.message}" for o in failed),
        outcomes,
    )


def required_columns(rows: Any, primary_key: Sequence[str]) -> set[str]:
    """Columns the target declares NOT NULL: non-nullable Arrow fields and the primary key."""
    return {f.name for f in rows.schema if not f.nullable} | set(primary_key)


def check_declaration(rows: Any, primary_key: Sequence[str], replace_on: Sequence[str], label: str) -> None:
    names = set(rows.schema.names)
    for what, columns in (("primary_key", primary_key), ("replace_on", replace_on)):
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(
                f"{label}: {what} names columns the rows do not have: {', '.join(missing)} "
                f"(columns: {', '.join(rows.schema.names)})"
            )
    clash = [s for s in STAMPS if s in names]
    if clash:
        raise ValueError(f"{label}: {', '.join(clash)} is written by the platform; leave it out of the rows")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def staged_append(
    database: Path,
    rows: Any,
    *,
    schema: str,
    table: str,
    run_id: str,
    primary_key: Sequence[str] = (),
    replace_on: Sequence[str] = (),
    specs: Sequence[CheckSpec] = (),
    masked: set[str] = frozenset(),
    label: str | None = None,
) -> Appended:
    """Stage `rows` (a pyarrow Table), audit them with `specs`, then append in one transaction."""
    label = label or f"{schema}.{table}"
    check_declaration(rows, primary_key, replace_on, label)
    staging_name = table + "__staging"
    staging = f"{_quote(schema)}.{_quote(staging_name)}"
    target = f"{_quote(schema)}.{_quote(table)}"
    con = duckdb.connect(str(database))
    try:
        con.execute(f"create schema if not exists {_quote(schema)}")
        con.register("mesh_new_rows", rows)
        con.execute(f"create or replace table {staging} as select * from mesh_new_rows")
        con.unregister("mesh_new_rows")
        outcomes = (
            run_checks(list(specs), ibis.duckdb.from_connection(con).table(staging_name, database=schema), masked)
            if specs
            else []
        )
        error = blocked(label, outcomes)
        if error:
            con.execute(f"drop table if exists {staging}")
            raise error
        columns = list(rows.schema.names)
        loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.execute("begin transaction")
        try:
            con.execute(_create_sql(con, schema, staging_name, target, rows, primary_key))
            if replace_on:
                match = " and ".join(f"s.{_quote(c)} = t.{_quote(c)}" for c in replace_on)
                con.execute(f"delete from {target} t where exists (select 1 from {staging} s where {match})")
            con.execute(
                f"insert into {target} ({', '.join(map(_quote, [*columns, *STAMPS]))}) "
                f"select {', '.join(map(_quote, columns))}, ?, ? from {staging}",
                [loaded_at, run_id],
            )
            con.execute(f"drop table {staging}")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        return Appended(rows=rows.num_rows, outcomes=outcomes)
    finally:
        con.close()


def _create_sql(con, schema: str, staging_name: str, target: str, rows: Any, primary_key: Sequence[str]) -> str:
    """`create table if not exists` with the staging table's DuckDB types and the declared keys."""
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, staging_name],
        ).fetchall()
    )
    required = required_columns(rows, primary_key)
    columns = [f"{_quote(c)} {types[c]}{' not null' if c in required else ''}" for c in rows.schema.names]
    columns += ['"loaded_at" timestamp not null', '"run_id" varchar not null']
    if primary_key:
        columns.append(f"primary key ({', '.join(map(_quote, primary_key))})")
    return f"create table if not exists {target} (\n    " + ",\n    ".join(columns) + "\n)"
