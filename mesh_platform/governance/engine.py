"""Run the policies in force over the mesh; apply exceptions; summarise per output port."""

from __future__ import annotations

from datetime import date

from mesh_platform.governance.config import Governance
from mesh_platform.governance.model import Finding, LintReport, PortStatus, Violation
from mesh_platform.governance.view import MeshView

LOAD_POLICY = "valid-specs"


def evaluate(view: MeshView, governance: Governance, today: date | None = None) -> LintReport:
    today = today or date.today()
    exceptions = governance.active_exceptions(today)
    violations: list[Violation] = []

    def add(policy: str, severity: str, finding: Finding) -> None:
        exempt = next((e for e in exceptions if e.covers(policy, finding)), None)
        violations.append(Violation(policy, severity, finding, exempt))

    for domain_name, problems in view.load_problems.items():
        # A domain that does not load is reported whole: its problems carry file:line.
        for problem in problems:
            owner = next((p for p in governance.policies if p.policy.claims(problem)), None)
            finding = Finding(f"{problem.field}: {problem.message}" if problem.field else problem.message,
                              problem.file, problem.line, domain_name, _product_of(problem.file))
            add(owner.policy.name if owner else LOAD_POLICY, "error", finding)

    for domain in view.domains:
        for product in domain.products:
            for entry in governance.policies:
                for finding in entry.policy.check_product(view, product):
                    add(entry.policy.name, entry.severity, finding)
                for port in product.ports:
                    for finding in entry.policy.check_port(view, port):
                        add(entry.policy.name, entry.severity, finding)

    ports: dict[str, PortStatus] = {}
    for domain in view.domains:
        for port in domain.ports():
            status = PortStatus(port.address, governance.names())
            status.violations = [v for v in violations
                                 if (v.finding.domain, v.finding.product) == (domain.name, port.product.name)
                                 and v.finding.port in (None, port.name)]
            ports[port.address] = status
    order = {"error": 0, "warning": 1}
    violations.sort(key=lambda v: (v.exempted_by is not None, order.get(v.severity, 2), v.subject, v.policy))
    return LintReport(in_force=governance.names(), violations=violations, ports=ports,
                      expired_exceptions=governance.expired_exceptions(today))


def _product_of(file) -> str | None:
    parts = list(getattr(file, "parts", ()))
    if "products" in parts and parts.index("products") + 1 < len(parts):
        return parts[parts.index("products") + 1]
    return None
