"""Governance in the catalog: each policy in force is an asset check on every output port,
evaluated from the specs when the code location loads (no data needed), and each port's
metadata shows its result (`policies: 13/14`, the failing names).

The check results are recorded whenever the product's job runs (or "Execute" in the UI);
an error-severity violation also stops the port from being published (see domain_assets).
"""

from __future__ import annotations

import dagster as dg

from mesh_platform.dagster_wiring.preview_apis import map_asset_specs
from mesh_platform.governance.model import LintReport, PortStatus
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.specs.loader import Domain

CHECK_PREFIX = "policy__"


def governance_report(mesh: Mesh, domain: Domain) -> LintReport | None:
    """The domain's policy results; None when the repository has no governance/policies.yaml."""
    from mesh_platform.governance.config import governance_file, load_governance
    from mesh_platform.governance.engine import evaluate

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
    return {address: [f"{v.policy}: {v.finding.message} ({v.where})" for v in status.blocking()]
            for address, status in report.ports.items() if status.blocking()}


def with_policies(defs: dg.Definitions, report: LintReport | None) -> dg.Definitions:
    """Add the policy summary to each output port's metadata and one asset check per policy."""
    if report is None or not report.ports:
        return defs
    statuses = {PortAddress.parse(a).asset_key: s for a, s in report.ports.items()}

    def annotate(spec: dg.AssetSpec) -> dg.AssetSpec:
        status = statuses.get(spec.key)
        if status is None:
            return spec
        return spec.merge_attributes(metadata={
            "policies": status.summary(),
            "policies/failing": ", ".join(status.failing()) or "none",
        })

    defs = map_asset_specs(defs, annotate)
    return dg.Definitions.merge(defs, dg.Definitions(asset_checks=[_policy_checks(statuses, report)]))


def _policy_checks(statuses: dict[dg.AssetKey, PortStatus], report: LintReport) -> dg.AssetChecksDefinition:
    severities = {v.policy: v.severity for v in report.violations}
    specs = []
    for key, status in statuses.items():
        for policy in status.in_force:
            found = [v for v in status.violations if v.policy == policy]
            specs.append(dg.AssetCheckSpec(
                name=check_name(policy), asset=key,
                description=_describe(policy, found),
                blocking=any(v.blocking for v in found),
                metadata={"source": "governance", "policy": policy,
                          "status": "fail" if any(v.exempted_by is None for v in found) else "pass"},
            ))

    @dg.multi_asset_check(specs=specs, name=f"governance_policies_{'_'.join(sorted({k.path[0] for k in statuses}))}",
                          can_subset=True)
    def _checks(context):  # an AssetCheckExecutionContext (no annotation: postponed annotations are strings)
        for check_key in context.selected_asset_check_keys:
            status = statuses[check_key.asset_key]
            policy = next(p for p in status.in_force if check_name(p) == check_key.name)
            found = [v for v in status.violations if v.policy == policy]
            open_ = [v for v in found if v.exempted_by is None]
            yield dg.AssetCheckResult(
                asset_key=check_key.asset_key, check_name=check_key.name, passed=not open_,
                severity=dg.AssetCheckSeverity.ERROR if any(v.blocking for v in open_) else dg.AssetCheckSeverity.WARN,
                description=_describe(policy, found)[:1000],
                metadata={"policy": policy, "severity": severities.get(policy, "error"),
                          "violations": dg.MetadataValue.json([v.as_dict() for v in found])},
            )

    return _checks


def _describe(policy: str, found) -> str:
    from mesh_platform.governance.registry import registry

    text = registry()[policy].description if policy in registry() else policy
    if not found:
        return f"Policy: {text}. Passes."
    lines = [f"Policy: {text}."]
    for v in found:
        prefix = "EXEMPT " if v.exempted_by else f"{v.severity.upper()} "
        lines.append(f"{prefix}{v.where}: {v.finding.message}")
    return "\n".join(lines)
