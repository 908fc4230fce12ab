"""The dbt model behind an output port, read from the dbt project's files with line numbers.

Reads the model's properties (`models/**/*.yml`), its `{{ config(...) }}` block and the
`models:` config of dbt_project.yml, resolving `access` and `contract.enforced` the way dbt
does (model properties and the SQL config block override the project's folder config). No
`dbt parse` needed, and every finding can name the line to edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.yaml_source import YamlDocument, load_yaml

_CONFIG_ACCESS = re.compile(r"config\s*\([^)]*access\s*=\s*['\"](\w+)['\"]", re.S)
_CONFIG_CONTRACT = re.compile(
    r"config\s*\([^)]*contract\s*=\s*\{[^}]*['\"]enforced['\"]\s*:\s*(True|False|true|false)", re.S
)


@dataclass
class DbtModel:
    name: str
    sql_file: Path | None
    doc: YamlDocument | None  # the properties file that describes the model
    path: tuple  # the model's entry in doc
    access: str
    access_at: tuple[Path | None, int | None]
    enforced: bool
    enforced_at: tuple[Path | None, int | None]
    columns: list[dict[str, Any]]

    def column_line(self, i: int, key: str | None = None) -> int | None:
        if self.doc is None:
            return None
        return self.doc.line_of((*self.path, "columns", i, *((key,) if key else ())))

    @property
    def file(self) -> Path | None:
        return self.doc.file if self.doc else self.sql_file

    @property
    def line(self) -> int | None:
        return self.doc.line_of(self.path) if self.doc else (1 if self.sql_file else None)


def find_model(project_dir: Path, name: str) -> DbtModel | None:
    project_dir = Path(project_dir)
    sql = next(iter(sorted((project_dir / "models").rglob(f"{name}.sql"))), None)
    doc, path = _properties(project_dir, name)
    if sql is None and doc is None:
        return None
    entry = doc.data["models"][path[1]] if doc else {}
    config = entry.get("config") or {}
    project_cfg = _project_config(project_dir, sql)
    sql_text = sql.read_text(encoding="utf-8") if sql else ""

    access, access_at = project_cfg.get("access", ("protected", (None, None)))
    if m := _CONFIG_ACCESS.search(sql_text):
        access, access_at = m.group(1), (sql, sql_text[: m.start()].count("\n") + 1)
    for where, value in ((("access",), entry.get("access")), (("config", "access"), config.get("access"))):
        if value is not None:
            access, access_at = str(value), (doc.file, doc.line_of((*path, *where)))

    enforced, enforced_at = project_cfg.get("contract", (False, (None, None)))
    if m := _CONFIG_CONTRACT.search(sql_text):
        enforced, enforced_at = m.group(1).lower() == "true", (sql, sql_text[: m.start()].count("\n") + 1)
    contract = config.get("contract")
    if isinstance(contract, dict) and "enforced" in contract:
        enforced, enforced_at = (
            bool(contract["enforced"]),
            (doc.file, doc.line_of((*path, "config", "contract", "enforced"))),
        )
    default_at = (doc.file, doc.line_of(path)) if doc else (sql, 1)
    return DbtModel(
        name=name,
        sql_file=sql,
        doc=doc,
        path=path,
        access=access,
        access_at=access_at if access_at[0] else default_at,
        enforced=enforced,
        enforced_at=enforced_at if enforced_at[0] else default_at,
        columns=list(entry.get("columns") or []),
    )


def _properties(project_dir: Path, name: str) -> tuple[YamlDocument | None, tuple]:
    for file in sorted((project_dir / "models").rglob("*.y*ml")):
        try:
            doc = load_yaml(file)
        except SpecError:
            continue
        for i, model in enumerate(doc.data.get("models") or []):
            if isinstance(model, dict) and model.get("name") == name:
                return doc, ("models", i)
    return None, ()


def _project_config(project_dir: Path, sql: Path | None) -> dict[str, tuple[Any, tuple]]:
    """`+access` / `+contract` from dbt_project.yml's models: tree, deepest folder wins."""
    out: dict[str, tuple[Any, tuple]] = {}
    try:
        doc = load_yaml(project_dir / "dbt_project.yml")
    except SpecError:
        return out
    project = doc.data.get("name")
    node = (doc.data.get("models") or {}).get(project)
    path: tuple = ("models", project)
    folders = list(sql.relative_to(project_dir / "models").parent.parts) if sql else []
    while isinstance(node, dict):
        for key in ("access", "contract"):
            for spelled in (f"+{key}", key):
                value = node.get(spelled)
                if value is None or (key == "access" and isinstance(value, dict)):
                    continue  # absent, or a sub-folder that happens to be called `access`
                if key == "contract":
                    if not isinstance(value, dict) or "enforced" not in value:
                        continue
                    value = bool(value["enforced"])
                out[key] = (value, (doc.file, doc.line_of((*path, spelled))))
                break
        if not folders:
            break
        folder = folders.pop(0)
        path = (*path, folder)
        node = node.get(folder)
    return out
