"""HTML pages from the catalog (Jinja2): the same templates serve the web app and the static site."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape

from mesh_platform.catalog.cost import describe_totals, money
from mesh_platform.catalog.mesh_map import COLOURS, layout
from mesh_platform.catalog.model import Catalog, Product
from mesh_platform.catalog.search import FACETS, Filters, SearchResult, states
from mesh_platform.mesh.address import PortAddress

FILTER_FIELDS = ("domain", "owner", "tag", "status", "archetype", "classification", "state", "tier", "quality")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mesh_platform.catalog", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["bytes"] = human_bytes
    env.filters["money"] = money
    env.filters["cost_total"] = describe_totals
    env.filters["seconds"] = lambda s: f"{s / 60:.1f} min" if s >= 120 else f"{s:.1f} s"
    env.globals["colours"] = COLOURS
    env.globals["filter_fields"] = FILTER_FIELDS
    env.filters["states"] = lambda product: sorted(states(product))
    # Port addresses are parsed by mesh/address.py, never split in a template.
    env.filters["port_href"] = port_href
    env.filters["port_name"] = lambda address: getattr(PortAddress.try_parse(address), "port", address)
    return env


def human_bytes(value: int | float | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(value)


def choices(catalog: Catalog) -> dict[str, list[str]]:
    """Values offered in the filter menus, from what the catalog holds."""
    return {
        "domain": sorted({p.domain for p in catalog.products}),
        "tag": sorted({t for p in catalog.products for t in p.tags}),
        "status": sorted({p.status for p in catalog.products}),
        "archetype": sorted({p.archetype for p in catalog.products if p.archetype}),
        "classification": sorted({c for p in catalog.products for c in p.classifications}),
        "owner": sorted({p.owner_team for p in catalog.products}),
        "state": sorted({s for p in catalog.products for s in states(p)}),
        "tier": sorted({p.tier for p in catalog.products if p.tier}),
        "quality": sorted({p.quality_level for p in catalog.products if p.quality_level}),
    }


def render_not_found(catalog: Catalog | None, message: str) -> str:
    return (
        environment()
        .get_template("404.html")
        .render(catalog=catalog, message=message, static=False, root="/", page="404")
    )


def facet_links(result: SearchResult, filters: Filters) -> dict[str, list[dict]]:
    """Each facet's values with their counts and a link that picks (or drops) the value."""
    params = {name: getattr(filters, name) for name in FILTER_FIELDS if getattr(filters, name)}
    if filters.pii:
        params["pii"] = "true"
    if result.query:
        params["q"] = result.query
    out = {}
    for facet in FACETS:
        links = []
        for value, count in result.facets[facet]:
            on = (getattr(filters, facet) or "").lower() == value.lower()
            chosen = {k: v for k, v in params.items() if k != facet} | ({} if on else {facet: value})
            links.append({"value": value, "count": count, "on": on, "href": "index.html?" + urlencode(chosen)})
        out[facet] = links
    return out


def render_index(
    catalog: Catalog,
    products: list[Product],
    query: str = "",
    filters: Filters | None = None,
    static: bool = False,
    result: SearchResult | None = None,
) -> str:
    """The product list; with a search `result`, its ranking, highlights, typo rewrites and facets."""
    filters = filters or Filters()
    return (
        environment()
        .get_template("index.html")
        .render(
            catalog=catalog,
            products=products,
            query=query,
            filters=filters,
            choices=choices(catalog),
            static=static,
            root="",
            page="products",
            result=result,
            highlights={h.product.id: h.highlights for h in result.hits} if result else {},
            facets=facet_links(result, filters) if result else None,
        )
    )


def render_product(catalog: Catalog, product: Product, static: bool = False) -> str:
    return (
        environment()
        .get_template("product.html")
        .render(catalog=catalog, product=product, static=static, root="../", page="product")
    )


def render_map(catalog: Catalog, static: bool = False) -> str:
    return (
        environment()
        .get_template("map.html")
        .render(catalog=catalog, map=layout(catalog), static=static, root="", page="map")
    )


def render_explorer(catalog: Catalog, example: str) -> str:
    return (
        environment()
        .get_template("graphql.html")
        .render(catalog=catalog, example=example, static=False, root="/", page="graphql")
    )


def port_href(address: str) -> str:
    """The catalog page anchor of a port: `<domain>.<product>.html#port-<port>` ('' if it does not parse)."""
    parsed = PortAddress.try_parse(address)
    return f"{parsed.product_address}.html#port-{parsed.port}" if parsed else ""
