"""What each read-only MCP tool answers, from the one catalog model the web app and GraphQL read.

Plain functions of a `Catalog` returning JSON-ready dicts; server.py adds the MCP schemas, the
descriptions and the redaction. A bad argument raises `BadArgument`, which a client sees as a
tool error carrying the message. No answer holds rows of data: the catalog has none (check
results carry counts, never failing rows), so no column is ever sampled, and a contract's
declared `examples` are left out for sensitive (restricted, PII, ...) columns.
"""

from __future__ import annotations

from dataclasses import asdict

import dagster as dg
import networkx as nx

from mesh_platform.catalog.build import by_dimension, quality_over
from mesh_platform.catalog.cost import describe_totals
from mesh_platform.catalog.mesh_map import mesh_graph
from mesh_platform.catalog.model import Catalog, Column, Edge, Port, Product
from mesh_platform.catalog.observed import parse_time
from mesh_platform.catalog.search import Filters, run_search
from mesh_platform.specs.contract import SENSITIVE_CLASSIFICATIONS
from mesh_platform.specs.identifiers import check_identifier

NO_RESULTS = "no recorded results"  # never "pass": a check nobody ran has no verdict
PRODUCT_URI = "mesh://products/{}"
CONTRACT_URI = "mesh://contracts/{}"


class BadArgument(ValueError):
    """The caller's mistake, answered as a tool error (never a traceback)."""


def identifier(value: str, what: str) -> str:
    """The mesh's own identifier rule (specs/identifiers.py): no `/`, no `..`, no whitespace."""
    try:
        return check_identifier(value)
    except ValueError as exc:
        raise BadArgument(f"{what}: {exc}") from None


def product_of(catalog: Catalog, product_id: str) -> Product:
    identifier(product_id, "product id")
    product = catalog.get(product_id)
    if product is None:
        known = ", ".join(sorted(p.id for p in catalog.products))
        raise BadArgument(f"no product {product_id!r} (products: {known})")
    return product


def port_of(catalog: Catalog, address: str) -> tuple[Product, Port]:
    identifier(address, "port")
    found = catalog.port(address)
    if found is not None:
        return found
    product = catalog.get(address)
    if product is not None:
        ports = ", ".join(p.address for p in product.ports)
        raise BadArgument(f"{address!r} is a product, not a port: name one of its ports ({ports})")
    known = ", ".join(sorted(p.address for product in catalog.products for p in product.ports))
    raise BadArgument(f"no output port {address!r} (ports: {known})")


def is_sensitive(classification: str | None, tags) -> bool:
    """Restricted, confidential, personal...: what the platform masks in failing-row samples."""
    return (classification or "").lower() in SENSITIVE_CLASSIFICATIONS or bool(
        {str(t).lower() for t in tags or []} & SENSITIVE_CLASSIFICATIONS
    )


def sensitive(column: Column) -> bool:
    return column.pii or is_sensitive(column.classification, column.tags)


def sensitive_props(schema_object: dict) -> list[dict]:
    """The sensitive properties of an ODCS schema object, as written in the contract file."""
    return [p for p in schema_object.get("properties") or [] if is_sensitive(p.get("classification"), p.get("tags"))]


def port_state(port: Port) -> str:
    return port.lifecycle.state if port.lifecycle else (port.contract_status or "unknown")


def summary(product: Product) -> dict:
    return {
        "id": product.id,
        "title": product.title,
        "domain": product.domain,
        "purpose": product.purpose,
        "owner_team": product.owner_team,
        "status": product.status,
        "state": (product.lifecycle or {}).get("state", product.status),
        "tags": product.tags,
        "pii": product.pii,
        "health": product.health.overall,
        "ports": [{"address": p.address, "state": port_state(p)} for p in product.ports],
        "resource": PRODUCT_URI.format(product.id),
    }


def search_products(catalog: Catalog, query: str, domain: str | None, state: str | None) -> dict:
    for value, what in ((domain, "domain"), (state, "state")):
        if value:
            identifier(value, what)
    found = run_search(catalog, query, Filters(domain=domain or None, state=state or None))
    return {
        "query": found.query,
        "read_as": found.rewrites,  # typo tolerance: query words read as indexed words
        "count": len(found.hits),
        "products": [
            {**summary(hit.product), "matched_in": sorted(hit.highlights)}
            if found.query.strip()
            else summary(hit.product)
            for hit in found.hits
        ],
    }


def _quality(port: Port) -> list[dict] | str:
    return [asdict(q) for q in port.quality] or NO_RESULTS


