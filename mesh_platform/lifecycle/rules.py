"""The lifecycle and agreement rules over the whole mesh, judged on one date.

Every problem names a file and line in the folder of the team that must act: a consumer
reading a draft or retired port, or without an agreement in force, is reported on the
consumer's input port; a retirement that leaves consumers behind on the provider's status;
an approval of nothing in the provider's approvals file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mesh_platform.lifecycle import states as st
from mesh_platform.lifecycle.dates import today as today_
from mesh_platform.mesh import Edge, Mesh, PortAddress, ProductAddress
from mesh_platform.mesh.domain import Port, Product
from mesh_platform.specs import agreements as ag
from mesh_platform.specs.errors import Problem
from mesh_platform.specs.periods import add_period


def agreement_status(mesh: Mesh, agreement: ag.Agreement, today: date) -> str:
    """active, pending, not started, ended or terminated: judged with the provider port's
    access mode and notice period."""
    port = mesh.port(agreement.provider_port)
    open_access = port is not None and st.access_mode(port) == st.OPEN
    return agreement.status(today, open_access, st.notice_period(port) if port else None)


def in_force(mesh: Mesh, address: PortAddress | str, today: date) -> list[ag.Agreement]:
    return [a for a in mesh.agreements_for(address) if agreement_status(mesh, a, today) == ag.ACTIVE]


def affected(mesh: Mesh, address: str, today: date) -> list[str]:
    """Consumers of a port or of a product's ports, in words: for `mesh product ...` to print."""
    port = PortAddress.try_parse(address)
    product = mesh.product(address) if port is None else None
    targets = [port] if port else [p.address for p in product.ports] if product else []
    out = []
    for target in targets:
        for edge in mesh.consumers_of(target, declared=True):
            out.append(
                f"{edge.consumer_address} reads {target} ({edge.consumer.team.name}; "
                f"{', '.join(edge.consumer.team.owners)})"
            )
        for agreement in mesh.agreements_for(target):
            status = agreement_status(mesh, agreement, today)
            out.append(f"agreement {agreement.id} ({status}): {agreement.spec.purpose}")
    return out


def team(mesh: Mesh, domain: str) -> str:
    """A domain's team in words: its name and owners (the domain's name when it does not load)."""
    found = mesh.domain(domain)
    if found is None:
        return domain
    return f"{found.spec.team.name} ({', '.join(found.spec.team.owners)})"


def validate(mesh: Mesh, today: date) -> list[Problem]:
    """Every lifecycle and agreement problem of the mesh on `today`."""
    problems = list(mesh.agreement_problems)
    problems += _declaration_problems(mesh)
    problems += _edge_problems(mesh, today)
    problems += _retirement_problems(mesh, today)
    problems += _agreement_problems(mesh)
    return _unique(problems)


def problems_of_domain(problems: list[Problem], domain_dir: Path) -> list[Problem]:
    """The problems a domain's team must fix: those in files under its folder."""
    root = Path(domain_dir).resolve()
    return [p for p in problems if Path(p.file).resolve().is_relative_to(root)]


def domain_problems(mesh: Mesh, name: str, today: date | None = None) -> list[Problem]:
    """The lifecycle and agreement problems in one domain's files: part of the one validation,
    so `mesh validate` and the domain's code location report the same."""
    return problems_of_domain(validate(mesh, today or today_()), mesh.folders[name])


def _declaration_problems(mesh: Mesh) -> list[Problem]:
    problems = []
    for domain in mesh.domains.values():
        for product in domain.products:
            problems += st.declaration_problems(st.Declared.of(product.doc), _longest_notice(product))
            for port in product.ports:
                problems += st.declaration_problems(st.Declared.of(port.contract.doc), st.notice_period(port))
                lifecycle = st.port_lifecycle(port)
                if lifecycle.replaced_by:
                    problems += _replacement_problems(mesh, port, lifecycle)
    return problems


def _longest_notice(product: Product) -> str | None:
    notices = [st.notice_period(p) for p in product.ports if st.notice_period(p)]
    return max(notices, key=lambda n: add_period(date(2000, 1, 1), n)) if notices else None


def _replacement_problems(mesh: Mesh, port: Port, lifecycle: st.Lifecycle) -> list[Problem]:
    target = mesh.port(lifecycle.replaced_by)
    if lifecycle.replaced_by == port.address:
        return [
            lifecycle.declared.problem(
                "a port cannot be replaced by itself", st.REPLACED_BY, rule="lifecycle.replacement"
            )
        ]
    if target is None:
        return [
            lifecycle.declared.problem(
                f"replacedBy {lifecycle.replaced_by!r} is not an output port of the mesh",
                st.REPLACED_BY,
                rule="lifecycle.replacement",
            )
        ]
    if st.port_lifecycle(target).state not in (st.ACTIVE,):
        return [
            lifecycle.declared.problem(
                f"replacedBy {lifecycle.replaced_by!r} is {st.port_lifecycle(target).state}: point consumers at an "
                "active port",
                st.REPLACED_BY,
                rule="lifecycle.replacement",
            )
        ]
    return []


