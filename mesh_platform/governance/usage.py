"""Which columns of an input port a consumer's SQL actually reads.

The consumer's dbt models that select from the input-port source are parsed with sqlglot
(jinja `source()` / `ref()` calls replaced by table names), stars expanded against the port's
columns, and every column qualified to its table: the columns resolved to the source are the
ones read. A Python table's reads cannot be seen: reported as unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

_SOURCE = re.compile(r"\{\{\s*source\(\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]\s*\)\s*\}\}")
_REF = re.compile(r"\{\{\s*ref\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")
_JINJA_EXPR = re.compile(r"\{\{.*?\}\}", re.S)
_JINJA_STMT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)


@dataclass(frozen=True)
class ColumnUse:
    model: str
    file: Path
    columns: frozenset[str] | None  # None: could not be determined (then assume every column)


def source_reads(project_dir: Path, source: str, table: str, columns: list[str]) -> list[ColumnUse]:
    """For every model of the dbt project that reads source(source, table): the columns it reads."""
    out = []
    for file in sorted((Path(project_dir) / "models").rglob("*.sql")):
        text = file.read_text(encoding="utf-8")
        if not any(m.groups() == (source, table) for m in _SOURCE.finditer(text)):
            continue
        out.append(ColumnUse(file.stem, file, _read_columns(text, source, table, columns)))
    return out


def _read_columns(text: str, source: str, table: str, columns: list[str]) -> frozenset[str] | None:
    target = f"{source}__{table}"
    sql = _SOURCE.sub(lambda m: f"{m.group(1)}__{m.group(2)}", text)
    sql = _REF.sub(lambda m: m.group(1), sql)
    sql = _JINJA_STMT.sub("", _JINJA_EXPR.sub("NULL", sql))
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        tree = qualify(tree, schema={target: {c: "VARCHAR" for c in columns}}, dialect="duckdb",
                       validate_qualify_columns=False, infer_schema=False)
    except Exception:  # noqa: BLE001 - SQL sqlglot cannot qualify: fall back to word matching
        words = set(re.findall(r"\b\w+\b", sql.lower()))
        return frozenset(c for c in columns if c.lower() in words)
    aliases = {t.alias_or_name for t in tree.find_all(exp.Table) if t.name == target}
    read = {c.name for c in tree.find_all(exp.Column) if c.table in aliases}
    return frozenset(c for c in columns if c in read)
