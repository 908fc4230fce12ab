"""What the catalog reads from the mesh's files: the one adapter between the Mesh and the catalog.

Everything else in `catalog/` reads these small records, never the loader or the Mesh
directly, so the catalog follows the mesh model without re-deriving cross-domain facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from mesh_platform.specs.contract import Contract


@dataclass(frozen=True)
class PortSource:
    domain: str
    product: str
    name: str
    address: str  # <domain>.<product>.<port>
    asset_key: tuple[str, ...]
    model: str
    description: str | None
    contract: Contract
    published_file: Path  # the live snapshot consumers read
    checks: tuple[str, ...] = ()  # the contract's check names (Dagster asset check names)
    lifecycle: dict[str, Any] | None = None  # state, access, sunset, replacement, days left (lifecycle)
    # column -> the consumer products whose SQL reads it; consumers whose reads cannot be seen (Python)
    readers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unknown_readers: tuple[str, ...] = ()


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
    domain: str
    name: str
    id: str
    title: str | None
    status: str
    version: str
    purpose: str
    usage: str | None
    limitations: str | None
    team_name: str
    owners: list[str]
    contact: str | None
    archetype: str | None
    maturity: str | None
    quality_level: str | None
    tier: str | None
    tags: list[str]
    schedule: str
    expenses: list[dict[str, Any]]
    custom: dict[str, Any]
    descriptor: Path
    ports: list[PortSource] = field(default_factory=list)
    inputs: list[InputSource] = field(default_factory=list)
    lifecycle: dict[str, Any] | None = None  # state and dates, when the lifecycle model provides them


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
    from mesh_platform.contracts.compiler import compile_contract
    from mesh_platform.mesh import Mesh
    from mesh_platform.mesh.address import PortAddress

    mesh = mesh or Mesh.load()
    today = today or _today()
    problems = [p for found in mesh.load_problems.values() for p in found]
    products: list[ProductSource] = []
    domains: dict[str, str] = {}
    for domain in mesh.domains.values():
        domains[domain.name] = domain.spec.description
        for product in domain.products:
            spec = product.spec
            source = ProductSource(
                domain=domain.name,
                name=spec.name,
                id=spec.id,
                title=spec.title,
                status=spec.status,
                version=spec.version,
                purpose=spec.description.purpose,
                usage=spec.description.usage,
                limitations=spec.description.limitations,
                team_name=product.team.name,
                owners=list(product.team.owners),
                contact=product.team.contact,
                archetype=_str(spec.custom("archetype")),
                maturity=_str(spec.custom("maturity")),
                quality_level=_str(spec.custom("qualityLevel")),
                tier=_str(spec.custom("tier")),
                tags=list(spec.tags),
                schedule=_schedule(spec.schedule),
                expenses=_expenses(product),
                custom={p.property: p.value for p in spec.customProperties},
                descriptor=product.file,
            )
            for port in product.ports:
                address = PortAddress(domain.name, spec.name, port.name)
                source.ports.append(
                    PortSource(
                        domain=domain.name,
                        product=spec.name,
                        name=port.name,
                        address=str(address),
                        asset_key=address.key_path,
                        model=port.model,
                        description=port.spec.description,
                        contract=port.contract,
                        published_file=address.published_file(),
                        checks=tuple(c.key for c in compile_contract(port.contract, port.model)),
                        lifecycle=_port_lifecycle(port, today),
                        **_column_readers(mesh, address),
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
                        name=port.name if port else address.split(".")[-1],
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
    try:
        from mesh_platform.dagster_wiring.policy_checks import check_name, verdict
        from mesh_platform.governance.config import load_governance
        from mesh_platform.governance.engine import evaluate
    except ImportError:
        return None
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
    try:
        from mesh_platform.lifecycle.rules import MeshLifecycle
    except ImportError:
        return None

    view = MeshLifecycle.of(mesh)
    out = []
    for a in view.agreements:
        port = view.port(a.provider_port)
        out.append(
            AgreementSource(
                consumer=a.consumer_product,
                port=a.provider_port,
                purpose=a.spec.purpose,
                status=view.agreement_status(a, today),
                file=getattr(a, "file", None),
                port_lifecycle=_port_lifecycle(port, today) if port is not None else None,
            )
        )
    return out


def _port_lifecycle(port, today: date) -> dict[str, Any] | None:
    try:
        from mesh_platform.lifecycle.catalog import port_facts
    except ImportError:
        return None
    return port_facts(port, today)


def _today() -> date:
    try:
        from mesh_platform.lifecycle.dates import today
    except ImportError:
        return date.today()
    return today()


def _lifecycle(product) -> dict[str, Any] | None:
    try:
        from mesh_platform.lifecycle import states
    except ImportError:
        return None
    life = states.product_lifecycle(product)
    out: dict[str, Any] = {"state": life.state}
    for name in ("deprecation_date", "sunset_date", "replaced_by"):
        if getattr(life, name, None):
            out[name] = str(getattr(life, name))
    return out


EXPENSE_PERIODS = ("month", "year")


def _expenses(product) -> list[dict[str, Any]]:
    """The descriptor's declared costs: customProperties `expenses`, a list of
    {name, description, category, cost, currency, per: month|year}; errors name file:line."""
    from mesh_platform.specs.errors import SpecError

    for i, prop in enumerate(product.spec.customProperties):
        if prop.property != "expenses":
            continue
        where = ("customProperties", i, "value")
        if not isinstance(prop.value, list):
            raise SpecError(
                [
                    product.doc.problem(
                        where,
                        "expected a list of expenses ({name, description, category, cost, currency, per})",
                        rule="spec.expenses",
                    )
                ]
            )
        problems = []
        for j, item in enumerate(prop.value):
            if not isinstance(item, dict) or "name" not in item or "cost" not in item:
                problems.append(
                    product.doc.problem(
                        (*where, j), "expected an expense with at least 'name' and 'cost'", rule="spec.expenses"
                    )
                )
                continue
            cost = item["cost"]
            if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0:
                problems.append(
                    product.doc.problem(
                        (*where, j, "cost"), f"expected a non-negative number, got {cost!r}", rule="spec.expenses"
                    )
                )
            if item.get("per", "month") not in EXPENSE_PERIODS:
                problems.append(
                    product.doc.problem(
                        (*where, j, "per"),
                        f"expected one of {list(EXPENSE_PERIODS)}, got {item.get('per')!r}",
                        rule="spec.expenses",
                    )
                )
        if problems:
            raise SpecError(problems)
        return list(prop.value)
    return []


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _schedule(schedule) -> str:
    if schedule is None:
        return "manual"
    if schedule.on_upstream:
        return "when an input port is published"
    return f"cron '{schedule.cron}' ({schedule.timezone})"
