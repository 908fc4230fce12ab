"""The lifecycle and agreement rules over the whole mesh, judged on one date.

Every problem names a file and line in the folder of the team that must act: a consumer
reading a draft or retired port, or without an agreement in force, is reported on the
consumer's input port; a retirement that leaves consumers behind on the provider's status;
an approval of nothing in the provider's approvals file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mesh_platform.lifecycle import agreements as ag
from mesh_platform.lifecycle import states as st
from mesh_platform.lifecycle.dates import add_period
from mesh_platform.lifecycle.dates import today as today_
from mesh_platform.mesh import Mesh
from mesh_platform.specs.errors import DEFAULT_RULE, Problem
from mesh_platform.specs.loader import Domain, Port, Product
from mesh_platform.specs.product import lifted_paths


@dataclass(frozen=True)
class Edge:
    """A consumer product's input port reading a provider's output port."""

    consumer: Product
    index: int  # in the consumer's inputPorts

    @property
    def name(self) -> str:
        return self.consumer.spec.inputPorts[self.index].name

    @property
    def address(self) -> str:
        return self.consumer.spec.inputPorts[self.index].source

    @property
    def consumer_address(self) -> str:
        return f"{self.consumer.domain_name}.{self.consumer.name}"

    @property
    def where(self) -> tuple:
        return ("inputPorts", self.index)

    def problem(self, message: str, *sub, rule: str = DEFAULT_RULE) -> Problem:
        return self.consumer.doc.problem(self._written((*self.where, *(sub or ("source",)))), message, rule)

    def _written(self, path: tuple) -> tuple:
        """`source` is lifted from the port's customProperties: point at where it is written."""
        return lifted_paths(self.consumer.doc.data).get(path, path)

    def describe(self) -> str:
        line = self.consumer.doc.line_of(self._written((*self.where, "source")))
        return f"{self.consumer_address} (input port {self.name!r}, {self.consumer.file}:{line})"


@dataclass
class MeshLifecycle:
    """The Mesh plus its agreements: the agreement edges between consumer products and
    provider ports, alongside the read edges the Mesh already holds."""

    mesh: Mesh
    agreements: list[ag.Agreement] = field(default_factory=list)
    load_problems: list[Problem] = field(default_factory=list)  # of the agreement files
    _problems: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, mesh: Mesh) -> MeshLifecycle:
        """The lifecycle view of a Mesh, read once per Mesh."""
        cached = getattr(mesh, "_lifecycle", None)
        if cached is None:
            cached = cls(mesh=mesh)
            approvals: list[ag.Approval] = []
            for name in mesh.names:
                found, approved, problems = ag.load_agreements(mesh.folders[name])
                cached.agreements += found
                approvals += approved
                cached.load_problems += problems
            cached.load_problems += ag.link_approvals(cached.agreements, approvals)
            mesh._lifecycle = cached
        return cached

    @classmethod
    def load(cls, domains_dir: Path | None = None) -> MeshLifecycle:
        return cls.of(Mesh.load(domains_dir))

    @property
    def domains(self) -> dict[str, Domain]:
        return self.mesh.domains

    # --- lookups -------------------------------------------------------------------------
    def ports(self) -> list[Port]:
        return [port for domain in self.domains.values() for port in domain.ports()]

    def port(self, address: str) -> Port | None:
        return next((p for p in self.ports() if p.address == address), None)

    def product(self, address: str) -> Product | None:
        domain, _, name = address.partition(".")
        found = self.domains.get(domain)
        return next((p for p in found.products if p.name == name), None) if found else None

    def edges(self) -> list[Edge]:
        """Every input port of every product that is not retired (a retired product reads nothing)."""
        return [
            Edge(product, i)
            for domain in self.domains.values()
            for product in domain.products
            if st.product_lifecycle(product).state != st.RETIRED
            for i in range(len(product.spec.inputPorts))
        ]

    def consumers_of(self, address: str) -> list[Edge]:
        """Products of other domains that declare this port as an input."""
        return [e for e in self.edges() if e.address == address and e.consumer.domain_name != address.split(".")[0]]

    def agreements_for(self, address: str) -> list[ag.Agreement]:
        return [a for a in self.agreements if a.provider_port == address]

    def agreements_of(self, edge: Edge) -> list[ag.Agreement]:
        return [
            a
            for a in self.agreements
            if a.consumer_product == edge.consumer_address
            and a.input_port == edge.name
            and a.provider_port == edge.address
        ]

    def agreement(self, agreement_id: str) -> ag.Agreement | None:
        return next((a for a in self.agreements if a.id == agreement_id), None)

    def agreement_status(self, agreement: ag.Agreement, today: date) -> str:
        port = self.port(agreement.provider_port)
        open_access = port is not None and st.access_mode(port) == st.OPEN
        return agreement.status(today, open_access, st.notice_period(port) if port else None)

    def in_force(self, address: str, today: date) -> list[ag.Agreement]:
        return [a for a in self.agreements_for(address) if self.agreement_status(a, today) == ag.ACTIVE]

    def affected(self, address: str, today: date) -> list[str]:
        """Consumers of a port or of a product's ports, in words: for `mesh product ...` to print."""
        out = []
        targets = (
            [address]
            if address.count(".") == 2
            else [p.address for p in self.ports() if p.address.startswith(address + ".")]
        )
        for target in targets:
            for edge in self.consumers_of(target):
                out.append(
                    f"{edge.consumer_address} reads {target} ({edge.consumer.team.name}; "
                    f"{', '.join(edge.consumer.team.owners)})"
                )
            for agreement in self.agreements_for(target):
                status = self.agreement_status(agreement, today)
                out.append(f"agreement {agreement.id} ({status}): {agreement.spec.purpose}")
        return out

    def team(self, domain: str) -> str:
        found = self.domains.get(domain)
        if found is None:
            return domain
        return f"{found.spec.team.name} ({', '.join(found.spec.team.owners)})"


