"""`type: sql` quality rules: one read-only SELECT returning one number.

A rule's query names the checked relation as `${table}` (or `${object}`, or the table's own
name) and, on a property, its column as `${column}` (or `${property}`). It is parsed with
sqlglot as the DuckDB dialect (dev) and refused unless it is exactly one query (SELECT /
WITH ... SELECT / UNION ...) with no write, DDL, SELECT INTO or engine command inside it.

Names are resolved per scope (`sqlglot.optimizer.scope`), the way the engine resolves them:
in each scope a relation is either a CTE visible *there* (defined in that scope's WITH or an
enclosing one) or it must be the checked relation. So a CTE named like a catalog view in one
subquery does not make the real view readable in another. Refused, wherever they appear:
any other table or view (catalog, system and information-schema views included, quoted or
not), every table function (`range`, `read_csv`, `glob`, `unnest`, ...) and file name, any
qualified name (`main.t`, `memory.main.t`, `"system".main.f()`), `WITH RECURSIVE`, PIVOT,
query parameters and session variables, functions that read settings, variables, the catalog,
sequences, files, logs or the environment (`current_setting`, `getvariable`, `duckdb_*`,
`pg_*`, `current_schema`, `version`, ...), `error()` (it would put a value in the message),
and any column that is not a property of the contract (or an output of the rule's own
subqueries and CTEs).

`bind` turns a valid rule into the SQL that runs: the same validated tree with each reference
to the checked relation replaced by the relation to read (the sandbox's `mesh_checked` on
DuckDB, the port's table on BigQuery), generated in the target dialect; it also says which
of the relation's columns the rule reads, so only those reach the sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.scope import Scope, build_scope

READ_DIALECT = "duckdb"
_PLACEHOLDER = re.compile(r"\$\{\s*(table|object|column|property)\s*\}")

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


def render(query: str, relation: str, column: str | None) -> str:
    """The query with its placeholders replaced by SQL text (`relation` is trusted SQL)."""

    def sub(match: re.Match) -> str:
        if match.group(1) in ("table", "object"):
            return relation
        if column is None:
            raise ReadOnlyError("${column} is only available in a rule written on a property")
        return '"' + column.replace('"', '""') + '"'

    return _PLACEHOLDER.sub(sub, query)


@dataclass
class Checked:
    """A validated rule: its tree, the nodes that name the checked relation, and the
    (lower-case) columns of that relation it reads."""

    statement: exp.Expression
    relations: list[exp.Table]
    columns: frozenset[str]


def validate_read_only(
    query: str, table: str, column: str | None, dialect: str = READ_DIALECT, *, columns: Iterable[str] = ()
) -> Checked:
    """The validated rule, or ReadOnlyError saying what is wrong with it (never quoting a
    value). `columns` are the contract's properties of `table`: the only columns it may read."""
    if not query or not query.strip():
        raise ReadOnlyError("a sql rule needs a `query`: one SELECT returning one number")
    text = render(query, '"' + table.replace('"', '""') + '"', column)
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise ReadOnlyError(f"not valid SQL: {_no_values(str(exc).splitlines()[0])}") from None
    if len(statements) != 1:
        raise ReadOnlyError(f"expected exactly one SELECT statement, got {len(statements)} statements")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise ReadOnlyError(f"only read-only queries are allowed: expected a SELECT, got {_kind(statement)}")
    bad = statement.find(*_FORBIDDEN)
    if bad is not None:
        raise ReadOnlyError(f"only read-only queries are allowed: found {_kind(bad)} inside the SELECT")
    # DuckDB compares identifiers case-insensitively, quoted or not: so do we
    statement = normalize_identifiers(statement, dialect=dialect)
    return _Resolver(statement, table.lower(), {c.lower() for c in columns}).check()


