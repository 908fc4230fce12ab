"""Problems that point a team at the exact file, line and field to fix.

:class:`Problem` is the one result type of every checker: spec and mesh validation, lifecycle
and agreement rules, governance policies and the breaking-change gate. ``rule`` is a stable id
(``<area>.<name>``, e.g. ``spec.schema``) that policies and exemptions select problems by;
nothing matches a problem by its message text. Every rule id is listed in specs/rules.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from mesh_platform.specs.rules import RULES

SEVERITIES = ("error", "warning")
DEFAULT_RULE = "spec.invalid"


class Subject(NamedTuple):
    """What a problem is about -- a domain, one of its products, or an output port of that
    product -- so that a governance exception can exempt it and a port can count it."""

    domain: str
    product: str | None = None
    port: str | None = None


@dataclass(frozen=True)
class Problem:
    file: Path | None
    line: int | None
    field: str
    message: str
    rule: str = DEFAULT_RULE  # stable id: <area>.<name>, one of specs/rules.py
    severity: str = "error"  # error | warning
    subject: Subject | None = None

    def __post_init__(self) -> None:
        # A rule id is a constant of the code: an unknown one is a typo or a rename that would
        # silently drop the problem out of the policy that selects it.
        if self.rule not in RULES:
            raise ValueError(f"unknown rule id {self.rule!r}: list it in mesh_platform/specs/rules.py")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}: expected one of {SEVERITIES}")
        # A message quotes the offending value; a 100 kB value must not become a 100 kB error.
        for name, limit in (("field", 200), ("message", 600)):
            text = getattr(self, name)
            if len(text) > limit:
                object.__setattr__(self, name, text[: limit - 3] + "...")

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return f"{self.where}:{field} {self.message}"

    @property
    def where(self) -> str:
        """file:line, the file alone when the line is unknown, "" when there is no file."""
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else str(self.file)

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "file": str(self.file) if self.file is not None else None,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


class RuleError(ValueError):
    """A ValueError raised by a model validator that names the rule it breaks; the validation
    turns it into a Problem with that rule (specs/validation.py)."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


class SpecError(ValueError):
    """One or more problems in a domain's YAML; str() lists each with file:line: field: message."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: Path, line: int | None, field: str, message: str, rule: str = DEFAULT_RULE) -> SpecError:
        return cls([Problem(Path(file), line, field, message, rule)])
