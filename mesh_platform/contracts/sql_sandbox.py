"""Run a contract's `type: sql` rule where it can reach nothing but the checked relation.

Validation (`sql_rules.py`) already refuses table functions, other tables and file or
settings access; this is the second wall, for whatever validation misses:
- a fresh in-memory DuckDB connection, one thread, a memory cap;
- the checked relation is the temporary view `mesh_checked`: for a table in a DuckDB file,
  opened read-only (as the audit opens it), that file is attached READ_ONLY (the only path
  in `allowed_paths`); for anything else (in-memory tables, a staging table on a connection
  open for writing, query expressions), its rows are handed over as Arrow;
- then `enable_external_access = false` (no files, network, extensions installs or
  attaches) and `lock_configuration = true` (the rule cannot undo any of it);
- a time limit: the query is interrupted after `MESH_SQL_RULE_TIMEOUT` seconds (default 60).
Errors are reported by kind, without the values they quote (`safe_error`).
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import duckdb
import ibis
import sqlglot as sg

from mesh_platform.redaction import redact

VIEW = "mesh_checked"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY = "256MB"


class SqlRuleError(RuntimeError):
    """A sql rule could not run; the message is safe to log (no quoted values)."""


def timeout_s() -> float:
    return float(os.environ.get("MESH_SQL_RULE_TIMEOUT", DEFAULT_TIMEOUT_S))


def sandbox_for(table: ibis.Table) -> duckdb.DuckDBPyConnection:
    """A locked-down connection in which `mesh_checked` is `table`."""
    sandbox = duckdb.connect(":memory:", config={
        "threads": 1, "memory_limit": os.environ.get("MESH_SQL_RULE_MEMORY_LIMIT", DEFAULT_MEMORY)})
    try:
        source = _file_table(table)
        if source is not None:
            path, qualified = source
            sandbox.execute("SET allowed_paths = [?, ?]", [path, path + ".wal"])
            sandbox.execute(f"ATTACH {_literal(path)} AS mesh_source (READ_ONLY)")
            sandbox.execute(f"CREATE TEMP VIEW {VIEW} AS SELECT * FROM mesh_source.{qualified}")
        else:
            arrow = table.to_pyarrow()
            sandbox.register("mesh_rows", arrow)
            sandbox.execute(f"CREATE TEMP TABLE {VIEW} AS SELECT * FROM mesh_rows")
            sandbox.unregister("mesh_rows")
        sandbox.execute("SET enable_external_access = false")
        sandbox.execute("SET lock_configuration = true")
        return sandbox
    except Exception:
        sandbox.close()
        raise


def run_rule(table: ibis.Table, query: str, timeout: float | None = None) -> list[tuple]:
    """At most two rows of `query` (which names the relation `mesh_checked`), run in the sandbox."""
    sandbox = sandbox_for(table)
    timer = threading.Timer(timeout_s() if timeout is None else timeout, sandbox.interrupt)
    timer.start()
    try:
        return sandbox.execute(query).fetchmany(2)
    except duckdb.InterruptException:
        raise SqlRuleError(f"sql rule took longer than {timeout or timeout_s():g} s (MESH_SQL_RULE_TIMEOUT) "
                           "and was stopped") from None
    except duckdb.Error as exc:
        raise SqlRuleError(safe_error(exc)) from None
    finally:
        timer.cancel()
        sandbox.close()


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def safe_error(exc: BaseException) -> str:
    """The error's kind and first line, with every quoted value removed and secrets masked.

    A rule's error can quote data it read (e.g. a failed cast quotes the string), so values
    never leave: `Conversion Error: Could not convert string '...' to INT32`."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return redact(_QUOTED.sub("'...'", first))[:300]


def _file_table(table: ibis.Table) -> tuple[str, str] | None:
    """(database file, schema-qualified name) of a table stored in a DuckDB file, else None."""
    op = table.op()
    if not isinstance(op, ibis.expr.operations.DatabaseTable):
        return None
    con: Any = table.get_backend().con
    cursor = con.cursor()  # its own result set: the backend's connection stays free
    try:
        if cursor.execute("SELECT current_setting('access_mode')").fetchall()[0][0] != "read_only":
            return None  # a file open for writing in this process must not be opened twice: copy rows
        catalog = op.namespace.catalog or cursor.execute("SELECT current_database()").fetchall()[0][0]
        rows = cursor.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?", [catalog]).fetchall()
    finally:
        cursor.close()
    if not rows or not rows[0][0]:
        return None
    row = rows[0]
    schema = op.namespace.database or "main"
    return os.path.abspath(row[0]), sg.table(op.name, db=schema, quoted=True).sql("duckdb")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
