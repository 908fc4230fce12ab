"""What governance reports: a violation names the policy, its severity, the port and file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mesh_platform.mesh.address import scope

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Finding:
    """One thing a policy found wrong, before the engine attaches policy, severity and exceptions."""

    message: str
    file: Path | None
    line: int | None
    domain: str
    product: str | None = None
    port: str | None = None  # the port's name; None for product- or domain-wide findings


@dataclass(frozen=True)
class Violation:
    policy: str
    severity: str
    finding: Finding
    exempted_by: Exception_ | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and self.exempted_by is None

    @property
    def subject(self) -> str:
        return str(scope(self.finding.domain, self.finding.product, self.finding.port))

    @property
    def where(self) -> str:
        if self.finding.file is None:
            return ""
        return f"{self.finding.file}:{self.finding.line}" if self.finding.line else str(self.finding.file)

    def as_dict(self) -> dict:
        return {
            "policy": self.policy,
            "severity": self.severity,
            "domain": self.finding.domain,
            "product": self.finding.product,
            "port": self.finding.port,
            "subject": self.subject,
            "file": str(self.finding.file) if self.finding.file else None,
            "line": self.finding.line,
            "message": self.finding.message,
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

    def covers(self, policy: str, finding: Finding) -> bool:
        return (
            self.policy in (policy, "*")
            and self.domain == finding.domain
            and self.product in (None, finding.product)
            and self.port in (None, finding.port)
        )

    def describe(self) -> str:
        reach = scope(self.domain, self.product, self.port)
        return f"{self.policy} for {reach} until {self.expires.isoformat()}: {self.reason} ({self.file}:{self.line})"


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
