"""Problems that point a team at the exact file, line and field to fix.

:class:`Problem` is the one result type of every checker: spec and mesh validation, lifecycle
and agreement rules, governance policies and the breaking-change gate. ``rule`` is a stable id
(``<area>.<name>``, e.g. ``spec.schema``) that policies and exemptions select problems by;
nothing matches a problem by its message text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None
    field: str
    message: str
    rule: str = "spec.invalid"  # stable id: <area>.<name>
    severity: str = "error"  # error | warning

    def __post_init__(self) -> None:
        # A message quotes the offending value; a 100 kB value must not become a 100 kB error.
        for name, limit in (("field", 200), ("message", 600)):
            text = getattr(self, name)
            if len(text) > limit:
                object.__setattr__(self, name, text[: limit - 3] + "...")

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class SpecError(ValueError):
    """One or more problems in a domain's YAML; str() lists each with file:line: field: message."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: Path, line: int | None, field: str, message: str) -> SpecError:
        return cls([Problem(Path(file), line, field, message)])