def get_product(catalog: Catalog, product_id: str) -> dict:
    product = product_of(catalog, product_id)
    return {
        **summary(product),
        "usage": product.usage,
        "limitations": product.limitations,
        "version": product.version,
        "lifecycle": product.lifecycle,
        "archetype": product.archetype,
        "maturity": product.maturity,
        "quality_level": product.quality_level,
        "tier": product.tier,
        "owners": product.owners,
        "support": product.support,
        "schedule": product.schedule,
        "health": asdict(product.health),
        "ports": [
            {
                "address": port.address,
                "description": port.description,
                "state": port_state(port),
                "lifecycle": asdict(port.lifecycle) if port.lifecycle else None,
                "contract": {"id": port.contract_id, "version": port.contract_version, "status": port.contract_status},
                "contract_resource": CONTRACT_URI.format(port.address),
                "sla": asdict(port.sla),
                "freshness": asdict(port.freshness),
                "contract_checks": port.contract_state,
                "quality_by_dimension": _quality(port),
                "rows": port.rows,
                "last_published_at": port.last_published_at,
            }
            for port in product.ports
        ],
        "reads": product.inputs,
        "consumers": [asdict(c) for c in product.consumers],
        "cost": {"monthly": describe_totals(product.cost), **asdict(product.cost)},
        "dagster_url": product.dagster_url,
    }


def _column(column: Column) -> dict:
    out = asdict(column)
    out["sensitive"] = sensitive(column)
    if out["sensitive"]:
        out["constraints"] = [c for c in column.constraints if not c.startswith("examples:")]
    return out


def get_contract(catalog: Catalog, address: str) -> dict:
    product, port = port_of(catalog, address)
    return {
        "port": port.address,
        "product": product.id,
        "description": port.description,
        "contract": {
            "id": port.contract_id,
            "version": port.contract_version,
            "status": port.contract_status,
            "file": port.contract_file,
            "resource": CONTRACT_URI.format(port.address),
        },
        "state": port_state(port),
        "lifecycle": asdict(port.lifecycle) if port.lifecycle else None,
        "terms": asdict(port.terms),
        "sla": asdict(port.sla),
        "schema": [_column(c) for c in port.columns],
        "pii_columns": [c.name for c in port.columns if c.pii],
        "classified_columns": {c.name: c.classification for c in port.columns if c.classification},
    }


def _edge(catalog: Catalog, edge: Edge) -> dict:
    """An edge with the producer port's columns its consumer's SQL reads, where the mesh knows."""
    out = {k: v for k, v in asdict(edge).items() if k != "port_lifecycle"}
    found = catalog.port(edge.port)
    columns = found[1].columns if found else []
    read = [c.name for c in columns if edge.consumer in c.read_by]
    unseen = any(edge.consumer in c.maybe_read_by for c in columns)
    out["columns_read"] = read if read and not unseen else "not known (the consumer's reads are not analysed)"
    return out


def get_lineage(catalog: Catalog, product_id: str) -> dict:
    """The same graph as GraphQL's productLineage: upstream and downstream, transitively."""
    product = product_of(catalog, product_id)
    graph = mesh_graph(catalog)
    up, down = nx.ancestors(graph, product.id), nx.descendants(graph, product.id)
    members = up | down | {product.id}
    return {
        "product": product.id,
        "upstream": [summary(catalog.get(i)) for i in sorted(up)],
        "downstream": [summary(catalog.get(i)) for i in sorted(down)],
        "edges": [_edge(catalog, e) for e in catalog.edges if e.producer in members and e.consumer in members],
    }


def get_quality(instance: dg.DagsterInstance, catalog: Catalog, product_id: str, since: str | None) -> dict:
    product = product_of(catalog, product_id)
    try:
        after = parse_time(since)
    except ValueError as exc:
        raise BadArgument(f"since: {exc}") from None
    ports = []
    for port, results in quality_over(instance, catalog, product.id, after, None):
        latest = {r.check: r for r in results}
        ports.append(
            {
                "port": port.address,
                "declared_checks": port.declared_checks,
                "results": [{**asdict(r), "state": r.state} for r in results] or NO_RESULTS,
                "latest_by_dimension": [asdict(q) for q in by_dimension(sorted(latest.values(), key=lambda r: r.check))]
                or NO_RESULTS,
            }
        )
    return {"product": product.id, "since": since, "ports": ports}


def list_agreements(catalog: Catalog, product_id: str | None) -> dict:
    wanted = product_of(catalog, product_id).id if product_id else None
    return {
        "product": wanted,
        "agreements": [
            asdict(e)
            for e in catalog.edges
            if e.kind == "agreement" and (wanted is None or wanted in (e.consumer, e.producer))
        ],
    }