def _edge_problems(mesh: Mesh, today: date) -> list[Problem]:
    problems = []
    for edge in mesh.input_edges:
        if edge.producer is None or not edge.crosses_domains:
            continue  # reported by the input-port checks: inside a domain, ref() the model
        producer_domain = edge.producer.domain
        port = mesh.port(edge.written)
        if port is None:
            continue  # reported by the input-port checks, naming what exists
        lifecycle = st.port_lifecycle(port)
        declared_at = f"{lifecycle.declared.doc.file}:{lifecycle.declared.doc.line_of(('status',))}"
        if lifecycle.state in st.UNPUBLISHED:
            problems.append(
                edge.problem(
                    f"{edge.written} is a {lifecycle.state} port ({declared_at}): it is not published to the mesh, "
                    f"so no other domain may declare it as an input until {team(mesh, producer_domain)} makes it active",
                    rule="lifecycle.unpublished_read",
                )
            )
            continue
        if lifecycle.state == st.RETIRED:
            hint = f"; read its replacement {lifecycle.replaced_by}" if lifecycle.replaced_by else ""
            problems.append(
                edge.problem(
                    f"{edge.written} is retired ({declared_at}): it is no longer published{hint}",
                    rule="lifecycle.retired_read",
                )
            )
            continue
        problems += _agreement_of_edge(mesh, edge, port, today)
    return problems


def _agreement_of_edge(mesh: Mesh, edge: Edge, port: Port, today: date) -> list[Problem]:
    consumer_team = team(mesh, edge.consumer_domain)
    provider_team = team(mesh, port.product.domain_name)
    found = mesh.agreements_of(edge)
    if not found:
        return [
            edge.problem(
                f"no usage agreement for input port {edge.input_port!r} reading {edge.written}: {consumer_team} must "
                f"request one from {provider_team} (mesh agreement request {edge.consumer_address} {edge.written} "
                f"--input-port {edge.input_port} --purpose '...')",
                rule="agreement.missing",
            )
        ]
    statuses = [(a, agreement_status(mesh, a, today)) for a in found]
    if any(status == ag.ACTIVE for _, status in statuses):
        return []
    agreement, status = statuses[0]
    where = f"{agreement.file}:{agreement.doc.line_of(('id',))}"
    notice = st.notice_period(port)
    if status == ag.PENDING:
        message = (
            f"usage agreement {agreement.id} ({where}) is pending: {provider_team} has not approved it "
            f"in {port.product.dir.parent.parent / 'agreements' / ag.APPROVALS_FILE} "
            f"(port access: {st.access_mode(port)}); consumer {consumer_team}"
        )
    elif status == ag.NOT_STARTED:
        message = (
            f"usage agreement {agreement.id} ({where}) starts on {agreement.spec.start}; until then "
            f"{consumer_team} may not read {edge.written} of {provider_team}"
        )
    elif status == ag.TERMINATED:
        termination, doc, path = agreement.termination()
        message = (
            f"usage agreement {agreement.id} ({where}) was terminated by the {termination.by} on "
            f"{termination.noticeGiven} ({doc.file}:{doc.line_of(path)}) and ended on "
            f"{agreement.ends_on(notice)} after the notice period {notice or 'P0D'}: {consumer_team} may no "
            f"longer read {edge.written} of {provider_team}"
        )
    else:
        message = (
            f"usage agreement {agreement.id} ({where}) ended on {agreement.spec.end}: {consumer_team} "
            f"must renew it with {provider_team} to keep reading {edge.written}"
        )
    return [edge.problem(message, rule=_STATUS_RULES.get(status, "agreement.ended"))]


_STATUS_RULES = {
    ag.PENDING: "agreement.pending",
    ag.NOT_STARTED: "agreement.not_started",
    ag.TERMINATED: "agreement.terminated",
}


def _retirement_problems(mesh: Mesh, today: date) -> list[Problem]:
    problems = []
    for port in mesh.ports:
        lifecycle = st.port_lifecycle(port)
        if lifecycle.state != st.RETIRED:
            continue
        for edge in mesh.consumers_of(port.address, declared=True):
            problems.append(
                lifecycle.declared.problem(
                    f"{port.address} is retired but {edge.describe()} still reads it; "
                    f"{team(mesh, edge.consumer_domain)} must move off it first",
                    rule="lifecycle.retired_with_consumers",
                )
            )
        if lifecycle.sunset_date is None or today < lifecycle.sunset_date:
            for agreement in in_force(mesh, port.address, today):
                problems.append(
                    lifecycle.declared.problem(
                        f"{port.address} is retired before its sunset date ({lifecycle.sunset_date or 'none'}) while "
                        f"usage agreement {agreement.id} ({agreement.file}) is in force: terminate it with notice, "
                        "or wait for the sunset",
                        rule="lifecycle.retired_before_sunset",
                    )
                )
    return problems


def _agreement_problems(mesh: Mesh) -> list[Problem]:
    problems = []
    for agreement in mesh.agreements:
        if any(
            mesh.problems_of(address.domain)
            for address in (
                ProductAddress.parse(agreement.consumer_product),
                PortAddress.parse(agreement.provider_port),
            )
        ):
            continue  # a domain that does not load reports its own problems; the others carry on
        if mesh.product(agreement.consumer_product) is None:
            problems.append(
                agreement.doc.problem(
                    ("consumer", "product"),
                    f"no product {agreement.consumer_product!r} in the mesh",
                    rule="agreement.unknown",
                )
            )
        port = mesh.port(agreement.provider_port)
        if port is None:
            problems.append(
                agreement.doc.problem(
                    ("provider", "port"),
                    f"no output port {agreement.provider_port!r} in the mesh",
                    rule="agreement.unknown",
                )
            )
        elif port.product.domain_name == agreement.domain:
            problems.append(
                agreement.doc.problem(
                    ("provider", "port"),
                    "a domain needs no agreement with itself: ref() the model",
                    rule="agreement.self",
                )
            )
    return problems


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for problem in problems:
        key = (str(problem.file), problem.line, problem.field, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out
