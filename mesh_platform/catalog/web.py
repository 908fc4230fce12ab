"""`mesh catalog serve`: the catalog as a web app (Starlette + Jinja2, served by uvicorn).

Pages: `/` (product list with search, facets and filters), `/products/<id>.html`, `/map.html`;
an unknown address gets a 404 page like the others (JSON under `/api/`).
Discovery API: `/graphql` (Strawberry; in a browser, the catalog's own explorer, which loads
nothing from another host) and JSON endpoints for scripts:
`/api/products?q=&domain=&owner=&tag=&status=&archetype=&classification=&pii=&state=&tier=&quality=`,
`/api/search?q=...` (the same, with ranks, highlights, typo rewrites and facet counts),
`/api/products/<id>`, `/api/products/<id>/quality?start=&end=`, `/api/edges`.
The catalog is rebuilt from the instance at most every `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from importlib import resources

import dagster as dg
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

from mesh_platform.catalog import graphql_api, pages
from mesh_platform.catalog.build import build_catalog, quality_over
from mesh_platform.catalog.model import Catalog
from mesh_platform.catalog.observed import parse_time
from mesh_platform.catalog.search import Filters, run_search
from mesh_platform.runtime.instance import open_instance


class CatalogCache:
    """One catalog shared by requests, rebuilt when older than `ttl` seconds."""

    def __init__(self, ttl: float = 10.0, instance: dg.DagsterInstance | None = None):
        self.ttl = ttl
        self._instance = instance
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._built = 0.0

    def instance(self) -> dg.DagsterInstance:
        if self._instance is None:
            self._instance = open_instance()
        return self._instance

    def __call__(self) -> Catalog:
        with self._lock:
            if self._catalog is None or time.monotonic() - self._built > self.ttl:
                self._catalog = build_catalog(self.instance())
                self._built = time.monotonic()
            return self._catalog

    def invalidate(self) -> None:
        """The next read rebuilds: after a write to the mesh's files (an agreement request)."""
        with self._lock:
            self._catalog = None


def filters_from(params) -> Filters:
    pii = params.get("pii")
    return Filters(
        **{name: params.get(name) or None for name in pages.FILTER_FIELDS},
        pii=None if pii in (None, "") else pii.lower() in ("1", "true", "yes", "on"),
    )


class _GraphQL(GraphQL):
    def __init__(self, cache: CatalogCache):
        super().__init__(graphql_api.schema)
        self.cache = cache

    async def get_context(self, request, response):
        return {"catalog": self.cache, "instance": self.cache.instance, "request": request}

    async def render_graphql_ide(self, request):
        """The catalog's explorer instead of GraphiQL, whose scripts come from a CDN."""
        catalog = self.cache()
        return HTMLResponse(pages.render_explorer(catalog, graphql_api.example(catalog)))


def create_app(ttl: float = 10.0, instance: dg.DagsterInstance | None = None) -> Starlette:
    cache = CatalogCache(ttl, instance)

    def product_or_404(product_id: str):
        product_id = product_id.removesuffix(".html")
        product = cache().get(product_id)
        if product is None:
            raise HTTPException(404, f"no product {product_id!r}")
        return product

    def index(request: Request):
        catalog = cache()
        query = request.query_params.get("q", "")
        filters = filters_from(request.query_params)
        result = run_search(catalog, query, filters)
        return HTMLResponse(pages.render_index(catalog, result.products, query, filters, result=result))

    def product_page(request: Request):
        return HTMLResponse(pages.render_product(cache(), product_or_404(request.path_params["product_id"])))

    def map_page(request: Request):
        return HTMLResponse(pages.render_map(cache()))

    def api_products(request: Request):
        found = run_search(cache(), request.query_params.get("q", ""), filters_from(request.query_params))
        return JSONResponse([p.to_dict() for p in found.products])

    def api_search(request: Request):
        found = run_search(cache(), request.query_params.get("q", ""), filters_from(request.query_params))
        return JSONResponse(
            {
                "query": found.query,
                "rewrites": found.rewrites,
                "facets": {k: dict(v) for k, v in found.facets.items()},
                "hits": [
                    {"id": h.product.id, "title": h.product.title, "rank": h.rank, "highlights": h.highlights}
                    for h in found.hits
                ],
            }
        )

    async def not_found(request: Request, exc: HTTPException):
        """A 404 page like the others for people, JSON for scripts; other errors as Starlette has them."""
        detail = exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else f"nothing at {request.url.path}"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": detail}, status_code=exc.status_code)
        if exc.status_code != 404:
            return HTMLResponse(str(detail), status_code=exc.status_code)
        # without the catalog: a wrong address costs no rebuild and works while the mesh is broken
        return HTMLResponse(pages.render_not_found(None, detail), status_code=404)

    def api_product(request: Request):
        return JSONResponse(product_or_404(request.path_params["product_id"]).to_dict())

    def api_quality(request: Request):
        product = product_or_404(request.path_params["product_id"])
        try:
            after, before = parse_time(request.query_params.get("start")), parse_time(request.query_params.get("end"))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        return JSONResponse(
            [
                {"port": port.address, "checks": [asdict(r) for r in results]}
                for port, results in quality_over(cache.instance(), cache(), product.id, after, before)
            ]
        )

    def api_edges(request: Request):
        return JSONResponse([asdict(e) for e in cache().edges])

    static_dir = str(resources.files("mesh_platform.catalog").joinpath("static"))
    return Starlette(
        routes=[
            Route("/", index),
            Route("/index.html", index),
            Route("/map", lambda r: RedirectResponse("/map.html")),
            Route("/map.html", map_page),
            Route("/products/{product_id}", product_page),
            Route("/api/products", api_products),
            Route("/api/search", api_search),
            Route("/api/products/{product_id}", api_product),
            Route("/api/products/{product_id}/quality", api_quality),
            Route("/api/edges", api_edges),
            Route("/graphql", _GraphQL(cache), methods=["GET", "POST"]),
            Mount("/static", StaticFiles(directory=static_dir), name="static"),
        ],
        exception_handlers={HTTPException: not_found},
    )
