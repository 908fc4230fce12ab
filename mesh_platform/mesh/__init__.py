"""One model of the whole mesh (domains, products, ports, contracts, who reads what),
the PortAddress value that names a port, and the one validation over it."""

from mesh_platform.mesh.address import PortAddress, ProductAddress
from mesh_platform.mesh.dbt_sources import DbtSource
from mesh_platform.mesh.domain import Domain, Port, Product, load_domain
from mesh_platform.mesh.edge import Edge
from mesh_platform.mesh.model import Mesh
from mesh_platform.mesh.validation import check_domain, validate, validate_domain

__all__ = [
    "PortAddress",
    "ProductAddress",
    "Mesh",
    "Domain",
    "Product",
    "Port",
    "Edge",
    "DbtSource",
    "load_domain",
    "validate",
    "validate_domain",
    "check_domain",
]
