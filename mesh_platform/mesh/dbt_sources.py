"""A dbt source table of a domain's project, with the file and line where it is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_platform.specs.errors import DEFAULT_RULE, Problem, SpecError
from mesh_platform.specs.yaml_source import YamlDocument, load_yaml

INPUT_PORT_META = "mesh_input_port"
PRODUCT_META = "mesh_product"


@dataclass
class DbtSource:
    """A dbt source table of a domain's project, with where it is written."""

    node: dict[str, Any]
    doc: YamlDocument | None
    path: tuple

    @property
    def name(self) -> str:
        return f"{self.node['source_name']}.{self.node['name']}"

    @property
    def meta(self) -> dict[str, Any]:
        return {**(self.node.get("source_meta") or {}), **(self.node.get("meta") or {})}

    @property
    def input_port(self) -> str | None:
        value = self.meta.get(INPUT_PORT_META)
        return str(value) if value else None

    @property
    def file(self) -> Path:
        return self.doc.file if self.doc else Path(self.node.get("original_file_path", "?"))

    @property
    def line(self) -> int | None:
        return self.doc.line_of((*self.path, "name")) if self.doc else None

    def problem(self, message: str, rule: str = DEFAULT_RULE) -> Problem:
        return Problem(self.file, self.line, f"source {self.name}", message, rule)


def locate_source(project_dir: Path, node: dict[str, Any]) -> DbtSource:
    """Find the source table's entry in its YAML file so problems can name the line."""
    file = project_dir / node.get("original_file_path", "")
    try:
        doc = load_yaml(file)
    except SpecError:
        return DbtSource(node, None, ())
    for i, source in enumerate(doc.data.get("sources") or []):
        if source.get("name") != node["source_name"]:
            continue
        for j, table in enumerate(source.get("tables") or []):
            if table.get("name") == node["name"]:
                return DbtSource(node, doc, ("sources", i, "tables", j))
        return DbtSource(node, doc, ("sources", i))
    return DbtSource(node, doc, ())
