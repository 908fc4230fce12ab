"""Governance policies as asset checks of each output port, evaluated by every run of the port.

Each policy in force is an asset check `policy__<name>` on every output port. The checks are
declared in the check specs of the port's own dbt multi-asset (domain_assets), next to the
contract checks, so whatever runs the port records them: `mesh materialize`, a schedule, a
sensor, "Materialize all" in the UI (partitioned ports too: a partition range is one run), and
"Execute" on the checks alone. A separate check definition was not part of those runs and stayed
"Not Evaluated" while the catalog said "pass".

Policies are static lint over the mesh's specs (no data is read): they are evaluated once when
the code location loads (the run's own process loads it again, so a run records what its code
says), and a run records one verdict per check, not one per partition.

Blocking: an error-severity violation without a governance exception fails its check with
severity ERROR and keeps the port from being published, like a blocking contract check (the
previous snapshot stays live, the run fails). A warning-severity violation fails with severity
WARN and never blocks; a violation covered by an exception passes (its metadata names the
exception). The port's metadata also carries the lint summary (`policies: 13/14`).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from mesh_platform import settings
from mesh_platform.dagster_wiring.preview_apis import map_asset_specs
from mesh_platform.governance.config import governance_file, load_governance
from mesh_platform.governance.engine import evaluate
from mesh_platform.governance.model import LintReport, PortStatus, Violation
from mesh_platform.governance.registry import registry
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.mesh.domain import Domain

CHECK_PREFIX = "policy__"


def governance_report(mesh: Mesh, domain: Domain) -> LintReport | None:
    """The domain's policy results; None when the repository has no governance/policies.yaml."""
    if not governance_file().exists():
        return None
    # The location already ran the one validation (check_domain); only the policies remain.
    return evaluate(mesh, load_governance(), [domain.name], validate=False)


def check_name(policy: str) -> str:
    return CHECK_PREFIX + policy.replace("-", "_")


def blocked_ports(report: LintReport | None) -> dict[str, list[str]]:
    """Port address -> messages of the error-severity violations that keep it from publishing."""
    if report is None:
        return {}
    return {
        address: [f"{v.policy}: {v.message} ({_where(v)})" for v in status.blocking()]
        for address, status in report.ports.items()
        if status.blocking()
    }


def verdict(violations: list[Violation]) -> str:
    """pass | waived | warn | fail: what the catalog shows for one policy on one port."""
    open_ = [v for v in violations if v.exempted_by is None]
    if any(v.severity == "error" for v in open_):
        return "fail"
    if open_:
        return "warn"
    return "waived" if violations else "pass"


@dataclass(frozen=True)
class PortPolicies:
    """The policies in force on one port: their check specs and, in a run, their results."""

    address: str
    key: dg.AssetKey
    status: PortStatus
    severities: dict[str, str]

    def _found(self, policy: str) -> list[Violation]:
        return [v for v in self.status.violations if v.policy == policy]

    def check_specs(self) -> list[dg.AssetCheckSpec]:
        return [
            dg.AssetCheckSpec(
                name=check_name(policy),
                asset=self.key,
                description=f"Policy: {_text(policy)}.",  # no verdict here
                # an error-severity policy gates publishing whenever it fails (see the module docstring)
                blocking=self.severities.get(policy, "error") == "error",
                metadata={"source": "governance", "policy": policy, "severity": self.severities.get(policy, "error")},
            )
            for policy in self.status.in_force
        ]

    def check_results(self, selected: set[dg.AssetCheckKey] | frozenset) -> list[dg.AssetCheckResult]:
        """One result per selected policy check of this port."""
        out = []
        for policy in self.status.in_force:
            if dg.AssetCheckKey(self.key, check_name(policy)) not in selected:
                continue
            found = self._found(policy)
            state = verdict(found)
            out.append(
                dg.AssetCheckResult(
                    asset_key=self.key,
                    check_name=check_name(policy),
                    passed=state in ("pass", "waived"),
                    severity=dg.AssetCheckSeverity.ERROR if state == "fail" else dg.AssetCheckSeverity.WARN,
                    description=_describe(policy, found)[:1000],
                    metadata={
                        "source": "governance",
                        "policy": policy,
                        "status": state,
                        "severity": self.severities.get(policy, "error"),
                        "violations": dg.MetadataValue.json([_as_dict(v) for v in found]),
                    },
                )
            )
        return out


def port_policies(report: LintReport | None, address: str) -> PortPolicies | None:
    if report is None or address not in report.ports:
        return None
    return PortPolicies(address, PortAddress.parse(address).asset_key, report.ports[address], report.severities)


def with_policy_summary(defs: dg.Definitions, report: LintReport | None) -> dg.Definitions:
    """The lint summary in each output port's metadata (the checks record the verdicts)."""
    if report is None or not report.ports:
        return defs
    statuses = {PortAddress.parse(a).asset_key: s for a, s in report.ports.items()}

    def annotate(spec: dg.AssetSpec) -> dg.AssetSpec:
        status = statuses.get(spec.key)
        if status is None:
            return spec
        return spec.merge_attributes(
            metadata={
                "policies": status.summary(),
                "policies/failing": ", ".join(status.failing()) or "none",
            }
        )

    return map_asset_specs(defs, annotate)


def _as_dict(v: Violation) -> dict:
    """A violation for the event log, with its file repo-relative (no machine paths recorded)."""
    out = v.as_dict()
    if v.problem.file is not None:
        out["file"] = settings.repo_relative(v.problem.file)
    return out


def _where(v: Violation) -> str:
    """file:line, the file repo-relative."""
    if v.problem.file is None:
        return ""
    return settings.repo_relative(v.problem.file) + (f":{v.problem.line}" if v.problem.line else "")


def _text(policy: str) -> str:
    return registry()[policy].description if policy in registry() else policy


def _describe(policy: str, found: list[Violation]) -> str:
    text = _text(policy)
    if not found:
        return f"Policy: {text}. Passes."
    lines = [f"Policy: {text}."]
    for v in found:
        prefix = "EXEMPT " if v.exempted_by else f"{v.severity.upper()} "
        lines.append(f"{prefix}{_where(v)}: {v.message}")
    return "\n".join(lines)
