"""The least a write-audit-publish run can add to a bare dbt build: the platform's audit and
publishing of each output port of a domain, without Dagster (no run, no events, no dbt call).

    .venv/bin/python bench/wap_floor.py checkout     # MESH_DATA_DIR: a data dir dbt has built

Each port is audited on all of its rows and published to a throwaway folder (removed after), by
the same functions a run calls (publishing/duckdb.py), so `bare dbt + this` is the floor the
platform's full refresh is compared with (bench/platform_overhead.py --floors). Imports count:
a run must import the check runner too.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from mesh_platform import settings
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.mesh.domain import load_domain
from mesh_platform.publishing.duckdb import audit_and_publish


def main(domain_name: str) -> None:
    domain = load_domain(settings.domains_dir() / domain_name)
    # where dagster_wiring/dbt_project.py keeps it (not imported: that imports Dagster, which this floor goes without)
    manifest = domain.dbt_project_dir / "target" / settings.target() / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"].values()
    out = Path(tempfile.mkdtemp(prefix="wap_floor_", dir=settings.data_dir()))
    try:
        for port in domain.ports():
            node = next(n for n in nodes if n["resource_type"] == "model" and n["name"] == port.model)
            result = audit_and_publish(
                port,
                compile_contract(port.contract, port.model),
                schema=node["schema"],
                relation=node["alias"] or node["name"],
                run_id="wap-floor",
                port_dir=out / port.name,
            )
            if result.published is None:
                raise SystemExit(f"{port.address}: not published ({[o.spec.key for o in result.blocked_by]})")
            print(f"{port.address}: {result.published.row_count} rows")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
