"""HTML pages from the catalog (Jinja2): the same templates serve the web app and the static site."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from mesh_platform.catalog.cost import describe_totals, money
from mesh_platform.catalog.mesh_map import COLOURS, layout
from mesh_platform.catalog.model import Catalog, Product
from mesh_platform.catalog.search import Filters

FILTER_FIELDS = ("domain", "owner", "tag", "status", "archetype", "classification")


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("mesh_platform.catalog", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["bytes"] = human_bytes
    env.filters["money"] = money
    env.filters["cost_total"] = describe_totals
    env.filters["seconds"] = lambda s: f"{s / 60:.1f} min" if s >= 120 else f"{s:.1f} s"
    env.globals["colours"] = COLOURS
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
    }


def render_index(catalog: Catalog, products: list[Product], query: str = "", filters: Filters | None = None,
                 static: bool = False) -> str:
    return environment().get_template("index.html").render(
        catalog=catalog, products=products, query=query, filters=filters or Filters(), choices=choices(catalog),
        static=static, root="", page="products")


def render_product(catalog: Catalog, product: Product, static: bool = False) -> str:
    return environment().get_template("product.html").render(
        catalog=catalog, product=product, static=static, root="../", page="product")


def render_map(catalog: Catalog, static: bool = False) -> str:
    return environment().get_template("map.html").render(
        catalog=catalog, map=layout(catalog), static=static, root="", page="map")
