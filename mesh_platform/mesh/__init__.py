"""One model of the whole mesh (domains, products, ports, contracts, who reads what, usage
agreements), the address values that name ports and products, and the mesh's own checks
(the one validation that composes them with the other checkers is mesh_platform/validation.py)."""

from mesh_platform.mesh.address import PortAddress, ProductAddress
from mesh_platform.mesh.dbt_sources import DbtSource
from mesh_platform.mesh.domain import Domain, Port, Product, load_domain
from mesh_platform.mesh.edge import Edge
from mesh_platform.mesh.model import Mesh

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
]
