"""What governance reports: a violation is a Problem (with its rule, subject, file:line and the
severity in force) under the policy that reports it, and the exception that exempts it, if any."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mesh_platform.specs.errors import Problem, Subject


@dataclass(frozen=True)
class Violation:
    policy: str
    problem: Problem  # its subject is set; its severity is the one in force for the policy
    exempted_by: Exception_ | None = None

    @property
    def severity(self) -> str:
        return self.problem.severity

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and self.exempted_by is None

    @property
    def scope(self) -> Subject:
        return self.problem.subject or Subject("")

    @property
    def subject(self) -> str:
        return ".".join(p for p in self.scope if p)

    @property
    def where(self) -> str:
        return self.problem.where

    @property
    def message(self) -> str:
        """The message as reports show it: a validation problem keeps the field it names."""
        problem = self.problem
        return f"{problem.field}: {problem.message}" if problem.field else problem.message

    def as_dict(self) -> dict:
        return {
            "policy": self.policy,
            "rule": self.problem.rule,
            "severity": self.severity,
            "domain": self.scope.domain,
            "product": self.scope.product,
            "port": self.scope.port,
            "subject": self.subject,
            "file": str(self.problem.file) if self.problem.file else None,
            "line": self.problem.line,
            "message": self.message,
            "blocking": self.blocking,
            "exempted_by": self.exempted_by.describe() if self.exempted_by else None,
        }


@dataclass(frozen=True)
class Exception_:
    """A governance-approved exemption from one policy for a domain, product or port, until it expires."""

    policy: str
    domain: str
    product: str | None
    port: str | None
    reason: str
    expires: date  # noqa: F821 - datetime.date
    file: Path
    line: int | None

    def covers(self, policy: str, subject: Subject) -> bool:
        return (
            self.policy in (policy, "*")
            and self.domain == subject.domain
            and self.product in (None, subject.product)
            and self.port in (None, subject.port)
        )

    def describe(self) -> str:
        scope = ".".join(p for p in (self.domain, self.product, self.port) if p)
        return f"{self.policy} for {scope} until {self.expires.isoformat()}: {self.reason} ({self.file}:{self.line})"


@dataclass
class PortStatus:
    """Policy results for one output port: what the catalog shows as 'policies: 9/10'."""

    address: str
    in_force: list[str]
    violations: list[Violation] = field(default_factory=list)

    def failing(self) -> list[str]:
        """Policies with an unexempted violation on this port (or its product/domain)."""
        return sorted({v.policy for v in self.violations if v.exempted_by is None})

    def passed(self) -> int:
        return len(self.in_force) - len(self.failing())

    def summary(self) -> str:
        return f"{self.passed()}/{len(self.in_force)}"

    def blocking(self) -> list[Violation]:
        return [v for v in self.violations if v.blocking]


@dataclass
class LintReport:
    in_force: list[str]
    violations: list[Violation]
    ports: dict[str, PortStatus]
    expired_exceptions: list[Exception_] = field(default_factory=list)
    severities: dict[str, str] = field(default_factory=dict)  # policy in force -> error | warning

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.blocking]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "warning" and v.exempted_by is None]

    @property
    def exempted(self) -> list[Violation]:
        return [v for v in self.violations if v.exempted_by is not None]
