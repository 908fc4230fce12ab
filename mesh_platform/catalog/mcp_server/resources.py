"""The MCP resources: each product's descriptor (`mesh://products/<id>`) and each output port's
ODCS contract (`mesh://contracts/<port address>`), as the owning team wrote them.

The files are the ones the catalog names (`Product.descriptor`, `Port.contract_file`), read
from the repository, redacted; a contract's `examples` of sensitive columns are left out.
"""

from __future__ import annotations

from pathlib import Path

from mesh_platform import settings
from mesh_platform.catalog.mcp_server.answers import CONTRACT_URI, PRODUCT_URI, port_of, product_of, sensitive_props
from mesh_platform.catalog.model import Catalog
from mesh_platform.lifecycle import yaml_edit
from mesh_platform.redaction import redact
from mesh_platform.safe_paths import inside

YAML = "application/yaml"


def listing(catalog: Catalog) -> list[dict]:
    """Every resource of the catalog: name, title, description and URI of each."""
    out = []
    for product in catalog.products:
        out.append(
            {
                "uri": PRODUCT_URI.format(product.id),
                "name": product.id,
                "title": f"{product.title}: product descriptor (ODPS)",
                "description": product.purpose,
            }
        )
        for port in product.ports:
            out.append(
                {
                    "uri": CONTRACT_URI.format(port.address),
                    "name": port.address,
                    "title": f"{port.address}: data contract {port.contract_id} v{port.contract_version} (ODCS)",
                    "description": port.description,
                }
            )
    return out


def _file(relative: str) -> Path:
    return inside(settings.repo_root(), relative)


def descriptor_text(catalog: Catalog, product_id: str) -> str:
    return redact(_file(product_of(catalog, product_id).descriptor).read_text(encoding="utf-8"))


def contract_text(catalog: Catalog, address: str) -> str:
    """The contract file; re-dumped (comments kept) only when a sensitive column declares examples."""
    _, port = port_of(catalog, address)
    file = _file(port.contract_file)
    data = yaml_edit.load(file)
    stripped = False
    for obj in data.get("schema") or []:
        for prop in sensitive_props(obj):
            if "examples" in prop:
                del prop["examples"]
                stripped = True
    return redact(yaml_edit.dump(data) if stripped else file.read_text(encoding="utf-8"))
