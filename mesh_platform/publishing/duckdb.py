"""Write-audit-publish on DuckDB: audit a built relation of the domain's DuckDB file against
its contract, then publish it as a Parquet snapshot (publishing/snapshots.py) only if it passed.

Runs after dbt has exited, so reading the domain's DuckDB file never competes with
dbt's writer. A partitioned port is audited on the run's partitions (contracts/partition_scope)
and publishes only those partitions (publishing/partitioned).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from mesh_platform import settings
from mesh_platform.contracts.explain import masked_columns
from mesh_platform.contracts.measure import duckdb_config
from mesh_platform.contracts.model import CheckSpec
from mesh_platform.contracts.partition_scope import run_partition_checks
from mesh_platform.contracts.runner import run_checks
from mesh_platform.publishing.audit import AuditResult
from mesh_platform.publishing.partitioned import publish_partitions
from mesh_platform.publishing.snapshots import publish_relation

if TYPE_CHECKING:  # imported when a run audits, not when a code location loads
    from mesh_platform.mesh.domain import Port


def audit_and_publish(
    port: Port,
    specs: list[CheckSpec],
    schema: str,
    relation: str,
    run_id: str,
    port_dir: Path,
    database_path: Path | None = None,
    publish: bool = True,
    window: tuple | None = None,
) -> AuditResult:
    """`port_dir`: where the target publishes the port (target.DuckDBTarget.port_dir). `window`
    ([start, end) dates) is a partitioned port's run range; None means all of it."""
    database_path = database_path or settings.warehouse_path(port.product.domain_name)
    partitioning = port.product.partitioning
    con = ibis.duckdb.connect(str(database_path), read_only=True, **duckdb_config())
    try:
        table = con.table(relation, database=schema)
        masked = masked_columns(port.schema)
        if partitioning is not None:
            outcomes = run_partition_checks(specs, table, partitioning.column, window, masked)
        else:
            outcomes = run_checks(specs, table, masked)
        result = AuditResult(port=port, outcomes=outcomes, published=None)
        if publish and not result.blocked_by:
            if partitioning is not None:
                result.published = publish_partitions(
                    con.con, f'"{schema}"."{relation}"', port_dir, partitioning.column, window, run_id
                )
            else:
                result.published = publish_relation(con.con, f'"{schema}"."{relation}"', port_dir, run_id)
        return result
    finally:
        con.disconnect()
