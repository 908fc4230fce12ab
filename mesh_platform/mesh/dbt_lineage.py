"""Which product each dbt model belongs to, and which other products' ports a product reads,
from the manifest's lineage: the same walk gives the Dagster keys (the translator) and the
Mesh's same-domain edges (the catalog), so both draw one graph.

A model feeds a product when the product's output port model depends on it. A model
fed into more than one product (or none) is the domain's shared internals.

A product may build on another product of the same domain by ref()-ing that product's
output port model: the walk stops there, so the port and everything behind it stay the
other product's (and the other product's schedule still builds them), and the product
reads that port: an edge between the two products.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SHARED = "shared"


def model_nodes(manifest: dict[str, Any], project_name: str) -> dict[str, dict[str, Any]]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot") and node["package_name"] == project_name
    }


def model_by_name(manifest: dict[str, Any], project_name: str) -> dict[str, str]:
    return {node["name"]: uid for uid, node in model_nodes(manifest, project_name).items()}


@dataclass
class ProductLineage:
    owner: dict[str, str]  # unique_id -> product name (or SHARED)
    # product -> another product's port model (unique_id) -> the product's models that ref() it
    reads: dict[str, dict[str, set[str]]] = field(default_factory=dict)


def product_lineage(manifest: dict[str, Any], project_name: str, port_models: dict[str, str]) -> ProductLineage:
    """Walk back from each product's port models, given {port model name: product name}."""
    models = model_nodes(manifest, project_name)
    by_name = {node["name"]: uid for uid, node in models.items()}
    owners: dict[str, set[str]] = {uid: set() for uid in models}
    port_product = {by_name[m]: p for m, p in port_models.items() if m in by_name}
    reads: dict[str, dict[str, set[str]]] = {}
    for model_name, product in port_models.items():
        stack = [(by_name[model_name], None)] if model_name in by_name else []
        while stack:
            uid, child = stack.pop()
            if uid not in models:
                continue
            if port_product.get(uid, product) != product:  # another product's output port
                reads.setdefault(product, {}).setdefault(uid, set()).add(child)
                continue
            if product in owners[uid]:
                continue
            owners[uid].add(product)
            stack.extend((dep, uid) for dep in (models[uid].get("depends_on") or {}).get("nodes", []))
    owner = {uid: next(iter(p)) if len(p) == 1 else SHARED for uid, p in owners.items()}
    return ProductLineage(owner, reads)


def product_of_models(manifest: dict[str, Any], project_name: str, port_models: dict[str, str]) -> dict[str, str]:
    """unique_id -> product name, given {port model name: product name}."""
    return product_lineage(manifest, project_name, port_models).owner
