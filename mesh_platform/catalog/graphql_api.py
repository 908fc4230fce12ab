"""The discovery API over GraphQL (Strawberry): products by domain, search with filters,
lineage, and quality over a time range -- the same catalog the pages show. The object
types are derived from the catalog's dataclasses (catalog/graphql_types.py); resolvers return
the catalog's own objects.

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
from mesh_platform.catalog.graphql_types import CheckResult, DimensionQuality, Edge, Product
from mesh_platform.catalog.mesh_map import mesh_graph
from mesh_platform.catalog.observed import parse_time
from mesh_platform.catalog.search import Filters, run_search, search

log = logging.getLogger(__name__)


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
        return search(_catalog(info), None, _filters(filters))

    @strawberry.field
    def product(self, info: strawberry.Info, id: str) -> Product | None:
        return _catalog(info).get(id)

    @strawberry.field
    def domains(self, info: strawberry.Info) -> list[Domain]:
        catalog = _catalog(info)
        return [
            Domain(name=name, description=text, products=[p for p in catalog.products if p.domain == name])
            for name, text in sorted(catalog.domains.items())
        ]

    @strawberry.field(description="The products a domain owns.")
    def products_by_domain(self, info: strawberry.Info, domain: str) -> list[Product]:
        return search(_catalog(info), None, Filters(domain=domain))

    @strawberry.field(description="The products `search` finds, best first (without ranks, highlights or facets).")
    def search_products(
        self, info: strawberry.Info, query: str = "", filters: ProductFilter | None = None
    ) -> list[Product]:
        return search(_catalog(info), query, _filters(filters))

    @strawberry.field(description="Ranked full-text search with highlights, typo rewrites and facet counts.")
    def search(self, info: strawberry.Info, query: str = "", filters: ProductFilter | None = None) -> SearchResult:
        found = run_search(_catalog(info), query, _filters(filters))
        return SearchResult(
            hits=[SearchHit(product=h.product, rank=h.rank, highlights=h.highlights) for h in found.hits],
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
            product=product,
            upstream=[catalog.get(i) for i in sorted(up)],
            downstream=[catalog.get(i) for i in sorted(down)],
            edges=[e for e in catalog.edges if e.producer in members and e.consumer in members],
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
                    checks=results,
                    by_dimension=by_dimension(sorted(latest.values(), key=lambda r: r.check)),
                )
            )
        return out

    @strawberry.field(description="Products and edges of the mesh map.")
    def edges(self, info: strawberry.Info) -> list[Edge]:
        return _catalog(info).edges


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
