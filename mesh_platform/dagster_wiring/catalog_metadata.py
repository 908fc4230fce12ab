"""Catalog metadata for an output port: contract terms, SLA, product facts, column schema.

This is what a consumer reads in the Dagster UI before depending on a product.
"""

from __future__ import annotations

import os
import re
from typing import Any

import dagster as dg

from mesh_platform import settings
from mesh_platform.mesh.domain import Port
from mesh_platform.publishing.target import DuckDBTarget
from mesh_platform.specs.durations import format_duration


def port_metadata(port: Port) -> dict[str, Any]:
    contract = port.contract
    product = port.product
    sla = contract.sla()
    meta: dict[str, Any] = {
        "mesh/output_port": str(port.address),
        "contract/id": contract.id,
        "contract/version": contract.version,
        "contract/status": contract.model.status or "",
        "contract/owner": contract.owner or product.team.name,
        "contract/contact": contract.contact or (product.team.contact or ""),
        "contract/usage": contract.usage or product.spec.description.usage or "",
        "contract/limitations": contract.limitations or product.spec.description.limitations or "",
        "contract/billing": contract.billing or "",
        "contract/notice_period": contract.notice_period or "",
        "contract/file": dg.MetadataValue.path(settings.repo_relative(contract.file)),
        "sla/freshness": format_duration(sla.freshness) if sla.freshness else "",
        "sla/freshness_warn": format_duration(sla.freshness_warn) if sla.freshness_warn else "",
        "sla/frequency": sla.frequency_cron or "",
        "product/id": product.spec.id,
        "product/version": product.spec.version,
        "product/status": product.spec.status,
        "product/archetype": str(product.spec.custom("archetype")),
        "product/maturity": str(product.spec.custom("maturity", "")),
        "product/quality_level": str(product.spec.custom("qualityLevel", "")),
        "product/tier": str(product.spec.custom("tier", "")),
        "product/owner_team": product.team.name,
        "dagster/column_schema": column_schema(port),
        "mesh/catalog": dg.MetadataValue.url(catalog_url(port)),
    }
    if product.partitioning is not None:  # only then, so unpartitioned catalogs stay as they are
        p = product.partitioning
        meta["product/partitioning"] = (
            f"{'daily' if p.granularity == 'day' else p.granularity} on {p.column} "
            f"from {p.start}" + (f" to {p.end} (exclusive)" if p.end else "")
        )
        # where the DuckDB target publishes it, shown relative to the data dir (machine-independent)
        glob = DuckDBTarget().read_path(port.address, partitioned=True).relative_to(settings.data_dir())
        meta["product/published_read"] = f"read_parquet('<MESH_DATA_DIR>/{glob.as_posix()}')"
    if sla.deadline:  # the daily-deadline SLA form (only then, so other catalogs stay as they are)
        meta["sla/deadline"] = sla.describe_deadline()
    return meta


def catalog_url(port: Port) -> str:
    """The port's section on its product's catalog page (`mesh catalog serve`, MESH_CATALOG_URL)."""
    base = os.environ.get("MESH_CATALOG_URL", "http://127.0.0.1:3001").rstrip("/")
    return f"{base}/products/{port.product.address}.html#port-{port.name}"


def column_schema(port: Port) -> dg.TableSchema:
    obj = port.schema
    pk = {p.physicalName or p.name for p in obj.properties or [] if p.primaryKey}
    columns = []
    for prop in obj.properties or []:
        name = prop.physicalName or prop.name
        other = []
        if name in pk:
            other.append("primary key")
        if prop.classification:
            other.append(f"classification: {prop.classification}")
        for option, value in (prop.logicalTypeOptions or {}).items():
            other.append(f"{option}: {value}")
        columns.append(
            dg.TableColumn(
                name=name,
                type=prop.physicalType or prop.logicalType or "unknown",
                description=prop.description,
                constraints=dg.TableColumnConstraints(
                    nullable=not (prop.required or name in pk),
                    unique=bool(prop.unique or (name in pk and len(pk) == 1)),
                    other=other,
                ),
                tags={"classification": prop.classification} if prop.classification else {},
            )
        )
    return dg.TableSchema(columns=columns)


def tag_value(value: Any) -> str:
    """Dagster tag values: at most 63 characters of [A-Za-z0-9_.-]."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(value))[:63]
