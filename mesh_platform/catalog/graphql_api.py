"""The discovery API over GraphQL (Strawberry): products by domain, search with filters,
lineage, and quality over a time range -- the same catalog the pages show.

Example:

    { searchProducts(query: "orders", filters: {pii: true}) { id ownerTeam ports { address } } }
    { productQuality(productId: "<domain>.<product>",
                     timeRange: {start: "2026-11-01", end: "2026-11-22"}) { port checks { check passed } } }
"""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

import networkx as nx
import strawberry
from strawberry.scalars import JSON

from mesh_platform.catalog import model
from mesh_platform.catalog.build import by_dimension, quality_over
from mesh_platform.catalog.mesh_map import mesh_graph
from mesh_platform.catalog.observed import parse_time
from mesh_platform.catalog.search import Filters, run_search, search

log = logging.getLogger(__name__)


def _copy(cls, obj, **extra):
    """A Strawberry object from a catalog dataclass with the same field names."""
    names = {f.name for f in fields(cls)}
    values = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name in names}
    return cls(**{**values, **extra})


@strawberry.type
class Column:
    name: str
    type: str
    logical_type: str | None
    description: str | None
    required: bool
    unique: bool
    primary_key: bool
    classification: str | None
    pii: bool
    tags: list[str]
    constraints: list[str]
    read_by: list[str] = strawberry.field(
        default_factory=list, description="Consumer products whose SQL reads this column."
    )
    maybe_read_by: list[str] = strawberry.field(
        default_factory=list, description="Consumers whose reads cannot be seen (Python tables)."
    )


@strawberry.type
class Terms:
    usage: str | None
    limitations: str | None
    billing: str | None
    notice_period: str | None


@strawberry.type
class Sla:
    text: str
    freshness: str | None
    freshness_warn: str | None
    deadline: str | None
    frequency: str | None


@strawberry.type
class Freshness:
    state: str
    evaluated_at: str | None
    last_published_at: str | None
    data_time: str | None
    basis: str


@strawberry.type
class CheckResult:
    check: str
    dimension: str
    severity: str
    passed: bool
    state: str
    timestamp: str
    run_id: str
    failing_count: int | None
    measured: float | None
    threshold: str | None
    description: str | None


@strawberry.type
class DimensionQuality:
    dimension: str
    checks: int
    passed: int
    failed: int
    warned: int
    state: str


@strawberry.type
class PolicyResult:
    """A policy's verdict on a port as a run recorded it; status `not_evaluated` where none did."""

    policy: str
    status: str
    message: str
    check: str | None = None
    evaluated_at: str | None = None
    run_id: str | None = None


@strawberry.type(description="A port's lifecycle on the catalog's date: state, access mode, sunset, replacement.")
class PortLifecycle:
    state: str
    access: str
    deprecation_date: str | None
    sunset_date: str | None
    replaced_by: str | None
    days_to_sunset: int | None
    days_left: str


@strawberry.type
class Port:
    address: str
    name: str
    product_id: str
    asset_key: list[str]
    description: str | None
    contract_id: str
    contract_version: str
    contract_status: str | None
    contract_state: str
    terms: Terms
    sla: Sla
    freshness: Freshness
    columns: list[Column]
    declared_checks: list[str]
    checks: list[CheckResult]
    quality: list[DimensionQuality]
    policies: list[PolicyResult] | None
    rows: int | None
    published_bytes: float | None
    last_published_at: str | None
    dagster_url: str
    lifecycle: PortLifecycle | None


@strawberry.type
class Edge:
    consumer: str
    producer: str
    port: str
    kind: str
    purpose: str | None
    agreement_status: str | None
    port_lifecycle: PortLifecycle | None


@strawberry.type
class Consumer:
    consumer: str
    port: str
    purpose: str | None
    agreement_status: str | None
    runs_30d: int


@strawberry.type
class Expense:
    name: str
    description: str
    category: str
    monthly: float
    currency: str


@strawberry.type
class Cost:
    published_bytes: float
    live_bytes: float
    warehouse_bytes: float | None
    rows: float
    runs_30d: int
    run_seconds_30d: float
    compute_monthly: float
    storage_monthly: float
    declared: list[Expense]
    declared_monthly: JSON
    monthly_total: float | None
    currency: str
    rates: JSON
    totals: JSON


@strawberry.type
class Health:
    contract: str
    freshness: str
    policies: str
    overall: str


