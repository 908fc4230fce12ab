"""Scaffolding: start a domain or a product from what works (`mesh new domain|product`).

A new domain gets domain.yaml, definitions.py, a dbt project with dev (DuckDB) and prod
(BigQuery) profiles, and its workspace.yaml entry (domain.py). A new product built from
existing output ports gets its descriptor, a contract derived from theirs, dbt sources,
staging models and a mart from a template, and a usage-agreement request per input port
(product.py). The files' frames are templates/ (Jinja2).
"""

from mesh_platform.scaffold.domain import new_domain
from mesh_platform.scaffold.files import Scaffold, ScaffoldError
from mesh_platform.scaffold.marts import TEMPLATES
from mesh_platform.scaffold.product import new_product

__all__ = ["TEMPLATES", "Scaffold", "ScaffoldError", "new_domain", "new_product"]
