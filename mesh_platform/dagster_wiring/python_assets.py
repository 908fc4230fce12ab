"""Turn a domain's Python tables (domains/<domain>/assets.py) into Dagster assets."""

from __future__ import annotations

import traceback

import dagster as dg

from mesh_platform import settings
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.contracts.model import masked_columns
from mesh_platform.mesh.address import PortAddress
from mesh_platform.mesh.domain import Domain
from mesh_platform.publishing import target as targets
from mesh_platform.publishing.audit import AuditFailed
from mesh_platform.python_tables import ASSETS_FILE, InputNotPublished, ProductContext, ProductTable
from mesh_platform.python_tables import line_of as _line_of
from mesh_platform.redaction import RedactingLog, redact, redact_value


def build_python_assets(domain: Domain, tables: list[ProductTable]) -> list[dg.AssetsDefinition]:
    """One asset per Python table. The tables were validated with the rest of the mesh
    (mesh_platform/mesh/validation.py): each belongs to a product and reads declared input ports."""
    products = {p.name: p for p in domain.products}
    assets = []
    for table in tables:
        product = products[table.product]
        ports = {p.name: PortAddress.parse(p.source) for p in product.spec.inputPorts}
        audit_port = next((p for p in product.ports if p.name == table.audited_by), None) if table.audited_by else None
        assets.append(_asset(domain, product, table, {name: ports[name] for name in table.inputs}, audit_port))
    return assets


def _asset(
    domain: Domain, product, table: ProductTable, inputs: dict[str, PortAddress], audit_port=None
) -> dg.AssetsDefinition:
    key = dg.AssetKey([domain.name, product.name, table.table])
    audit_specs = compile_contract(audit_port.contract, audit_port.model) if audit_port else []
    masked = masked_columns(audit_port.schema) if audit_port else set()

    @dg.asset(
        key=key,
        deps=[address.asset_key for address in inputs.values()],
        group_name=domain.name,
        owners=list(product.team.owners),
        tags={"domain": domain.name, "product": product.name, "layer": "python", "visibility": "internal"},
        kinds={*table.kinds, targets.current().name},  # python + duckdb / bigquery
        description=table.description,
        metadata={
            "mesh/python_table": f"{settings.repo_relative(domain.dir / ASSETS_FILE)}:{_line_of(table) or ''}",
            **{f"mesh/input/{name}": str(address) for name, address in inputs.items()},
        },
        # Same pool as the domain's dbt models: one writer per domain DuckDB file.
        pool=f"mesh_domain_{domain.name}",
    )
    def _build(context) -> dg.MaterializeResult:  # (no annotation: this module uses postponed annotations)
        target = targets.current()  # DuckDB in dev, BigQuery under MESH_TARGET=prod
        target.prepare(domain.name)
        log = RedactingLog(context.log)  # domain code logs URLs and errors; secrets never land
        ctx = ProductContext(
            domain=domain.name,
            product=product.name,
            table=table.table,
            run_id=context.run.run_id,
            log=log,
            inputs=dict(inputs),
            target=target,
            audit_specs=audit_specs,
            masked=masked,
        )
        try:
            with target.writer(domain.name, context.run.run_id, log=log.warning):
                metadata = table.fn(ctx) or {}
        except (InputNotPublished, AuditFailed) as exc:  # expected failures: no traceback
            raise dg.Failure(description=redact(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - the domain's error, without secrets it may quote
            log.error(traceback.format_exc())
            raise dg.Failure(description=redact(f"{type(exc).__name__}: {exc}")) from None
        return dg.MaterializeResult(metadata=redact_value(metadata))

    return _build
