"""A domain's operational landing tables as external assets of that domain.

dbt sources that are neither another domain's output port nor a table the domain's Python
builds are the domain's operational data (``[domain, 'landing', table]``). Declaring them as
external assets, with the source's description, the domain's owners and kinds, means the
lineage graph shows where each product starts instead of dangling stubs.
"""

from __future__ import annotations

import re

import dagster as dg

from mesh_platform import settings
from mesh_platform.dagster_wiring.catalog_metadata import tag_value
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.model import PRODUCT_META
from mesh_platform.specs.loader import Domain

LANDING = "landing"


def landing_assets(mesh: Mesh, domain: Domain) -> list[dg.AssetsDefinition]:
    """One external (not materialisable) asset per landing table."""
    specs = []
    for source in mesh.dbt_sources(domain.name):
        meta = source.meta
        if source.input_port or meta.get(PRODUCT_META):
            continue
        location = _portable(str(meta.get("external_location", "")))
        node = source.node
        specs.append(
            dg.AssetSpec(
                key=dg.AssetKey([domain.name, LANDING, node["name"]]),
                description=node.get("description") or f"Operational data of domain {domain.name}: {source.name}",
                group_name=domain.name,
                owners=list(domain.spec.team.owners),
                kinds={"parquet"} if "parquet" in location else {"source"},
                tags={"domain": domain.name, "visibility": "internal", "layer": tag_value(LANDING)},
                metadata={
                    "dbt/source": source.name,
                    "mesh/defined_in": dg.MetadataValue.path(
                        f"{settings.repo_relative(source.file)}:{source.line or ''}"
                    ),
                    **({"mesh/location": dg.MetadataValue.text(location)} if location else {}),
                },
            )
        )
    return [dg.AssetsDefinition(specs=[spec]) for spec in specs]


def _portable(location: str) -> str:
    """The manifest holds MESH_DATA_DIR as it was when dbt parsed (another clone's, a test's
    temporary folder): show the platform's placeholder instead, as `product/published_read` does."""
    return re.sub(rf"(['\"])[^'\"]*?/{LANDING}/", rf"\1<MESH_DATA_DIR>/{LANDING}/", location)
