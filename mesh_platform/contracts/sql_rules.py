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

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from mesh_platform.contracts.sql_refusals import _FORBIDDEN, READ_DIALECT, Checked, ReadOnlyError, _kind, _no_values
from mesh_platform.contracts.sql_scopes import _Resolver

_PLACEHOLDER = re.compile(r"\$\{\s*(table|object|column|property)\s*\}")


def render(query: str, relation: str, column: str | None) -> str:
    """The query with its placeholders replaced by SQL text (`relation` is trusted SQL)."""

    def sub(match: re.Match) -> str:
        if match.group(1) in ("table", "object"):
            return relation
        if column is None:
            raise ReadOnlyError("${column} is only available in a rule written on a property")
        return '"' + column.replace('"', '""') + '"'

    return _PLACEHOLDER.sub(sub, query)


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
