"""Turn a domain's Python tables (domains/<domain>/assets.py) into Dagster assets."""

from __future__ import annotations

import dagster as dg

from mesh_platform import settings
from mesh_platform.mesh.address import PortAddress
from mesh_platform.python_tables import ASSETS_FILE, InputNotPublished, ProductContext, ProductTable
from mesh_platform.python_tables import line_of as _line_of
from mesh_platform.specs.loader import Domain


def build_python_assets(domain: Domain, tables: list[ProductTable]) -> list[dg.AssetsDefinition]:
    """One asset per Python table. The tables were validated with the rest of the mesh
    (mesh_platform/mesh/validation.py): each belongs to a product and reads declared input ports."""
    products = {p.name: p for p in domain.products}
    assets = []
    for table in tables:
        product = products[table.product]
        ports = {p.name: PortAddress.parse(p.source) for p in product.spec.inputPorts}
        assets.append(_asset(domain, product, table, {name: ports[name] for name in table.inputs}))
    return assets


def _asset(domain: Domain, product, table: ProductTable, inputs: dict[str, PortAddress]) -> dg.AssetsDefinition:
    key = dg.AssetKey([domain.name, product.name, table.table])

    @dg.asset(
        key=key,
        deps=[address.asset_key for address in inputs.values()],
        group_name=domain.name,
        owners=list(product.team.owners),
        tags={"domain": domain.name, "product": product.name, "layer": "python", "visibility": "internal"},
        kinds=set(table.kinds),
        description=table.description,
        metadata={"mesh/python_table": f"{domain.dir / ASSETS_FILE}:{_line_of(table) or ''}",
                  **{f"mesh/input/{name}": str(address) for name, address in inputs.items()}},
        # Same pool as the domain's dbt models: one writer per domain DuckDB file.
        pool=f"mesh_domain_{domain.name}",
    )
    def _build(context) -> dg.MaterializeResult:  # (no annotation: this module uses postponed annotations)
        settings.warehouse_path(domain.name).parent.mkdir(parents=True, exist_ok=True)
        ctx = ProductContext(
            domain=domain.name, product=product.name, table=table.table, run_id=context.run.run_id,
            log=context.log, warehouse_path=settings.warehouse_path(domain.name),
            input_files={name: (str(address), address.published_file()) for name, address in inputs.items()},
        )
        try:
            metadata = table.fn(ctx) or {}
        except InputNotPublished as exc:  # expected when a consumer runs first: no traceback
            raise dg.Failure(description=str(exc)) from exc
        return dg.MaterializeResult(metadata=metadata)

    return _build

