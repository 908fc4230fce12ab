"""Compute the catalog from the mesh (via `source`) and the Dagster instance (via `observed`)."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from datetime import date
from urllib.parse import quote

import dagster as dg

from mesh_platform import settings
from mesh_platform.catalog import cost as costs
from mesh_platform.catalog import observed
from mesh_platform.catalog.model import (
    Catalog,
    Column,
    Consumer,
    Cost,
    DimensionQuality,
    Edge,
    Health,
    PolicyResult,
    Port,
    PortLifecycle,
    Product,
    Sla,
    Terms,
    worst,
)
from mesh_platform.catalog.source import MeshSource, PolicySource, PortSource, ProductSource, load_source
from mesh_platform.runtime.instance import open_instance
from mesh_platform.specs.durations import format_duration

WINDOW_DAYS = 30
PII_TAGS = {"pii", "personal", "gdpr"}


def dagster_ui_url() -> str:
    return os.environ.get("MESH_UI_URL", "http://127.0.0.1:3000").rstrip("/")


def asset_url(key: tuple[str, ...] | list[str]) -> str:
    return f"{dagster_ui_url()}/assets/{'/'.join(quote(p) for p in key)}"


def product_path(product_id: str) -> str:
    return f"products/{product_id}.html"


def build_catalog(
    instance: dg.DagsterInstance | None = None,
    source: MeshSource | None = None,
    now: float | None = None,
    today: date | None = None,
) -> Catalog:
    """`today` is the date lifecycle facts are judged on (days to a sunset, agreement status)."""
    source = source or load_source(today=today)
    instance = instance or open_instance()
    now = now or time.time()
    since = now - WINDOW_DAYS * 86400

    edges = _edges(source)
    _flag_deprecated_ports(edges, source)
    pairs = {p.id: (p.domain, p.name) for p in source.products}
    runs = observed.run_usage(instance, pairs, since)
    # The policies in force per port (from the specs); their verdicts are what runs recorded.
    policies = defaultdict(list)
    for result in source.policies or []:
        policies[result.subject].append(result)
    products = [_product(p, instance, source, edges, runs, policies, since) for p in source.products]
    return Catalog(
        products=products,
        edges=edges,
        domains=source.domains,
        generated_at=observed.iso(now),
        dagster_url=dagster_ui_url(),
        has_agreements=source.agreements is not None,
        has_policies=source.policies is not None,
    )


def _edges(source: MeshSource) -> list[Edge]:
    """What each product reads, as the Mesh (and so Dagster's asset graph) has it: input ports
    and ref()s to another product's port of the same domain, with the agreement that covers each where the mesh has agreements; an
    agreement without an input port (e.g. approved, not yet built) is an edge of its own."""
    producer_of = {port.address: p.id for p in source.products for port in p.ports}
    agreements = {(a.consumer, a.port): a for a in source.agreements or []}
    edges = []
    for product in source.products:
        for input_port in product.inputs:
            producer = producer_of.get(input_port.address)
            if producer is None:
                continue
            agreement = agreements.pop((product.id, input_port.address), None)
            edges.append(
                Edge(
                    consumer=product.id,
                    producer=producer,
                    port=input_port.address,
                    kind="agreement" if agreement else input_port.kind,
                    purpose=agreement.purpose if agreement else None,
                    agreement_status=agreement.status if agreement else None,
                )
            )
    for (consumer, port), agreement in sorted(agreements.items()):
        if port in producer_of:
            edges.append(
                Edge(
                    consumer=consumer,
                    producer=producer_of[port],
                    port=port,
                    kind="agreement",
                    purpose=agreement.purpose,
                    agreement_status=agreement.status,
                )
            )
    return edges


def _flag_deprecated_ports(edges: list[Edge], source: MeshSource) -> None:
    """Each edge carries its producer port's lifecycle, so a consumer sees a deprecation (sunset,
    days left, replacement) where it reads and where its agreements are listed."""
    lifecycles = {port.address: port.lifecycle for p in source.products for port in p.ports}
    for edge in edges:
        edge.port_lifecycle = _port_lifecycle(lifecycles.get(edge.port))


def _port_lifecycle(facts: dict | None) -> PortLifecycle | None:
    return PortLifecycle(**facts) if facts else None


def _current_port(p: ProductSource) -> PortSource:
    """The port a product-level link opens: the first one not deprecated (the current version),
    else the first."""
    return next((port for port in p.ports if (port.lifecycle or {}).get("state") == "active"), p.ports[0])


def _product(
    p: ProductSource,
    instance,
    source: MeshSource,
    edges: list[Edge],
    runs: observed.RunUsage,
    policies: dict[str, list[PolicySource]],
    since: float,
) -> Product:
    ports = [_port(port, instance, source, policies, since) for port in p.ports]
    consumers = []
    for edge in edges:
        if edge.producer == p.id:
            read_runs = observed.successful_runs(instance, runs.runs.get(edge.consumer, set()))
            consumers.append(
                Consumer(
                    consumer=edge.consumer,
                    port=edge.port,
                    purpose=edge.purpose,
                    agreement_status=edge.agreement_status,
                    runs_30d=len(read_runs),
                )
            )
    product_policies = [r for port in ports for r in (port.policies or [])]
    health = Health(
        contract=worst([port.contract_state for port in ports]),
        freshness=worst([port.freshness.state for port in ports]),
        policies=worst([r.status for r in product_policies]) if source.policies is not None else "n/a",
        overall="",
    )
    health.overall = worst([health.contract, health.freshness, health.policies])
    return Product(
        id=p.id,
        domain=p.domain,
        name=p.name,
        title=p.title or p.name.replace("_", " ").capitalize(),
        purpose=p.purpose,
        usage=p.usage,
        limitations=p.limitations,
        status=p.status,
        version=p.version,
        lifecycle=p.lifecycle,
        archetype=p.archetype,
        maturity=p.maturity,
        quality_level=p.quality_level,
        tier=p.tier,
        tags=p.tags,
        owner_team=p.team_name,
        owners=p.owners,
        support=p.contact,
        schedule=p.schedule,
        descriptor=_relative(p.descriptor),
        ports=ports,
        inputs=[i.address for i in p.inputs],
        input_products=sorted({e.producer for e in edges if e.consumer == p.id}),
        consumers=consumers,
        agreements=[e for e in edges if p.id in (e.consumer, e.producer) and e.kind == "agreement"]
        if source.agreements is not None
        else None,
        policies=[PolicyResult(r.policy, r.status, r.message) for r in policies.get(p.id, [])]
        if source.policies is not None
        else None,
        cost=_cost(p, ports, instance, runs),
        health=health,
        dagster_url=f"{dagster_ui_url()}/asset-groups?groups={quote(p.domain)}"
        if not p.ports
        else asset_url(_current_port(p).asset_key),
        catalog_path=product_path(p.id),
    )


def _port(port: PortSource, instance, source: MeshSource, policies, since: float) -> Port:
    contract = port.contract
    sla = contract.sla()
    published = observed.latest_materialisation(instance, port.asset_key)
    latest = observed.latest_check_results(instance, port.asset_key, port.checks)
    _, live = costs.files_bytes(port.published_file.parent)
    rows = published.metadata.get("dagster/row_count") if published else None
    return Port(
        address=str(port.address),
        name=port.name,
        product_id=str(port.product_address),
        asset_key=list(port.asset_key),
        description=port.description or contract.purpose,
        contract_id=contract.id,
        contract_version=contract.version,
        contract_status=contract.model.status,
        contract_file=_relative(contract.file),
        terms=Terms(
            usage=contract.usage,
            limitations=contract.limitations,
            billing=contract.billing,
            notice_period=contract.notice_period,
        ),
        sla=Sla(
            text=sla.describe(),
            freshness=format_duration(sla.freshness) if sla.freshness else None,
            freshness_warn=format_duration(sla.freshness_warn) if sla.freshness_warn else None,
            deadline=sla.describe_deadline() or None,
            frequency=sla.frequency_cron,
        ),
        freshness=observed.freshness(instance, port.asset_key, published, sla),
        columns=columns(port),
        declared_checks=list(port.checks),
        checks=latest,
        quality=by_dimension(latest),
        policies=observed.policy_results(
            instance, port.asset_key, {r.policy: r.check or r.policy for r in policies.get(port.address, [])}
        )
        if source.policies is not None
        else None,
        rows=int(rows) if isinstance(rows, (int, float)) else None,
        published_bytes=live if published else None,
        last_published_at=observed.iso(published.timestamp) if published else None,
        dagster_url=asset_url(port.asset_key),
        catalog_path=product_path(str(port.product_address)) + f"#port-{port.name}",
        lifecycle=_port_lifecycle(port.lifecycle),
    )


def by_dimension(checks) -> list[DimensionQuality]:
    groups = defaultdict(list)
    for check in checks:
        groups[check.dimension].append(check)
    return [
        DimensionQuality(
            dimension=d,
            checks=len(cs),
            passed=sum(c.passed for c in cs),
            failed=sum(c.state == "fail" for c in cs),
            warned=sum(c.state == "warn" for c in cs),
            state=worst([c.state for c in cs]),
        )
        for d, cs in sorted(groups.items())
    ]


def columns(port: PortSource) -> list[Column]:
    obj = port.contract.schema_object(port.model) or port.contract.schema_object(port.name)
    out = []
    for prop in (obj.properties or []) if obj else []:
        constraints = [f"{k}: {v}" for k, v in (prop.logicalTypeOptions or {}).items()]
        if getattr(prop, "examples", None):
            constraints.append(f"examples: {', '.join(map(str, prop.examples[:3]))}")
        tags = [str(t) for t in prop.tags or []]
        classification = prop.classification
        out.append(
            Column(
                name=prop.physicalName or prop.name,
                type=prop.physicalType or prop.logicalType or "unknown",
                logical_type=prop.logicalType,
                description=prop.description,
                required=bool(prop.required or prop.primaryKey),
                unique=bool(prop.unique),
                primary_key=bool(prop.primaryKey),
                classification=classification,
                pii=bool(PII_TAGS & {t.lower() for t in tags}) or (classification or "").lower() in PII_TAGS,
                tags=tags,
                constraints=constraints,
                read_by=list(port.readers.get(prop.physicalName or prop.name, ())),
                maybe_read_by=list(port.unknown_readers),
            )
        )
    return out


def _cost(p: ProductSource, ports: list[Port], instance, runs: observed.RunUsage) -> Cost:
    published_total = live_total = 0
    for port in p.ports:
        total, live = costs.files_bytes(port.published_file.parent)
        published_total += total
        live_total += live
    tables = set()
    for key in instance.get_asset_keys(prefix=[p.domain, p.name]):
        latest = observed.latest_materialisation(instance, tuple(key.path))
        if latest is None:
            continue
        unique_id = str(latest.metadata.get("unique_id") or "")  # dbt: model.<project>.<model>
        tables.add(unique_id.split(".")[-1] if unique_id else key.path[-1])
    warehouse = costs.warehouse_bytes(settings.warehouse_path(p.domain), sorted(tables))
    rates = costs.rates()
    seconds = runs.seconds.get(p.id, 0.0)
    stored_gb = (published_total + (warehouse or 0)) / costs.GB
    compute = seconds / 3600 * rates["compute_per_hour"]
    storage = stored_gb * rates["storage_per_gb_month"]
    declared = [costs.monthly_expense(item) for item in p.expenses]
    declared_monthly = costs.per_currency(declared)
    totals = costs.per_currency(declared, measured=compute + storage, currency=costs.currency())
    return Cost(
        published_bytes=published_total,
        live_bytes=live_total,
        warehouse_bytes=warehouse,
        rows=sum(port.rows or 0 for port in ports),
        runs_30d=len(runs.runs.get(p.id, ())),
        run_seconds_30d=round(seconds, 3),
        compute_monthly=round(compute, 4),
        storage_monthly=round(storage, 6),
        declared=declared,
        declared_monthly=declared_monthly,
        monthly_total=next(iter(totals.values())) if len(totals) == 1 else None,
        currency=costs.currency(),
        rates=rates,
        totals=totals,
    )


def _relative(path) -> str:
    try:
        return str(path.resolve().relative_to(settings.repo_root()))
    except ValueError:
        return str(path)


def quality_over(
    instance: dg.DagsterInstance, catalog: Catalog, product_id: str, after: float | None, before: float | None
):
    """Every check evaluation of a product's ports in [after, before): (port, results)."""
    product = catalog.get(product_id)
    if product is None:
        raise LookupError(f"no product {product_id!r}")
    return [
        (port, observed.check_results(instance, tuple(port.asset_key), tuple(port.declared_checks), after, before))
        for port in product.ports
    ]
