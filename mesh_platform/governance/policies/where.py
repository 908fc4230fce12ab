"""file:line for the parts of a port that policies talk about."""

from __future__ import annotations

from mesh_platform.governance.model import Finding


def port_finding(port, message: str, *path) -> Finding:
    """A finding in the port's contract, at `path` under the port's schema object (or the
    contract's top level when the path starts with a top-level field)."""
    contract = port.contract
    if path and path[0] in (
        "slaProperties",
        "team",
        "support",
        "id",
        "version",
        "apiVersion",
        "description",
        "customProperties",
        "status",
        "price",
    ):
        full = tuple(path)
    else:
        index = contract.schema_index(port.model)
        if index is None:
            index = contract.schema_index(port.name)
        full = ("schema", index, *path)
    return Finding(
        message, contract.file, contract.doc.line_of(full), port.product.domain_name, port.product.name, port.name
    )


def column_finding(port, column_index: int, message: str, *path) -> Finding:
    return port_finding(port, message, "properties", column_index, *path)


def product_finding(product, message: str, *path) -> Finding:
    return Finding(message, product.file, product.doc.line_of(tuple(path)), product.domain_name, product.name)


def descriptor_port_finding(port, message: str, *path) -> Finding:
    product = port.product
    return Finding(
        message,
        product.file,
        product.doc.line_of(("outputPorts", port.index, *path)),
        product.domain_name,
        product.name,
        port.name,
    )


def columns(port):
    """(index, property, column name) of the port's schema object."""
    return [(i, p, p.physicalName or p.name) for i, p in enumerate(port.schema.properties or [])]
