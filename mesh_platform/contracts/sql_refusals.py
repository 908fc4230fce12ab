"""What a `type: sql` rule may not contain (sql_rules.py says why): the statement kinds,
nodes and functions refused, how DuckDB names a function, and the error they raise."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

READ_DIALECT = "duckdb"

# statement and clause kinds that change state or escape the query engine
_FORBIDDEN = tuple(
    getattr(exp, name)
    for name in (
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "Command",
        "Copy",
        "Into",
        "Set",
        "Pragma",
        "Use",
        "Transaction",
        "Commit",
        "Rollback",
        "TruncateTable",
        "LoadData",
        "Attach",
        "Detach",
        "Install",
        "Export",
        "Grant",
        "Revoke",
        "Analyze",
    )
    if hasattr(exp, name)
)

# expressions a rule has no use for: values from outside the query, dynamic columns
_REFUSED_NODES = tuple(
    getattr(exp, name)
    for name in (
        "Parameter",
        "Placeholder",
        "SessionParameter",
        "Pivot",
        "Unpivot",
        "PivotAny",
    )
    if hasattr(exp, name)
)

# functions (lower-case names or prefixes, as DuckDB names them) that read settings, variables,
# the catalog, sequences, files, logs, secrets, extensions or the network, or sleep, or raise
# a message of the rule's choosing. Reviewed against DuckDB's `duckdb_functions()`;
# tests/test_sql_rule_sandbox.py checks every DuckDB macro that reads a relation is here.
_FORBIDDEN_FUNCTIONS = frozenset(
    {
        "current_setting",
        "getvariable",
        "getenv",
        "version",
        "platform",
        "user",
        "user_agent",
        "session_user",
        "extension_versions",
        "database_list",
        "database_size",
        "storage_info",
        "metadata_info",
        "table_info",
        "stats",
        "functions",
        "collations",
        "format_type",
        "in_search_path",
        "nextval",
        "currval",
        "setval",
        "setseed",
        "write_log",
        "parse_duckdb_log_message",
        "json_execute_serialized_sql",
        "json_serialize_plan",
        "add_parquet_key",
        "copy_database",
        "import_database",
        "force_checkpoint",
        "checkpoint",
        "sleep_ms",
        "error",
        "assert_true",
        "which_secret",
        "query",
        "query_table",
        "invoke",
        "col_description",
        "obj_description",
        "shobj_description",
        "get_block_size",
        "txid_current",
    }
)
_FORBIDDEN_FUNCTION_PREFIXES = (
    "read_",
    "glob",
    "sniff_",
    "parquet_",
    "duckdb_",
    "pragma_",
    "pg_",
    "has_",
    "current_",
    "inet_",
    "show",
    "enable_",
    "disable_",
    "load_",
    "install_",
    "iceberg_",
    "delta_",
    "ducklake_",
    "http",
    "postgres_",
    "sqlite_",
    "mysql_",
    "export_",
    "import_",
    "file_",
    "external_",
    "system",
    "arrow_",
)
# the clock is not a setting: `current_date` and friends stay allowed
_CLOCK = frozenset({"current_date", "current_time", "current_timestamp", "current_localtime", "current_localtimestamp"})
# Table arguments a rule may use on the checked relation or a CTE: its name, an alias, a sample
_TABLE_ARGS = frozenset({"this", "alias", "sample", "joins", "laterals"})


class ReadOnlyError(ValueError):
    pass


@dataclass
class Checked:
    """A validated rule: its tree, the nodes that name the checked relation, and the
    (lower-case) columns of that relation it reads."""

    statement: exp.Expression
    relations: list[exp.Table]
    columns: frozenset[str]


def function_names(func: exp.Func) -> list[str]:
    """The lower-case names DuckDB would call `func` by: the one written (as sqlglot
    generates it for DuckDB), then sqlglot's own name for it."""
    if isinstance(func, exp.Anonymous):
        return [func.name.lower()]
    names = []
    head = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\(|$)", func.sql(dialect=READ_DIALECT))
    if head:
        names.append(head.group(1).lower())
    return names + [func.sql_name().lower()]


def forbidden_function(name: str) -> bool:
    name = name.lower()
    if name in _CLOCK:
        return False
    return name in _FORBIDDEN_FUNCTIONS or name.startswith(_FORBIDDEN_FUNCTION_PREFIXES)


def _name(node: exp.Table) -> str:
    return ".".join(p.name for p in node.parts)[:80] or "?"


def _no_values(text: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "'...'", text)[:200]


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return f"{str(node.this).upper()} command"
    return type(node).__name__.upper()
