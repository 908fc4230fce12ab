"""Run the policies in force over the Mesh; apply exceptions; summarise per output port.

Problems of the one validation (`mesh.validate_domain`: what a code location refuses to load)
are reported too, each under the policy that claims its rule id (e.g. an input port reading an
internal model is `consumers-read-output-ports`), else under `valid-specs`; they are always errors.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from mesh_platform.governance.config import Governance
from mesh_platform.governance.model import LintReport, PortStatus, Violation
from mesh_platform.mesh import Mesh, validate_domain
from mesh_platform.specs.errors import Problem, Subject

LOAD_POLICY = "valid-specs"


def evaluate(
    mesh: Mesh,
    governance: Governance,
    domains: list[str] | None = None,
    today: date | None = None,
    validate: bool = True,
) -> LintReport:
    """Every violation of the policies in force in these domains (default: all)."""
    today = today or date.today()
    names = domains or mesh.names
    exceptions = governance.active_exceptions(today)
    violations: list[Violation] = []

    def add(policy: str, severity: str, problem: Problem) -> None:
        problem = replace(problem, severity=severity)
        exempt = next((e for e in exceptions if e.covers(policy, problem.subject)), None)
        violations.append(Violation(policy, problem, exempt))

    for name in names:
        problems = validate_domain(mesh, name) if validate else mesh.problems_of(name)
        for problem in problems:
            owner = next((p for p in governance.policies if p.policy.owns(problem)), None)
            subject = Subject(name, _product_of(mesh, name, problem.file))
            add(owner.policy.name if owner else LOAD_POLICY, "error", replace(problem, subject=subject))
        domain = mesh.domain(name)
        if domain is None:
            continue
        for product in domain.products:
            for entry in governance.policies:
                policy = entry.policy
                for problem in _run(policy, "check_product", mesh, product):
                    add(policy.name, entry.severity, problem)
                for port in product.ports:
                    for problem in _run(policy, "check_port", mesh, port):
                        add(policy.name, entry.severity, problem)

    ports: dict[str, PortStatus] = {}
    for name in names:
        domain = mesh.domain(name)
        for port in domain.ports() if domain else []:
            status = PortStatus(port.address, governance.names())
            status.violations = [
                v
                for v in violations
                if (v.scope.domain, v.scope.product) == (name, port.product.name) and v.scope.port in (None, port.name)
            ]
            ports[port.address] = status
    order = {"error": 0, "warning": 1}
    violations.sort(key=lambda v: (v.exempted_by is not None, order.get(v.severity, 2), v.subject, v.policy))
    return LintReport(
        in_force=governance.names(),
        violations=violations,
        ports=ports,
        expired_exceptions=governance.expired_exceptions(today),
        severities={p.policy.name: p.severity for p in governance.policies},
    )


def _run(policy, method: str, mesh: Mesh, subject) -> list[Problem]:
    """The problems a policy finds in a product or port, each about that subject unless it names
    its own. A policy that crashes is a problem of that policy, never a traceback that hides the rest."""
    product = subject if method == "check_product" else subject.product
    about = Subject(product.domain_name, product.name, None if method == "check_product" else subject.name)
    try:
        return [p if p.subject else replace(p, subject=about) for p in getattr(policy, method)(mesh, subject)]
    except Exception as exc:  # noqa: BLE001 - report and carry on with the other policies
        message = f"policy {policy.name!r} could not evaluate: {type(exc).__name__}: {exc}"
        return [Problem(product.file, None, "", message, "policy.crashed", subject=about)]


def _product_of(mesh: Mesh, domain_name: str, file) -> str | None:
    domain = mesh.domain(domain_name)
    for product in domain.products if domain else []:
        if file and str(file).startswith(str(product.dir) + "/"):
            return product.name
    parts = list(getattr(file, "parts", ()))
    if "products" in parts and parts.index("products") + 1 < len(parts):
        return parts[parts.index("products") + 1]
    return None
