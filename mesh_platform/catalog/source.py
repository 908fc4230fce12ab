"""What the catalog reads from the mesh's files: the one adapter between the Mesh and the catalog.

Everything else in `catalog/` reads these small records, never the loader or the Mesh
directly, so the catalog follows the mesh model without re-deriving cross-domain facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from mesh_platform.catalog.cost import declared_expenses
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.dagster_wiring.policy_checks import check_name, verdict
from mesh_platform.governance.config import load_governance
from mesh_platform.governance.engine import evaluate
from mesh_platform.lifecycle import dates, states
from mesh_platform.lifecycle.catalog import port_facts
from mesh_platform.lifecycle.rules import agreement_status
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.address import PortAddress, ProductAddress
from mesh_platform.mesh.domain import Port, Product
from mesh_platform.publishing.target import DuckDBTarget
from mesh_platform.specs.contract import Contract


@dataclass(frozen=True)
class PortSource:
    """An output port as the catalog reads it: the Mesh's Port, plus what the catalog adds."""

    port: Port
    published_file: Path  # the live snapshot consumers read
    checks: tuple[str, ...] = ()  # the contract's check names (Dagster asset check names)
    lifecycle: dict[str, Any] | None = None  # state, access, sunset, replacement, days left (lifecycle)
    # column -> the consumer products whose SQL reads it; consumers whose reads cannot be seen (Python)
    readers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unknown_readers: tuple[str, ...] = ()

    @property
    def address(self) -> PortAddress:
        return self.port.address

    @property
    def product_address(self) -> ProductAddress:
        return self.port.product.address

    @property
    def domain(self) -> str:
        return self.address.domain

    @property
    def product(self) -> str:
        return self.address.product

    @property
    def name(self) -> str:
        return self.port.name

    @property
    def asset_key(self) -> tuple[str, ...]:
        return self.address.key_path

    @property
    def model(self) -> str:
        return self.port.model

    @property
    def description(self) -> str | None:
        return self.port.spec.description

    @property
    def contract(self) -> Contract:
        return self.port.contract


@dataclass(frozen=True)
class InputSource:
    name: str
    address: str  # the producer's port address
    contract_id: str | None
    kind: str = "input_port"  # input_port | within_domain (ref() to another product's port of the domain)


@dataclass(frozen=True)
class AgreementSource:
    """A usage agreement between a consumer and a producer port (optional: lifecycle)."""

    consumer: str  # a product id or a team
    port: str  # the producer port address
    purpose: str | None
    status: str | None
    file: Path | None = None
    port_lifecycle: dict[str, Any] | None = None  # the provider port's state on the catalog's date


@dataclass(frozen=True)
class PolicySource:
    """A governance policy's result for a port or product (optional: governance)."""

    policy: str
    subject: str  # port address or product id
    status: str  # pass | warn | fail | waived: what the specs say now (lint), not what a run recorded
    message: str = ""
    check: str | None = None  # the port's Dagster asset check that records this policy


@dataclass
class ProductSource:
    """A product as the catalog reads it: the Mesh's Product, plus what the catalog adds."""

    product: Product
    expenses: list[dict[str, Any]]  # the descriptor's declared costs, checked
    ports: list[PortSource] = field(default_factory=list)
    inputs: list[InputSource] = field(default_factory=list)
    lifecycle: dict[str, Any] | None = None  # state and dates, when the lifecycle model provides them

    @property
    def domain(self) -> str:
        return self.product.domain_name

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def id(self) -> str:
        return self.product.spec.id

    @property
    def title(self) -> str | None:
        return self.product.spec.title

    @property
    def status(self) -> str:
        return self.product.spec.status

    @property
    def version(self) -> str:
        return self.product.spec.version

    @property
    def purpose(self) -> str:
        return self.product.spec.description.purpose

    @property
    def usage(self) -> str | None:
        return self.product.spec.description.usage

    @property
    def limitations(self) -> str | None:
        return self.product.spec.description.limitations

    @property
    def team_name(self) -> str:
        return self.product.team.name

    @property
    def owners(self) -> list[str]:
        return list(self.product.team.owners)

    @property
    def contact(self) -> str | None:
        return self.product.team.contact

    @property
    def archetype(self) -> str | None:
        return _str(self.product.spec.custom("archetype"))

    @property
    def maturity(self) -> str | None:
        return _str(self.product.spec.custom("maturity"))

    @property
    def quality_level(self) -> str | None:
        return _str(self.product.spec.custom("qualityLevel"))

    @property
    def tier(self) -> str | None:
        return _str(self.product.spec.custom("tier"))

    @property
    def tags(self) -> list[str]:
        return list(self.product.spec.tags)

    @property
    def schedule(self) -> str:
        return _schedule(self.product.spec.schedule)

    @property
    def custom(self) -> dict[str, Any]:
        return {p.property: p.value for p in self.product.spec.customProperties}

    @property
    def descriptor(self) -> Path:
        return self.product.file


