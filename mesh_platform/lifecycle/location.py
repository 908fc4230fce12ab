"""What of a domain its code location shows: everything but retired products and ports.

A retired port has no asset, check, job or schedule; its dbt model is excluded from the
domain's dbt build (a retired product's whole lineage is), so nothing rebuilds it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mesh_platform.lifecycle.states import RETIRED, port_lifecycle, product_lifecycle
from mesh_platform.mesh.dbt_lineage import model_nodes, product_of_models
from mesh_platform.mesh.domain import Domain


def live_domain(domain: Domain) -> Domain:
    """A copy of the domain without retired products and ports (the loaded files are shared)."""
    products = []
    for product in domain.products:
        if product_lifecycle(product).state == RETIRED:
            continue
        ports = [port for port in product.ports if port_lifecycle(port).state != RETIRED]
        if not ports:
            continue
        live = dataclasses.replace(product, ports=ports)
        products.append(live)
    return dataclasses.replace(domain, products=products)


def retired_models(domain: Domain, manifest: dict[str, Any], project_name: str) -> list[str]:
    """dbt model names of retired ports, and every model only a retired product builds."""
    retired_ports = [port for port in domain.ports() if port_lifecycle(port).state == RETIRED]
    retired_products = {
        p.name
        for p in domain.products
        if product_lifecycle(p).state == RETIRED or all(port_lifecycle(port).state == RETIRED for port in p.ports)
    }
    names = {port.model for port in retired_ports}
    if retired_products:
        owners = product_of_models(manifest, project_name, {p.model: p.product.name for p in domain.ports()})
        nodes = model_nodes(manifest, project_name)
        names |= {nodes[uid]["name"] for uid, product in owners.items() if product in retired_products}
    return sorted(names)


def dbt_exclude(models: list[str]) -> str:
    return " ".join(models)
