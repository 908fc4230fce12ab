"""Where a domain's dbt models read other domains' output ports: `{{ mesh_input('<address>') }}`.

A consumer declares an input port in its descriptor (``inputPorts[].source``) and reads it in
SQL through the platform's macro ``mesh_input`` (mesh_platform/dbt_macros/mesh_input.sql). The
platform generates the dbt source behind it (publishing/input_sources.py writes the two files
named here), so the manifest records the model's dependency on the producer's port like any
source(). The calls are read from the manifest (each model's ``raw_code``) so that every read,
declared or not, has the file and line a problem must name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_platform.mesh.address import PortAddress

# Written by the platform before every dbt parse; never edited, never checked in.
GENERATED_SOURCES = "models/_mesh_inputs.yml"  # one dbt source per declared input port
GENERATED_MACROS = "macros/_mesh_inputs.sql"  # mesh_declared_inputs(): address -> (source, table)

_CALL = re.compile(r"""\bmesh_input\(\s*(['"])(?P<address>[^'"]*)\1\s*\)""")


@dataclass(frozen=True)
class InputCall:
    """One `mesh_input('<written>')` in a model's SQL."""

    model: str
    file: Path
    line: int
    written: str


def input_calls(manifest: Mapping[str, Any] | None, project: str | None, project_dir: Path) -> list[InputCall]:
    """Every mesh_input() call of the project's own models, in file and line order."""
    calls = []
    for node in (manifest or {}).get("nodes", {}).values():
        if node.get("resource_type") != "model" or node.get("package_name") != project:
            continue
        code = node.get("raw_code") or ""
        file = Path(project_dir) / node.get("original_file_path", "")
        for match in _CALL.finditer(code):
            line = code.count("\n", 0, match.start()) + 1
            calls.append(InputCall(node["name"], file, line, match.group("address")))
    return sorted(calls, key=lambda c: (str(c.file), c.line))


def call_reads(calls: list[InputCall]) -> Iterator[tuple[str, str, Path, int, str]]:
    """(address, reader, file, line, field) per port read, at its first call; the field names
    every model that reads it, the reader is the generated source (`source <source>.<table>`)."""
    by_port: dict[str, list[InputCall]] = {}
    for call in calls:
        by_port.setdefault(call.written, []).append(call)
    for written, found in by_port.items():
        address = PortAddress.try_parse(written)
        reader = f"source {'.'.join(address.dbt_source)}" if address else f"mesh_input {written}"
        models = ", ".join(dict.fromkeys(c.model for c in found))
        yield written, reader, found[0].file, found[0].line, f"{models}: mesh_input('{written}')"


def is_generated(node: Mapping[str, Any]) -> bool:
    """A dbt source the platform generated for an input port (not the domain team's)."""
    return Path(node.get("original_file_path") or "").as_posix() == GENERATED_SOURCES