@dataclass
class MeshSource:
    products: list[ProductSource]
    domains: dict[str, str]  # name -> description
    agreements: list[AgreementSource] | None = None  # None: no agreements model in this mesh
    policies: list[PolicySource] | None = None  # None: no policy engine in this mesh
    problems: list = field(default_factory=list)  # Problems of the domains that do not load


def load_source(mesh=None, today: date | None = None) -> MeshSource:
    """Every product of the Mesh, as the catalog sees it. A domain that does not load is left
    out, its problems kept in ``problems`` (naming files and lines, as `mesh validate` reports
    them): a broken domain does not take the other domains' pages down with it. Lifecycle facts
    (agreement status, days to a sunset) are judged on `today` (default: MESH_TODAY or UTC today)."""
    mesh = mesh or Mesh.load()
    today = today or _today()
    problems = [p for found in mesh.load_problems.values() for p in found]
    products: list[ProductSource] = []
    domains: dict[str, str] = {}
    for domain in mesh.domains.values():
        domains[domain.name] = domain.spec.description
        for product in domain.products:
            spec = product.spec
            source = ProductSource(product=product, expenses=declared_expenses(product))
            for port in product.ports:
                source.ports.append(
                    PortSource(
                        port=port,
                        published_file=DuckDBTarget().live_path(port.address),
                        checks=tuple(c.key for c in compile_contract(port.contract, port.model)),
                        lifecycle=_port_lifecycle(port, today),
                        **_column_readers(mesh, port.address),
                    )
                )
            # What the product declares it reads, and what its dbt sources and Python tables do read.
            # The Mesh's edges are Dagster's graph: a ref() to another product's port is one too.
            declared = {p.source: p for p in spec.inputPorts}
            edges = [e for e in mesh.producers_of(product) if e.producer is not None]
            within = {str(e.producer) for e in edges if e.kind == "dbt_ref"}
            for address in dict.fromkeys(
                [*(str(a) for a in mesh.input_addresses(product)), *(str(e.producer) for e in edges)]
            ):
                port = declared.get(address)
                source.inputs.append(
                    InputSource(
                        name=port.name if port else PortAddress.parse(address).port,
                        address=address,
                        contract_id=port.contractId if port else None,
                        kind="within_domain" if address in within else "input_port",
                    )
                )
            source.lifecycle = _lifecycle(product)
            products.append(source)
    return MeshSource(
        products=products,
        domains=domains,
        agreements=_agreements(mesh, today),
        policies=_policies(mesh),
        problems=problems,
    )


def _column_readers(mesh, address) -> dict[str, Any]:
    """Who reads each column of the port: the Mesh's column analysis of each consumer's SQL
    (the one the breaking-change gate reports and Dagster's column lineage shows)."""
    readers: dict[str, set[str]] = {}
    unknown: set[str] = set()
    for edge in mesh.consumers_of(address):
        product = mesh.product(edge.consumer_domain, edge.consumer_product) if edge.consumer_product else None
        if product is None:
            continue
        uses = mesh.column_uses(edge)
        for use in uses if uses is not None else [None]:
            if use is None or use.columns is None:
                unknown.add(product.spec.id)
                continue
            for column in use.columns:
                readers.setdefault(column, set()).add(product.spec.id)
    return {"readers": {c: tuple(sorted(r)) for c, r in readers.items()}, "unknown_readers": tuple(sorted(unknown))}


# Governance and lifecycle are read where the platform has them; without them the catalog
# shows no policy or agreement fields (None) rather than made-up ones.


def _policies(mesh) -> list[PolicySource] | None:
    report = evaluate(mesh, load_governance(), validate=False)
    out = []
    for address, status in report.ports.items():
        for policy in status.in_force:
            found = [v for v in status.violations if v.policy == policy]
            out.append(
                PolicySource(
                    policy,
                    address,
                    verdict(found),
                    "; ".join(v.message for v in found),
                    check=check_name(policy),
                )
            )
    return out


def _agreements(mesh, today: date) -> list[AgreementSource] | None:
    out = []
    for a in mesh.agreements:
        port = mesh.port(a.provider_port)
        out.append(
            AgreementSource(
                consumer=a.consumer_product,
                port=a.provider_port,
                purpose=a.spec.purpose,
                status=agreement_status(mesh, a, today),
                file=getattr(a, "file", None),
                port_lifecycle=_port_lifecycle(port, today) if port is not None else None,
            )
        )
    return out


def _port_lifecycle(port, today: date) -> dict[str, Any] | None:
    return port_facts(port, today)


def _today() -> date:
    return dates.today()


def _lifecycle(product) -> dict[str, Any] | None:
    life = states.product_lifecycle(product)
    out: dict[str, Any] = {"state": life.state}
    for name in ("deprecation_date", "sunset_date", "replaced_by"):
        if getattr(life, name, None):
            out[name] = str(getattr(life, name))
    return out


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _schedule(schedule) -> str:
    if schedule is None:
        return "manual"
    if schedule.on_upstream:
        return "when an input port is published"
    return f"cron '{schedule.cron}' ({schedule.timezone})"