def validate(view: MeshLifecycle, today: date) -> list[Problem]:
    """Every lifecycle and agreement problem of the mesh on `today`."""
    problems = list(view.load_problems)
    problems += _declaration_problems(view)
    problems += _edge_problems(view, today)
    problems += _retirement_problems(view, today)
    problems += _agreement_problems(view)
    return _unique(problems)


def problems_of_domain(problems: list[Problem], domain_dir: Path) -> list[Problem]:
    """The problems a domain's team must fix: those in files under its folder."""
    root = Path(domain_dir).resolve()
    return [p for p in problems if Path(p.file).resolve().is_relative_to(root)]


def domain_problems(mesh: Mesh, name: str, today: date | None = None) -> list[Problem]:
    """The lifecycle and agreement problems in one domain's files: part of the Mesh's one
    validation, so `mesh validate` and the domain's code location report the same."""
    view = MeshLifecycle.of(mesh)
    today = today or today_()
    if today not in view._problems:
        view._problems[today] = validate(view, today)
    return problems_of_domain(view._problems[today], mesh.folders[name])


def _declaration_problems(view: MeshLifecycle) -> list[Problem]:
    problems = []
    for domain in view.domains.values():
        for product in domain.products:
            problems += st.declaration_problems(st.Declared.of(product.doc), _longest_notice(product))
            for port in product.ports:
                problems += st.declaration_problems(st.Declared.of(port.contract.doc), st.notice_period(port))
                lifecycle = st.port_lifecycle(port)
                if lifecycle.replaced_by:
                    problems += _replacement_problems(view, port, lifecycle)
    return problems


def _longest_notice(product: Product) -> str | None:
    notices = [st.notice_period(p) for p in product.ports if st.notice_period(p)]
    return max(notices, key=lambda n: add_period(date(2000, 1, 1), n)) if notices else None


def _replacement_problems(view: MeshLifecycle, port: Port, lifecycle: st.Lifecycle) -> list[Problem]:
    target = view.port(lifecycle.replaced_by)
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


