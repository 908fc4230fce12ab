"""Write-audit-publish on DuckDB: audit a built relation of the domain's DuckDB file against
its contract, then publish it as a Parquet snapshot (publishing/snapshots.py) only if it passed.

Runs after dbt has exited, so reading the domain's DuckDB file never competes with
dbt's writer.
"""

from __future__ import annotations

from pathlib import Path

import ibis

from mesh_platform import settings
from mesh_platform.contracts.explain import masked_columns
from mesh_platform.contracts.measure import duckdb_config
from mesh_platform.contracts.model import CheckSpec
from mesh_platform.contracts.runner import run_checks
from mesh_platform.publishing.audit import AuditResult
from mesh_platform.publishing.snapshots import publish_relation
from mesh_platform.specs.loader import Port


def audit_and_publish(port: Port, specs: list[CheckSpec], schema: str, relation: str,
                      run_id: str, database_path: Path | None = None, publish: bool = True) -> AuditResult:
    database_path = database_path or settings.warehouse_path(port.product.domain_name)
    con = ibis.duckdb.connect(str(database_path), read_only=True, **duckdb_config())
    try:
        table = con.table(relation, database=schema)
        outcomes = run_checks(specs, table, masked_columns(port.schema))
        result = AuditResult(port=port, outcomes=outcomes, published=None)
        if publish and not result.blocked_by:
            port_dir = settings.published_dir(port.product.domain_name, port.product.name, port.name)
            result.published = publish_relation(con.con, f'"{schema}"."{relation}"', port_dir, run_id)
        return result
    finally:
        con.disconnect()
