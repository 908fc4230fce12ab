"""Run a contract's `type: sql` rule on DuckDB where it can reach nothing but the checked rows.

Validation (`sql_rules.py`) already refuses other relations, table functions, qualified names,
settings and file access; this is the second wall, for whatever validation misses:
- a fresh in-memory DuckDB connection, one thread, a memory cap, and a spill directory of its
  own (a new temporary directory, removed with the sandbox);
- the checked relation is `mesh_checked`: the rows of only the columns the rule reads, as an
  Arrow stream from the connection the audit already holds (a domain's file opened read-only,
  a staging table on a connection open for writing, or a query expression such as a partition
  window). A rule that names it once reads the stream as it comes (a view over it); one that
  names it more than once, which a stream cannot serve, gets a temporary table copied from it;
- then `python_enable_replacements = false` (no Python variable read as a table),
  `enable_external_access = false` (no files, network, extension installs or attaches) and
  `lock_configuration = true` (the rule cannot undo any of it);
- a time limit: the query is interrupted after `MESH_SQL_RULE_TIMEOUT` seconds (default 60).
So `allowed_paths` is empty and `allowed_directories` is the sandbox's own spill directory.

Measured here (DuckDB 2.0, a 55 MB domain file with a WAL left by a writer) before choosing
this: attaching the domain file READ_ONLY needs no `allowed_paths` entry at all (the scan,
WAL replay included, worked without one), so the old `allowed_paths = [file, file.wal]` was
never needed. But DuckDB itself adds every attached database's file (and its `.wal`,
`.wal.recovery`, `.wal.checkpoint`) to `allowed_paths`, and the temp directory to
`allowed_directories`, when external access is switched off, and refuses to change them
afterwards: `read_blob('<domain file>')` returned the whole file with no `allowed_paths` set.
Disabling the local file system (`disabled_filesystems`) instead breaks the attached scan.
So the sandbox no longer attaches the file: it streams (or copies) the columns the rule reads.
Cost of the copy, measured on 10M rows x 3 columns: 1.1 s instead of 0.3 s attached, 390 MB
peak RSS; at 100M rows 9.1 s and 806 MB (the copy spills). Streamed: 0.25 s at 10M, 2.2 s and
527 MB at 100M (bench/contract_checks.py's port, the line_amount rule). The stream is read by
the rule's query, so its time limit covers reading the rows too.
Errors are reported by kind, without the values they quote (`safe_error`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable

import duckdb
import ibis
import sqlglot

from mesh_platform.redaction import redact

VIEW = "mesh_checked"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY = "256MB"
_BATCH_ROWS = 122_880  # DuckDB's row-group size


class SqlRuleError(RuntimeError):
    """A sql rule could not run; the message is safe to log (no quoted values)."""


def timeout_s() -> float:
    return float(os.environ.get("MESH_SQL_RULE_TIMEOUT", DEFAULT_TIMEOUT_S))


class Sandbox:
    """A locked-down connection in which `mesh_checked` holds `table`'s `columns` (all of
    them when None): a temporary table, or with `stream` a view that one scan can read once.
    Closing it removes its spill directory."""

    def __init__(self, table: ibis.Table, columns: Iterable[str] | None = None, *, stream: bool = False):
        self.spill = tempfile.mkdtemp(prefix="mesh_sql_rule_")
        self.rows, self.stream = None, stream
        try:
            self.con = duckdb.connect(
                ":memory:",
                config={
                    "threads": 1,
                    "memory_limit": os.environ.get("MESH_SQL_RULE_MEMORY_LIMIT", DEFAULT_MEMORY),
                    "temp_directory": self.spill,
                },
            )
        except Exception:
            shutil.rmtree(self.spill, ignore_errors=True)
            raise
        try:
            self.rows = _rows(table, columns)
            if stream:
                self.con.register(VIEW, self.rows)  # a temporary view over the stream
            else:
                self.con.register("mesh_rows", self.rows)
                self.con.execute(f"CREATE TEMP TABLE {VIEW} AS SELECT * FROM mesh_rows")
                self.con.unregister("mesh_rows")
            self.con.execute("SET python_enable_replacements = false")  # no Python variable as a table
            self.con.execute("SET enable_external_access = false")
            self.con.execute("SET lock_configuration = true")
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        self.con.close()
        if hasattr(self.rows, "close"):  # a stream not read to its end holds a query open
            self.rows.close()
        shutil.rmtree(self.spill, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_rule(
    table: ibis.Table, query: str, timeout: float | None = None, columns: Iterable[str] | None = None
) -> list[tuple]:
    """At most two rows of `query` (which names the relation `mesh_checked`), run in the
    sandbox holding `columns` of `table` (all of them when None): on the stream of its rows
    when the query names the relation once, else (or if DuckDB still scans it twice) on a copy."""
    limit = timeout_s() if timeout is None else timeout
    if reads_once(query):
        try:
            with Sandbox(table, columns, stream=True) as sandbox:
                return _run(sandbox, query, limit)
        except _ReadTwice:
            pass
    with Sandbox(table, columns) as sandbox:
        return _run(sandbox, query, limit)


class _ReadTwice(Exception):
    """The query scanned the stream of rows a second time: it needs the copy."""


def reads_once(query: str) -> bool:
    """Whether `query` names `mesh_checked` once, so one pass over a stream serves it (a CTE
    over it named twice is fine: DuckDB materialises such a CTE)."""
    try:
        tree = sqlglot.parse_one(query, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return False
    return sum(1 for t in tree.find_all(sqlglot.exp.Table) if t.name.lower() == VIEW) == 1


def _run(sandbox: Sandbox, query: str, limit: float) -> list[tuple]:
    timer = threading.Timer(limit, sandbox.con.interrupt)
    timer.start()
    try:
        return sandbox.con.execute(query).fetchmany(2)
    except duckdb.InterruptException:
        raise SqlRuleError(f"sql rule took longer than {limit:g} s (MESH_SQL_RULE_TIMEOUT) and was stopped") from None
    except duckdb.InvalidInputException as exc:
        if sandbox.stream and "already been consumed" in str(exc):
            raise _ReadTwice from None
        raise SqlRuleError(safe_error(exc)) from None
    except duckdb.Error as exc:
        raise SqlRuleError(safe_error(exc)) from None
    finally:
        timer.cancel()


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def safe_error(exc: BaseException) -> str:
    """The error's kind and first line, with every quoted value removed and secrets masked.

    A rule's error can quote data it read (e.g. a failed cast quotes the string), so values
    never leave: `Conversion Error: Could not convert string '...' to INT32`."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return redact(_QUOTED.sub("'...'", first))[:300]


def _rows(table: ibis.Table, columns: Iterable[str] | None):
    """The rows of `table` restricted to `columns` (matched case-insensitively; a constant
    column when the rule reads none, e.g. `count(*)`), as an Arrow stream or table."""
    if columns is not None:
        wanted = {c.lower() for c in columns}
        names = [n for n in table.columns if n.lower() in wanted]
        table = table.select(*names) if names else table.select(mesh_row=ibis.literal(1))
    backend = table.get_backend()
    to_relation = getattr(backend, "_to_duckdb_relation", None)  # ibis' own path to a DuckDB relation
    if to_relation is not None:
        try:
            return to_relation(table).to_arrow_reader(_BATCH_ROWS)  # streamed: never all in memory
        except (AttributeError, TypeError):
            pass
    return table.to_pyarrow()
