"""Which columns of an output port a consumer's dbt models read, and which output column
each derives from them.

The models that select from the port (``{{ mesh_input() }}`` -- the generated dbt ``source()``
-- for another domain's port, a ``ref()`` to another product's port model in the same domain) are parsed with sqlglot
(jinja calls replaced by table names or NULL), stars expanded against the port's columns and
every column qualified to its table: the columns resolved to the port are the ones read (in
any clause), and sqlglot's lineage of each output column names the port columns it comes
from. The breaking-change gate, Dagster's column lineage and the catalog's "read by" all
read this one analysis. A Python table's reads cannot be seen: the Mesh reports them unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage as column_lineage
from sqlglot.optimizer.pushdown_projections import pushdown_projections
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from mesh_platform.mesh.address import PortAddress

_SOURCE = re.compile(r"\{\{\s*source\(\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]\s*\)\s*\}\}")
_MESH_INPUT = re.compile(r"\{\{\s*mesh_input\(\s*['\"]([^'\"]+)['\"]\s*\)\s*\}\}")
_REF = re.compile(r"\{\{\s*ref\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")
_JINJA_EXPR = re.compile(r"\{\{.*?\}\}", re.S)
_JINJA_STMT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)

Relation = tuple[str, ...]  # ("source", source, table) or ("ref", model)


@dataclass(frozen=True)
class ColumnUse:
    model: str
    file: Path
    columns: frozenset[str] | None  # None: could not be determined (then assume every column)
    # output column -> the port's columns it derives from; None when sqlglot could not parse
    lineage: dict[str, frozenset[str]] | None = field(default=None, hash=False, compare=False)


def table_name(relation: Relation) -> str:
    """The name a relation gets in the SQL handed to sqlglot."""
    return "__".join(relation[1:]) if relation[0] == "source" else relation[1]


def _as_sources(text: str) -> str:
    """`{{ mesh_input('<address>') }}` as the source() it resolves to (the platform's generated one)."""

    def source(match: re.Match) -> str:
        address = PortAddress.try_parse(match.group(1))
        return f"{{{{ source('{address.dbt_source[0]}', '{address.dbt_source[1]}') }}}}" if address else match.group(0)

    return _MESH_INPUT.sub(source, text)


def reads_relation(text: str, relation: Relation) -> bool:
    text = _as_sources(text)
    if relation[0] == "source":
        return any(m.groups() == relation[1:] for m in _SOURCE.finditer(text))
    return any(m.group(1) == relation[1] for m in _REF.finditer(text))


def relation_line(file: Path, relation: Relation) -> int | None:
    """The line of the model's first source()/ref() call reading the relation."""
    for i, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if reads_relation(line, relation):
            return i
    return None


def relation_reads(project_dir: Path, relation: Relation, columns: list[str]) -> list[ColumnUse]:
    """For every model of the dbt project that reads the relation: the columns it reads."""
    out = []
    for file in sorted((Path(project_dir) / "models").rglob("*.sql")):
        text = file.read_text(encoding="utf-8")
        if reads_relation(text, relation):
            out.append(model_reads(file, text, relation, columns))
    return out


def source_reads(project_dir: Path, source: str, table: str, columns: list[str]) -> list[ColumnUse]:
    return relation_reads(project_dir, ("source", source, table), columns)


def model_reads(file: Path, text: str, relation: Relation, columns: list[str]) -> ColumnUse:
    target = table_name(relation)
    sql = _SOURCE.sub(lambda m: f"{m.group(1)}__{m.group(2)}", _as_sources(text))
    sql = _REF.sub(lambda m: m.group(1), sql)
    sql = _JINJA_STMT.sub("", _JINJA_EXPR.sub("NULL", sql))
    schema = {target: {c: "VARCHAR" for c in columns}}
    try:
        tree = qualify(
            sqlglot.parse_one(sql, read="duckdb"),
            schema=schema,
            dialect="duckdb",
            validate_qualify_columns=False,
            quote_identifiers=False,
        )
    except Exception:  # noqa: BLE001 - SQL sqlglot cannot qualify: fall back to word matching, no lineage
        words = set(re.findall(r"\b\w+\b", sql.lower()))
        return ColumnUse(file.stem, file, frozenset(c for c in columns if c.lower() in words))
    lineage = _lineage(tree.copy(), target, set(columns))
    try:  # a `select *` in a CTE reads only the columns used downstream of it (needs every star resolved)
        pruned = pushdown_projections(tree.copy())
    except Exception:  # noqa: BLE001 - keep every column the star selects
        pruned = tree
    aliases = {t.alias_or_name for t in pruned.find_all(exp.Table) if t.name == target}
    read = {c.name for c in pruned.find_all(exp.Column) if c.table in aliases}
    return ColumnUse(file.stem, file, frozenset(c for c in columns if c in read), lineage)


def _lineage(tree: exp.Expression, target: str, columns: set[str]) -> dict[str, frozenset[str]] | None:
    try:
        scope = build_scope(tree)
        out = {}
        for name in tree.named_selects:
            node = column_lineage(name, tree, None, dialect="duckdb", scope=scope)
            found = set()
            for leaf in node.walk():
                if leaf.downstream or not isinstance(leaf.expression, exp.Table) or leaf.expression.name != target:
                    continue
                column = sqlglot.parse_one(leaf.name, read="duckdb")
                if isinstance(column, exp.Column) and column.name in columns:
                    found.add(column.name)
            if found:
                out[name] = frozenset(found)
        return out
    except Exception:  # noqa: BLE001 - a query sqlglot cannot trace: no lineage rather than a wrong one
        return None