def _edge_problems(view: MeshLifecycle, today: date) -> list[Problem]:
    problems = []
    for edge in view.edges():
        producer_domain = edge.address.split(".")[0]
        if producer_domain == edge.consumer.domain_name:
            continue  # reported by the input-port checks: inside a domain, ref() the model
        port = view.port(edge.address)
        if port is None:
            continue  # reported by the input-port checks, naming what exists
        lifecycle = st.port_lifecycle(port)
        declared_at = f"{lifecycle.declared.doc.file}:{lifecycle.declared.doc.line_of(('status',))}"
        if lifecycle.state in st.UNPUBLISHED:
            problems.append(
                edge.problem(
                    f"{edge.address} is a {lifecycle.state} port ({declared_at}): it is not published to the mesh, "
                    f"so no other domain may declare it as an input until {view.team(producer_domain)} makes it active",
                    rule="lifecycle.unpublished_read",
                )
            )
            continue
        if lifecycle.state == st.RETIRED:
            hint = f"; read its replacement {lifecycle.replaced_by}" if lifecycle.replaced_by else ""
            problems.append(
                edge.problem(
                    f"{edge.address} is retired ({declared_at}): it is no longer published{hint}",
                    rule="lifecycle.retired_read",
                )
            )
            continue
        problems += _agreement_of_edge(view, edge, port, today)
    return problems


def _agreement_of_edge(view: MeshLifecycle, edge: Edge, port: Port, today: date) -> list[Problem]:
    consumer_team = view.team(edge.consumer.domain_name)
    provider_team = view.team(port.product.domain_name)
    found = view.agreements_of(edge)
    if not found:
        return [
            edge.problem(
                f"no usage agreement for input port {edge.name!r} reading {edge.address}: {consumer_team} must "
                f"request one from {provider_team} (mesh agreement request {edge.consumer_address} {edge.address} "
                f"--input-port {edge.name} --purpose '...')",
                rule="agreement.missing",
            )
        ]
    statuses = [(a, view.agreement_status(a, today)) for a in found]
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
            f"{consumer_team} may not read {edge.address} of {provider_team}"
        )
    elif status == ag.TERMINATED:
        termination, doc, path = agreement.termination()
        message = (
            f"usage agreement {agreement.id} ({where}) was terminated by the {termination.by} on "
            f"{termination.noticeGiven} ({doc.file}:{doc.line_of(path)}) and ended on "
            f"{agreement.ends_on(notice)} after the notice period {notice or 'P0D'}: {consumer_team} may no "
            f"longer read {edge.address} of {provider_team}"
        )
    else:
        message = (
            f"usage agreement {agreement.id} ({where}) ended on {agreement.spec.end}: {consumer_team} "
            f"must renew it with {provider_team} to keep reading {edge.address}"
        )
    return [edge.problem(message, rule=_STATUS_RULES.get(status, "agreement.ended"))]


_STATUS_RULES = {
    ag.PENDING: "agreement.pending",
    ag.NOT_STARTED: "agreement.not_started",
    ag.TERMINATED: "agreement.terminated",
}


def _retirement_problems(view: MeshLifecycle, today: date) -> list[Problem]:
    problems = []
    for port in view.ports():
        lifecycle = st.port_lifecycle(port)
        if lifecycle.state != st.RETIRED:
            continue
        for edge in view.consumers_of(port.address):
            problems.append(
                lifecycle.declared.problem(
                    f"{port.address} is retired but {edge.describe()} still reads it; "
                    f"{view.team(edge.consumer.domain_name)} must move off it first",
                    rule="lifecycle.retired_with_consumers",
                )
            )
        if lifecycle.sunset_date is None or today < lifecycle.sunset_date:
            for agreement in view.in_force(port.address, today):
                problems.append(
                    lifecycle.declared.problem(
                        f"{port.address} is retired before its sunset date ({lifecycle.sunset_date or 'none'}) while "
                        f"usage agreement {agreement.id} ({agreement.file}) is in force: terminate it with notice, "
                        "or wait for the sunset",
                        rule="lifecycle.retired_before_sunset",
                    )
                )
    return problems


def _agreement_problems(view: MeshLifecycle) -> list[Problem]:
    problems = []
    for agreement in view.agreements:
        if any(
            view.mesh.problems_of(address.split(".")[0])
            for address in (agreement.consumer_product, agreement.provider_port)
        ):
            continue  # a domain that does not load reports its own problems; the others carry on
        if view.product(agreement.consumer_product) is None:
            problems.append(
                agreement.doc.problem(
                    ("consumer", "product"),
                    f"no product {agreement.consumer_product!r} in the mesh",
                    rule="agreement.unknown",
                )
            )
        port = view.port(agreement.provider_port)
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
