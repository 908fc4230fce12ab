"""governance/policies.yaml: the policies in force, their severity and parameters, and exceptions.

    policies:
      pii-retention: {severity: error}
      common-references:
        severity: error
        params: {references: [{name: LEI, columns: [lei, "*_lei"], pattern: "^[A-Z0-9]{18}[0-9]{2}$"}]}
    exceptions:
      - {policy: primary-key, domain: d, product: p, port: q, reason: "...", expires: 2027-03-31}

An exception applies until (and including) its expiry date, then stops exempting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mesh_platform import settings
from mesh_platform.governance.model import Exception_
from mesh_platform.governance.registry import Policy, registry
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.validation import validate_model
from mesh_platform.specs.yaml_source import load_yaml


class PolicyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    severity: Literal["error", "warning"] | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ExceptionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str
    domain: str
    product: str | None = None
    port: str | None = None
    reason: str = Field(min_length=10)
    expires: date

    @field_validator("expires", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"expected an ISO date YYYY-MM-DD, got {value!r}") from None
        return value


class GovernanceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policies: dict[str, PolicyEntry | None]
    exceptions: list[ExceptionEntry] = Field(default_factory=list)


@dataclass
class InForce:
    policy: Policy
    severity: str


@dataclass
class Governance:
    file: Path
    policies: list[InForce]
    exceptions: list[Exception_]

    def names(self) -> list[str]:
        return [p.policy.name for p in self.policies]

    def active_exceptions(self, today: date) -> list[Exception_]:
        return [e for e in self.exceptions if e.expires >= today]

    def expired_exceptions(self, today: date) -> list[Exception_]:
        return [e for e in self.exceptions if e.expires < today]


def governance_file() -> Path:
    return settings.repo_root() / "governance" / "policies.yaml"


def load_governance(file: Path | None = None) -> Governance:
    """Read and validate policies.yaml; every mistake names its line."""
    file = Path(file or governance_file())
    doc = load_yaml(file)
    spec = validate_model(doc, GovernanceFile)
    known = registry()
    problems = []
    in_force: list[InForce] = []
    for name, entry in spec.policies.items():
        entry = entry or PolicyEntry()
        cls = known.get(name)
        if cls is None:
            problems.append(
                doc.problem(
                    ("policies", name),
                    f"unknown policy {name!r} (built-in policies: {', '.join(sorted(known))})",
                    rule="governance.unknown_policy",
                )
            )
            continue
        try:
            params = validate_model(doc, cls.Params, data=entry.params, base_path=("policies", name, "params"))
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        in_force.append(InForce(cls(params), entry.severity or cls.default_severity))
    exceptions = []
    for i, entry in enumerate(spec.exceptions):
        if entry.policy != "*" and entry.policy not in spec.policies:
            problems.append(
                doc.problem(
                    ("exceptions", i, "policy"),
                    f"{entry.policy!r} is not a policy in force (policies: {', '.join(spec.policies)})",
                    rule="governance.exception",
                )
            )
        if entry.port and not entry.product:
            problems.append(
                doc.problem(
                    ("exceptions", i, "port"),
                    "an exception for a port also names its product",
                    rule="governance.exception",
                )
            )
        exceptions.append(
            Exception_(
                policy=entry.policy,
                domain=entry.domain,
                product=entry.product,
                port=entry.port,
                reason=entry.reason,
                expires=entry.expires,
                file=file,
                line=doc.line_of(("exceptions", i)),
            )
        )
    if problems:
        raise SpecError(problems)
    return Governance(file=file, policies=in_force, exceptions=exceptions)
