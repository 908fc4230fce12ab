"""One model of the whole mesh (domains, products, ports, contracts, who reads what),
the PortAddress value that names a port, and the one validation over it."""

from mesh_platform.mesh.address import PortAddress
from mesh_platform.mesh.model import DbtSource, Edge, Mesh
from mesh_platform.mesh.validation import check_domain, validate, validate_domain

__all__ = ["PortAddress", "Mesh", "Edge", "DbtSource", "validate", "validate_domain", "check_domain"]
