"""The dbt model behind an output port, as dbt resolved it: read from the domain's manifest.

The platform generates the port model's properties from its ODCS contract (access public,
an enforced contract, the contract's columns and types: contracts/dbt_models.py). What a
domain team can still change is the model's SQL: a ``{{ config(...) }}`` there overrides the
generated properties, so a finding names the SQL file and the line of its config call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_platform.mesh import Mesh

_CONFIG = re.compile(r"\{\{\s*config\s*\(")


@dataclass
class DbtModel:
    name: str
    file: Path  # the model's SQL
    line: int  # its config() call, else its first line
    access: str
    enforced: bool
    columns: list[dict[str, Any]]


def find_model(mesh: Mesh, domain: str, name: str) -> DbtModel | None:
    """The model as the domain's parsed manifest has it; None when there is no such model."""
    manifest, project = mesh.manifest(domain), mesh.dbt_project_name(domain)
    node = next(
        (
            n
            for n in (manifest or {}).get("nodes", {}).values()
            if n.get("resource_type") == "model" and n.get("package_name") == project and n.get("name") == name
        ),
        None,
    )
    if node is None:
        return None
    config = node.get("config") or {}
    code = node.get("raw_code") or ""
    match = _CONFIG.search(code)
    return DbtModel(
        name=name,
        file=mesh.domain(domain).dbt_project_dir / node.get("original_file_path", ""),
        line=code.count("\n", 0, match.start()) + 1 if match else 1,
        access=str(config.get("access") or node.get("access") or "protected"),
        enforced=bool((config.get("contract") or {}).get("enforced")),
        columns=list((node.get("columns") or {}).values()),
    )
