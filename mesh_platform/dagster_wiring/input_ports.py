"""Input ports: how one domain reads another domain's output port.

A consumer declares the port in its descriptor (``inputPorts[].source:
"<domain>.<product>.<port>"``) and reads it in SQL as ``{{ mesh_input('<domain>.<product>.<port>') }}``.
The platform generates the dbt source behind it (publishing/input_sources.py), marked
``meta.mesh_input_port`` and located by the target (the live Parquet snapshot on DuckDB, the
published view on BigQuery).

The translator gives that source the producer's output-port key ``[domain, product, port]``,
so Dagster draws one lineage graph across code locations. Everything a consumer reads is a
published, contract-checked snapshot; internal models of another domain are never read.

A dbt source table marked ``meta: {mesh_product: <product>}`` is a table the domain's own
Python builds (``domains/<domain>/assets.py``); its key is ``[domain, product, table]``.

All of this is checked by the one validation (mesh_platform/mesh/validation.py), which
`mesh validate` and every code location run; each problem names the file and line on both
sides (the consumer's mesh_input() call or descriptor and the producer's descriptor).
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from mesh_platform.mesh.address import PortAddress
from mesh_platform.mesh.dbt_sources import INPUT_PORT_META, PRODUCT_META
from mesh_platform.mesh.domain import Domain
from mesh_platform.publishing import target as targets


def port_key(address: str | PortAddress) -> dg.AssetKey:
    """The asset key of an output port: [domain, product, port]."""
    return _address(address).asset_key


def _address(address: str | PortAddress) -> PortAddress:
    return address if isinstance(address, PortAddress) else PortAddress.parse(address)


def source_meta(node: dict[str, Any]) -> dict[str, Any]:
    return {**(node.get("source_meta") or {}), **(node.get("meta") or {})}


def input_port_of(node: dict[str, Any]) -> str | None:
    """The output port address a dbt source node reads, if it is an input port."""
    value = source_meta(node).get(INPUT_PORT_META)
    return str(value) if value else None


def source_asset_key(domain: Domain, node: dict[str, Any], landing: str) -> dg.AssetKey:
    """Key of a dbt source: a producer's port, a table this domain's Python builds, or landing."""
    address = PortAddress.try_parse(input_port_of(node))
    if address is not None:
        return address.asset_key
    product = source_meta(node).get(PRODUCT_META)
    if product:
        return dg.AssetKey([domain.name, str(product), node["name"]])
    return dg.AssetKey([domain.name, landing, node["name"]])


# --------------------------------------------------------------------------------------
# Run time
# --------------------------------------------------------------------------------------
def unpublished_inputs(ports, product_names: set[str], target=None) -> list[str]:
    """One message per input port of these products (given via their output ports) whose
    producer has not published yet on the run's target (publishing/target.py): its live
    Parquet snapshot on DuckDB, its published view on BigQuery."""
    target = target or targets.current()
    out, seen = [], set()
    for port in ports:
        product = port.product
        if product.name not in product_names or product.name in seen:
            continue
        seen.add(product.name)
        for input_port in product.spec.inputPorts:
            address = PortAddress.parse(input_port.source)
            if not target.is_published(address):
                out.append(
                    f"{product.address}: input port {address} is not "
                    f"published yet ({target.location(address)} does not exist); materialise "
                    f"{address.product_address} first, then re-run this product"
                )
    return out
