"""`type: sql` quality rules: one read-only SELECT returning one number.

A rule's query may name the checked relation as `${table}` (or `${object}`) and, on a
property, its column as `${column}` (or `${property}`). It is parsed with sqlglot and
refused unless it is exactly one query (SELECT / WITH ... SELECT / UNION ...) with no
write, DDL, SELECT INTO or engine command anywhere inside it. Contracts are read as
the DuckDB dialect (dev); for BigQuery the query is transpiled with sqlglot.
The query may read only the checked relation (and its own CTEs): table functions
(`read_text`, `read_csv`, `glob`, `range`, `query`, ...), other tables, bare file names, and
functions that reach files, settings, secrets, extensions or the network are refused.
Defence in depth: rules run in a sandbox connection without file, network or settings
access, with a memory cap and a time limit (`sql_sandbox.py`).
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


# scalar functions (lower-case names or prefixes) that read files, settings, secrets or the network
_FORBIDDEN_FUNCTION_PREFIXES = (
    "read_", "glob", "query", "sniff_", "parquet_", "duckdb_", "pragma_", "current_setting", "getenv",
    "which_secret", "load_", "install_", "iceberg_", "delta_", "http", "postgres_", "sqlite_", "mysql_",
    "json_execute", "system", "checkpoint", "force_checkpoint", "export_", "import_", "enable_", "disable_",
    "set_", "file_", "external_",
)


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
    _check_sources(statement, table)
    return statement


def _check_sources(statement: exp.Expression, table: str) -> None:
    """Only the checked relation and the query's own CTEs; no table functions or file access."""
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for node in statement.find_all(exp.Table):
        source = node.this
        if not isinstance(source, exp.Identifier):
            name = source.sql(READ_DIALECT)[:60] if source is not None else "?"
            raise ReadOnlyError(f"a sql rule may read only ${{table}}: table function or file {name} "
                                "is not allowed")
        qualified = bool(node.args.get("db") or node.args.get("catalog"))
        if source.quoted and ("/" in source.name or "." in source.name):
            raise ReadOnlyError(f"a sql rule may read only ${{table}}: file {source.name!r} is not allowed")
        if qualified or (source.name != table and source.name.lower() not in ctes):
            raise ReadOnlyError(f"a sql rule may read only ${{table}} (and its own WITH queries): "
                                f"{node.sql(READ_DIALECT)} is not allowed")
    for func in statement.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if isinstance(func, (exp.ReadCSV,)) or name.startswith(_FORBIDDEN_FUNCTION_PREFIXES):
            raise ReadOnlyError(f"a sql rule may not call {name}(): it reads files, settings or the network")


def to_dialect(query: str, dialect: str) -> str:
    """The (rendered) rule query in another SQL dialect, e.g. BigQuery."""
    if dialect == READ_DIALECT:
        return query
    return sqlglot.transpile(query, read=READ_DIALECT, write=dialect)[0]


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return f"{str(node.this).upper()} command"
    return type(node).__name__.upper()
