"""The one validation: what `mesh validate` reports and what a code location refuses to load.

Whatever a code location would refuse, `mesh validate` reports first, as
``file:line: field: message``, and the reverse. Per domain, in this order:

- its YAML loads (descriptor, contracts; specs/ via the Mesh);
- every contract compiles to checks (contracts/compiler.py);
- the mesh's own checks: dbt manifest, Python tables, input ports (mesh/validation.py);
- lifecycle and agreements on today's date: no other domain reads a draft or retired port,
  every input port holds a usage agreement in force, deprecations keep the notice period
  (lifecycle/rules.py).

It composes checkers of several layers, so it sits above them: mesh/ imports none of them.
"""

from __future__ import annotations

from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.lifecycle.rules import domain_problems as lifecycle_problems
from mesh_platform.mesh.domain import Domain
from mesh_platform.mesh.model import Mesh
from mesh_platform.mesh.validation import mesh_problems
from mesh_platform.specs.errors import Problem, SpecError


def validate(mesh: Mesh, domains: list[str] | None = None) -> list[Problem]:
    """Every problem of these domains (default: all), in a stable order."""
    problems: list[Problem] = []
    for name in domains or mesh.names:
        problems += validate_domain(mesh, name)
    return problems


def check_domain(mesh: Mesh, name: str) -> None:
    """Raise SpecError with every problem of one domain (what a code location does at load)."""
    problems = validate_domain(mesh, name)
    if problems:
        raise SpecError(problems)


def validate_domain(mesh: Mesh, name: str) -> list[Problem]:
    if name not in mesh.folders:
        raise LookupError(f"no domain {name!r} under {mesh.root} (domains: {', '.join(mesh.names)})")
    if mesh.problems_of(name):
        return list(mesh.problems_of(name))
    problems = _contracts(mesh.domain(name))
    found, complete = mesh_problems(mesh, name)
    problems += found
    if complete:
        problems += lifecycle_problems(mesh, name)
    return problems


def _contracts(domain: Domain) -> list[Problem]:
    problems = []
    for port in domain.ports():
        try:
            compile_contract(port.contract, port.model)
        except SpecError as exc:
            problems += exc.problems
    return problems