@strawberry.type
class Product:
    id: str
    domain: str
    name: str
    title: str
    purpose: str
    usage: str | None
    limitations: str | None
    status: str
    version: str
    lifecycle: JSON | None
    archetype: str | None
    maturity: str | None
    quality_level: str | None
    tier: str | None
    tags: list[str]
    owner_team: str
    owners: list[str]
    support: str | None
    schedule: str
    pii: bool
    ports: list[Port]
    inputs: list[str]
    input_products: list[str]
    consumers: list[Consumer]
    agreements: list[Edge] | None
    policies: list[PolicyResult] | None
    cost: Cost
    health: Health
    dagster_url: str


def to_port(port: model.Port) -> Port:
    return _copy(
        Port,
        port,
        contract_state=port.contract_state,
        terms=_copy(Terms, port.terms),
        sla=_copy(Sla, port.sla),
        freshness=_copy(Freshness, port.freshness),
        columns=[_copy(Column, c) for c in port.columns],
        checks=[to_check(c) for c in port.checks],
        quality=[_copy(DimensionQuality, q) for q in port.quality],
        policies=None if port.policies is None else [_copy(PolicyResult, r) for r in port.policies],
        lifecycle=_lifecycle(port.lifecycle),
    )


def _lifecycle(lifecycle: model.PortLifecycle | None) -> PortLifecycle | None:
    return None if lifecycle is None else _copy(PortLifecycle, lifecycle)


def to_edge(edge: model.Edge) -> Edge:
    return _copy(Edge, edge, port_lifecycle=_lifecycle(edge.port_lifecycle))


def to_check(check: model.CheckResult) -> CheckResult:
    return _copy(CheckResult, check, state=check.state)


def to_product(product: model.Product) -> Product:
    return _copy(
        Product,
        product,
        pii=product.pii,
        ports=[to_port(p) for p in product.ports],
        consumers=[_copy(Consumer, c) for c in product.consumers],
        agreements=None if product.agreements is None else [to_edge(e) for e in product.agreements],
        policies=None if product.policies is None else [_copy(PolicyResult, r) for r in product.policies],
        cost=_copy(Cost, product.cost, declared=[_copy(Expense, e) for e in product.cost.declared]),
        health=_copy(Health, product.health),
    )


@strawberry.input
class ProductFilter:
    domain: str | None = None
    owner: str | None = None
    tag: str | None = None
    status: str | None = None
    archetype: str | None = None
    classification: str | None = None
    pii: bool | None = None
    state: str | None = None
    tier: str | None = None
    quality: str | None = None


@strawberry.type
class SearchHit:
    product: Product
    rank: float  # bm25, lower is better
    highlights: JSON  # indexed field -> matching passage as HTML, matches in <mark>


@strawberry.type
class FacetValue:
    value: str
    count: int


@strawberry.type
class Facet:
    name: str
    values: list[FacetValue]


@strawberry.type
class Rewrite:
    word: str
    read_as: list[str]


@strawberry.type
class SearchResult:
    hits: list[SearchHit]
    rewrites: list[Rewrite]  # typo tolerance: query words read as indexed words
    facets: list[Facet]


@strawberry.input
class TimeRange:
    """ISO-8601 times (a date is its midnight UTC); `end` is exclusive; either may be left out."""

    start: str | None = None
    end: str | None = None


@strawberry.type
class Lineage:
    product: Product
    upstream: list[Product]  # every product this one reads from, directly or not
    downstream: list[Product]  # every product that reads from it, directly or not
    edges: list[Edge]  # the edges among them


@strawberry.type
class PortQuality:
    port: str
    checks: list[CheckResult]  # every evaluation in the range, oldest first
    by_dimension: list[DimensionQuality]  # the latest evaluation of each check in the range


@strawberry.type
class Domain:
    name: str
    description: str
    products: list[Product]


def _catalog(info) -> model.Catalog:
    return info.context["catalog"]()


def _product_or_error(catalog: model.Catalog, product_id: str) -> model.Product:
    product = catalog.get(product_id)
    if product is None:
        raise ValueError(f"no product {product_id!r} (products: {', '.join(p.id for p in catalog.products)})")
    return product


