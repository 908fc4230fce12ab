"""Which product each dbt model belongs to, from the manifest's lineage.

A model feeds a product when the product's output port model depends on it. A model
fed into more than one product (or none) is the domain's shared internals.

A product may build on another product of the same domain by ref()-ing that product's
output port model: the walk stops there, so the port and everything behind it stay the
other product's (and the other product's schedule still builds them).
"""

from __future__ import annotations

from typing import Any

SHARED = "shared"


def model_nodes(manifest: dict[str, Any], project_name: str) -> dict[str, dict[str, Any]]:
    return {
        uid: node for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot") and node["package_name"] == project_name
    }


def model_by_name(manifest: dict[str, Any], project_name: str) -> dict[str, str]:
    return {node["name"]: uid for uid, node in model_nodes(manifest, project_name).items()}


def product_of_models(manifest: dict[str, Any], project_name: str,
                      port_models: dict[str, str]) -> dict[str, str]:
    """unique_id -> product name, given {port model name: product name}."""
    models = model_nodes(manifest, project_name)
    by_name = {node["name"]: uid for uid, node in models.items()}
    owners: dict[str, set[str]] = {uid: set() for uid in models}
    port_product = {by_name[m]: p for m, p in port_models.items() if m in by_name}
    for model_name, product in port_models.items():
        stack = [by_name[model_name]] if model_name in by_name else []
        while stack:
            uid = stack.pop()
            if uid not in models or product in owners[uid]:
                continue
            if port_product.get(uid, product) != product:
                continue  # another product's output port: that product's, not ours
            owners[uid].add(product)
            stack.extend(models[uid]["depends_on"]["nodes"])
    return {uid: next(iter(p)) if len(p) == 1 else SHARED for uid, p in owners.items()}
