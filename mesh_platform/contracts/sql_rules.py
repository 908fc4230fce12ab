"""`type: sql` quality rules: one read-only SELECT returning one number.

A rule's query may name the checked relation as `${table}` (or `${object}`) and, on a
property, its column as `${column}` (or `${property}`). It is parsed with sqlglot and
refused unless it is exactly one query (SELECT / WITH ... SELECT / UNION ...) with no
write, DDL, SELECT INTO or engine command anywhere inside it. Contracts are read as
the DuckDB dialect (dev); for BigQuery the query is transpiled with sqlglot.
Defence in depth: the audit also opens the domain's DuckDB file read-only.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

READ_DIALECT = "duckdb"
_PLACEHOLDER = re.compile(r"\$\{\s*(table|object|column|property)\s*\}")

# statement and clause kinds that change state or escape the query engine
_FORBIDDEN = tuple(getattr(exp, name) for name in (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command", "Copy", "Into",
    "Set", "Pragma", "Use", "Transaction", "Commit", "Rollback", "TruncateTable", "LoadData",
    "Attach", "Detach", "Install", "Export", "Grant", "Revoke", "Analyze",
) if hasattr(exp, name))


class ReadOnlyError(ValueError):
    pass


def render(query: str, relation: str, column: str | None) -> str:
    """The query with its placeholders replaced by SQL text (`relation` is trusted SQL)."""
    def sub(match: re.Match) -> str:
        if match.group(1) in ("table", "object"):
            return relation
        if column is None:
            raise ReadOnlyError("${column} is only available in a rule written on a property")
        return '"' + column.replace('"', '""') + '"'

    return _PLACEHOLDER.sub(sub, query)


def validate_read_only(query: str, table: str, column: str | None, dialect: str = READ_DIALECT) -> exp.Expression:
    """The parsed query, or ReadOnlyError saying what is wrong with it."""
    if not query or not query.strip():
        raise ReadOnlyError("a sql rule needs a `query`: one SELECT returning one number")
    text = render(query, '"' + table.replace('"', '""') + '"', column)
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise ReadOnlyError(f"not valid SQL: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise ReadOnlyError(f"expected exactly one SELECT statement, got {len(statements)} statements")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise ReadOnlyError(f"only read-only queries are allowed: expected a SELECT, got "
                            f"{_kind(statement)}")
    bad = statement.find(*_FORBIDDEN)
    if bad is not None:
        raise ReadOnlyError(f"only read-only queries are allowed: found {_kind(bad)} inside the SELECT")
    return statement


def to_dialect(query: str, dialect: str) -> str:
    """The (rendered) rule query in another SQL dialect, e.g. BigQuery."""
    if dialect == READ_DIALECT:
        return query
    return sqlglot.transpile(query, read=READ_DIALECT, write=dialect)[0]


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return f"{str(node.this).upper()} command"
    return type(node).__name__.upper()