@strawberry.type
class Query:
    @strawberry.field(description="Every product, optionally filtered.")
    def products(self, info: strawberry.Info, filters: ProductFilter | None = None) -> list[Product]:
        return [to_product(p) for p in search(_catalog(info), None, _filters(filters))]

    @strawberry.field
    def product(self, info: strawberry.Info, id: str) -> Product | None:
        found = _catalog(info).get(id)
        return to_product(found) if found else None

    @strawberry.field
    def domains(self, info: strawberry.Info) -> list[Domain]:
        catalog = _catalog(info)
        return [
            Domain(name=name, description=text, products=[to_product(p) for p in catalog.products if p.domain == name])
            for name, text in sorted(catalog.domains.items())
        ]

    @strawberry.field(description="The products a domain owns.")
    def products_by_domain(self, info: strawberry.Info, domain: str) -> list[Product]:
        return [to_product(p) for p in search(_catalog(info), None, Filters(domain=domain))]

    @strawberry.field(description="The products `search` finds, best first (without ranks, highlights or facets).")
    def search_products(
        self, info: strawberry.Info, query: str = "", filters: ProductFilter | None = None
    ) -> list[Product]:
        return [to_product(p) for p in search(_catalog(info), query, _filters(filters))]

    @strawberry.field(description="Ranked full-text search with highlights, typo rewrites and facet counts.")
    def search(self, info: strawberry.Info, query: str = "", filters: ProductFilter | None = None) -> SearchResult:
        found = run_search(_catalog(info), query, _filters(filters))
        return SearchResult(
            hits=[SearchHit(product=to_product(h.product), rank=h.rank, highlights=h.highlights) for h in found.hits],
            rewrites=[Rewrite(word=w, read_as=terms) for w, terms in found.rewrites.items()],
            facets=[
                Facet(name=name, values=[FacetValue(value=v, count=c) for v, c in values])
                for name, values in found.facets.items()
            ],
        )

    @strawberry.field(description="Input products -> the product -> consumers, transitively.")
    def product_lineage(self, info: strawberry.Info, product_id: str) -> Lineage:
        catalog = _catalog(info)
        product = _product_or_error(catalog, product_id)
        graph = mesh_graph(catalog)
        up, down = nx.ancestors(graph, product_id), nx.descendants(graph, product_id)
        members = up | down | {product_id}
        return Lineage(
            product=to_product(product),
            upstream=[to_product(catalog.get(i)) for i in sorted(up)],
            downstream=[to_product(catalog.get(i)) for i in sorted(down)],
            edges=[to_edge(e) for e in catalog.edges if e.producer in members and e.consumer in members],
        )

    @strawberry.field(description="Contract-check results recorded in the Dagster instance over a time range.")
    def product_quality(
        self, info: strawberry.Info, product_id: str, time_range: TimeRange | None = None
    ) -> list[PortQuality]:
        catalog = _catalog(info)
        _product_or_error(catalog, product_id)
        time_range = time_range or TimeRange()
        after, before = parse_time(time_range.start), parse_time(time_range.end)
        out = []
        for port, results in quality_over(info.context["instance"](), catalog, product_id, after, before):
            latest: dict[str, model.CheckResult] = {r.check: r for r in results}
            out.append(
                PortQuality(
                    port=port.address,
                    checks=[to_check(r) for r in results],
                    by_dimension=[
                        _copy(DimensionQuality, q) for q in by_dimension(sorted(latest.values(), key=lambda r: r.check))
                    ],
                )
            )
        return out

    @strawberry.field(description="Products and edges of the mesh map.")
    def edges(self, info: strawberry.Info) -> list[Edge]:
        return [to_edge(e) for e in _catalog(info).edges]


def _filters(filters: ProductFilter | None) -> Filters:
    if filters is None:
        return Filters()
    return Filters(**{f.name: getattr(filters, f.name) for f in fields(Filters)})


class _Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """A bad query is the caller's mistake, answered in the response: log one line, no traceback."""
        for error in errors:
            log.info("GraphQL error: %s", error.message)


schema = _Schema(query=Query)


def example(catalog: model.Catalog) -> str:
    """The query the explorer opens with: a search and the first product's lineage."""
    first = min((p.id for p in catalog.products), default="<domain>.<product>")
    return _EXAMPLE % first


_EXAMPLE = """\
# Ranked full-text search (typos forgiven), then one product's lineage.
query {
  search(query: "orders") {
    hits { product { id title ownerTeam } rank }
    facets { name values { value count } }
  }
  productLineage(productId: "%s") { upstream { id } downstream { id } }
}
"""


def execute(query: str, catalog_fn, instance_fn, variables: dict[str, Any] | None = None):
    """Run a query without HTTP (the CLI and tests use the same schema the server serves)."""
    return schema.execute_sync(
        query, variable_values=variables, context_value={"catalog": catalog_fn, "instance": instance_fn}
    )
