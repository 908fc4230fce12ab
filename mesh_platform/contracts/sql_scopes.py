"""Names in a `type: sql` rule resolved per scope, the way the engine resolves them (sql_rules.py
says what is refused): each relation a CTE visible there or the checked relation, each column
one of the contract's or an output of the rule's own subqueries."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope

from mesh_platform.contracts.sql_refusals import (
    _REFUSED_NODES,
    _TABLE_ARGS,
    READ_DIALECT,
    Checked,
    ReadOnlyError,
    _name,
    _no_values,
    forbidden_function,
    function_names,
)

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