def bind(
    query: str,
    table: str,
    column: str | None,
    columns: Iterable[str],
    relation: exp.Expression,
    dialect: str,
    *,
    narrow: bool = False,
) -> tuple[str, frozenset[str]]:
    """(the rule as `dialect` SQL reading `relation` where it names the checked table, the
    lower-case columns it reads): validated again here, so what runs is what was checked.
    `relation` is trusted: a table (`mesh_checked`, a port's table) or a query. With `narrow`
    it is read through a projection of only the columns the rule reads (where no sandbox
    holds just those, e.g. BigQuery), so even a `*` sees no column beyond them."""
    columns = list(columns)
    checked = validate_read_only(query, table, column, columns=columns)
    if narrow:
        reads = [c for c in columns if c.lower() in checked.columns]
        projection = [exp.column(c, quoted=True) for c in reads] or [exp.alias_(exp.Literal.number(1), "mesh_row")]
        source = (
            relation.copy()
            if isinstance(relation, exp.Table)
            else exp.Subquery(this=relation.copy(), alias=exp.TableAlias(this=exp.to_identifier("mesh_relation")))
        )
        relation = exp.select(*projection).from_(source)
    for node in checked.relations:
        alias = node.alias or node.name
        if isinstance(relation, exp.Table):
            new = node.copy()
            for part in ("this", "db", "catalog"):
                new.set(part, relation.args.get(part) and relation.args[part].copy())
            if not node.alias and relation.name.lower() != node.name.lower():
                new.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        else:
            if any(node.args.get(a) for a in set(node.args) - {"this", "alias"}):
                raise ReadOnlyError("a sql rule cannot sample ${table} here (it is read through a query)")
            new = exp.Subquery(this=relation.copy(), alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        node.replace(new)
    return checked.statement.sql(dialect=dialect), checked.columns


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


# --- resolution per scope ------------------------------------------------------------------

_ONLY = "a sql rule may read only ${table}, its own WITH queries and the contract's columns"


class _Resolver:
    def __init__(self, statement: exp.Expression, table: str, columns: set[str]):
        self.statement = statement
        self.table = table
        self.columns = columns
        self.relations: list[exp.Table] = []
        self.needed: set[str] = set()

    def check(self) -> Checked:
        statement = self.statement
        for with_ in statement.find_all(exp.With):
            if with_.args.get("recursive"):
                raise ReadOnlyError("WITH RECURSIVE is not allowed in a sql rule")
        bad = statement.find(*_REFUSED_NODES)
        if bad is not None:
            what = {
                "Parameter": "query parameters",
                "Placeholder": "query parameters",
                "SessionParameter": "session variables",
            }.get(type(bad).__name__, type(bad).__name__.upper())
            raise ReadOnlyError(
                f"{what} are not allowed in a sql rule" if what.islower() else f"{what} is not allowed in a sql rule"
            )
        self.check_functions()
        try:
            root = build_scope(statement)
        except sqlglot.errors.SqlglotError as exc:
            raise ReadOnlyError(f"cannot resolve the query's names: {_no_values(str(exc))}") from None
        if root is None:
            raise ReadOnlyError("cannot resolve the query's names")
        scopes = list(root.traverse())
        self.scopes = {id(s.expression): s for s in scopes}
        seen_tables: set[int] = set()
        seen_columns: set[int] = set()
        seen_queries: set[int] = set()
        for scope in scopes:
            seen_queries.add(id(scope.expression))
            self.check_udtf(scope)
            for node in scope.tables:
                seen_tables.add(id(node))
                self.check_table(scope, node)
        for scope in scopes:  # inner scopes first: a column is resolved where it is written
            for col in scope.columns:
                if id(col) in seen_columns:
                    continue  # sqlglot may list it in an enclosing scope too
                seen_columns.add(id(col))
                self.check_column(scope, col)
            self.check_using_and_stars(scope)
        # what scope analysis did not reach is not trusted
        for node in statement.find_all(exp.Table):
            if id(node) not in seen_tables:
                raise ReadOnlyError(f"{_ONLY}: {_name(node)} is in a place whose names cannot be resolved")
        for node in statement.find_all(exp.Column):
            if id(node) not in seen_columns and not isinstance(node.this, exp.Star) and not _select_alias(node):
                raise ReadOnlyError(f"{_ONLY}: column {node.name} is in a place whose names cannot be resolved")
        for node in statement.find_all(exp.Select):
            if id(node) not in seen_queries:
                raise ReadOnlyError(f"{_ONLY}: a subquery is in a place whose names cannot be resolved")
        if any(isinstance(c.this, exp.Star) for c in statement.find_all(exp.Column)):
            self.needed |= self.columns  # `t.*` anywhere: everything it may reach
        return Checked(statement, self.relations, frozenset(self.needed))

    def check_functions(self) -> None:
        for node in self.statement.find_all(exp.Dot):
            if isinstance(node.expression, exp.Func):
                raise ReadOnlyError(
                    f"a sql rule may not call a qualified function ({node.expression.name or 'function'}())"
                )
        for func in self.statement.find_all(exp.Func):
            for name in function_names(func):
                if forbidden_function(name):
                    raise ReadOnlyError(
                        f"a sql rule may not call {name}(): it reads settings, the catalog, "
                        "files or the environment, or raises a message of its own"
                    )

    def check_udtf(self, scope: Scope) -> None:
        if not scope.is_udtf:
            return
        node = scope.expression
        if isinstance(node, exp.Values):
            return
        if isinstance(node, exp.Lateral) and isinstance(node.this, exp.Subquery):
            return  # its subquery is a scope of its own, checked like any other
        name = node.this.sql(READ_DIALECT)[:40] if isinstance(node, exp.Lateral) and node.this else type(node).__name__
        raise ReadOnlyError(f"{_ONLY}: table function {name.upper()} is not allowed")

    def check_table(self, scope: Scope, node: exp.Table) -> None:
        source = node.this
        if not isinstance(source, exp.Identifier):
            name = source.sql(READ_DIALECT)[:60] if source is not None else "?"
            name = name.split("(")[0].upper() if "(" in name else name
            raise ReadOnlyError(f"{_ONLY}: table function or file {name} is not allowed")
        if node.args.get("db") or node.args.get("catalog"):
            raise ReadOnlyError(f"{_ONLY}: qualified name {_name(node)} is not allowed")
        extra = sorted(k for k, v in node.args.items() if v and k not in _TABLE_ARGS)
        if extra:
            raise ReadOnlyError(f"{_ONLY}: {_name(node)} with {extra[0]} is not allowed")
        if node.name in scope.cte_sources:
            return  # a WITH query visible in this scope
        if node.name != self.table:
            if "/" in node.name or "." in node.name or "\\" in node.name:
                raise ReadOnlyError(f"{_ONLY}: a file name is not allowed")  # not quoted: a path
            raise ReadOnlyError(f"{_ONLY}: table {_name(node)} is not allowed")
        alias = node.args.get("alias")
        if alias is not None and alias.columns:
            raise ReadOnlyError("a sql rule may not rename ${table}'s columns in FROM (use AS on each column)")
        self.relations.append(node)

    # -- columns --

    def outputs(self, source: exp.Table | Scope) -> set[str]:
        """The lower-case column names a source of a scope offers."""
        if isinstance(source, exp.Table):
            return self.columns  # `check_table` let through no other table
        expression = source.expression
        renamed = _alias_columns(expression)
        if renamed is not None:
            return renamed
        if isinstance(expression, exp.SetOperation):
            left = expression.left
            child = (
                next((s for s in source.set_operation_scopes if s.expression is left), None)
                if hasattr(source, "set_operation_scopes")
                else None
            )
            if child is None:
                raise ReadOnlyError(f"{_ONLY}: cannot resolve the columns of a set operation")
            return self.outputs(child)
        if isinstance(expression, exp.Lateral) and isinstance(expression.this, exp.Subquery):
            inner = self.scopes.get(id(expression.this.this))
            if inner is None:
                raise ReadOnlyError(f"{_ONLY}: cannot resolve the columns of a LATERAL subquery")
            return self.outputs(inner)
        if isinstance(expression, exp.Values):
            width = len(expression.expressions[0].expressions) if expression.expressions else 0
            return {f"col{i}" for i in range(width)}
        if not isinstance(expression, exp.Select):
            raise ReadOnlyError(f"{_ONLY}: cannot resolve the columns of {type(expression).__name__}")
        names: set[str] = set()
        for projection in expression.expressions:
            if isinstance(projection, exp.Star):
                for _, inner in source.selected_sources.values():
                    names |= self.outputs(inner)
            elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                found = source.selected_sources.get(projection.table)
                if found is None:
                    raise ReadOnlyError(f"{_ONLY}: unknown relation {projection.table}")
                names |= self.outputs(found[1])
            else:
                names.add(projection.alias_or_name)
        return names

    def reads_checked(self, source) -> bool:
        return isinstance(source, exp.Table) and any(source is r for r in self.relations)

    def resolve(self, scope: Scope, name: str, qualifier: str) -> None:
        """Find the column in this scope or an enclosing one (correlated subqueries)."""
        current: Scope | None = scope
        while current is not None:
            sources = current.selected_sources
            if qualifier:
                if qualifier in sources:
                    source = sources[qualifier][1]
                    if name in self.outputs(source):
                        if self.reads_checked(source):
                            self.needed.add(name)
                        return
                    raise ReadOnlyError(self.unknown(name))
            else:
                hit = False
                for _, source in sources.values():
                    if name in self.outputs(source):
                        hit = True
                        if self.reads_checked(source):
                            self.needed.add(name)
                if hit:
                    return
                select = current.expression
                if isinstance(select, exp.Select) and name in {s.lower() for s in select.named_selects}:
                    return  # an alias of this SELECT (WHERE / GROUP BY / HAVING / ORDER BY)
            current = current.parent
        if qualifier:
            raise ReadOnlyError(f"{_ONLY}: unknown relation {qualifier} (a qualified name or another table?)")
        raise ReadOnlyError(self.unknown(name))

    def unknown(self, name: str) -> str:
        return f"{_ONLY}: column {name} is not a property of {self.table}"

    def check_column(self, scope: Scope, col: exp.Column) -> None:
        if isinstance(col.this, exp.Star):
            return
        if col.args.get("db") or col.args.get("catalog"):
            raise ReadOnlyError(f"{_ONLY}: qualified name {col.sql(READ_DIALECT)[:60]} is not allowed")
        self.resolve(scope, col.name, col.table)

    def check_using_and_stars(self, scope: Scope) -> None:
        select = scope.expression
        if not isinstance(select, exp.Select):
            return
        for join in select.args.get("joins") or []:
            for ident in join.args.get("using") or []:
                self.resolve(scope, ident.name, "")
            if (join.args.get("method") or "").upper() == "NATURAL":
                self.needed |= self.columns
        for projection in select.expressions:
            if (
                isinstance(projection, exp.Star)
                or isinstance(projection, exp.Column)
                and isinstance(projection.this, exp.Star)
            ):
                self.outputs(scope)  # resolvable, or refused
                self.needed |= self.columns  # whatever the star reaches, conservatively
        if any("columns" in function_names(f) for f in select.find_all(exp.Func)):
            self.needed |= self.columns  # DuckDB's COLUMNS(...) star expression


def _alias_columns(expression: exp.Expression) -> set[str] | None:
    """Column names given in `WITH c(a, b) AS (...)` or `(...) AS d(a, b)`, if any."""
    parent = expression.parent
    alias = None
    if isinstance(parent, (exp.CTE, exp.Subquery)):
        alias = parent.args.get("alias")
    elif isinstance(expression, (exp.Values, exp.Lateral)):
        alias = expression.args.get("alias")
    if alias is not None and alias.columns:
        return {c.name for c in alias.columns}
    return None


def _select_alias(col: exp.Column) -> bool:
    """An unqualified column naming an output of its own SELECT (HAVING n > 1, ORDER BY n)."""
    select = col.find_ancestor(exp.Select)
    return not col.table and select is not None and col.name in {s.lower() for s in select.named_selects} - {"*"}


def _name(node: exp.Table) -> str:
    return ".".join(p.name for p in node.parts)[:80] or "?"


def _no_values(text: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "'...'", text)[:200]


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return f"{str(node.this).upper()} command"
    return type(node).__name__.upper()
