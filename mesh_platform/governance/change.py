"""What a contract diff is made of: a classified change, and the two sides compared (a
contract's schema object, with the lines its fields are written on)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mesh_platform.specs.contract import Contract

BREAKING, NON_BREAKING, INFO = "breaking", "non-breaking", "info"


@dataclass(frozen=True)
class Change:
    kind: str  # breaking | non-breaking | info
    what: str  # a short name: "column removed", "type changed", ...
    message: str
    column: str | None = None
    file: Path | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file and self.line else str(self.file or "")


class _Side:
    def __init__(self, contract: Contract, table: str):
        self.contract = contract
        self.index = contract.schema_index(table)
        obj = contract.schema_object(table)
        self.obj = obj.model_dump(exclude_none=True, by_alias=True) if obj else {}
        self.props = {p.get("physicalName") or p["name"]: (i, p) for i, p in enumerate(self.obj.get("properties", []))}

    def line(self, *path) -> int | None:
        if path and path[0] in ("slaProperties", "description", "price", "customProperties"):
            return self.contract.doc.line_of(tuple(path))
        return self.contract.doc.line_of(("schema", self.index, *path))

    def col_line(self, name: str, *path) -> int | None:
        i, _ = self.props[name]
        return self.line("properties", i, *path)
