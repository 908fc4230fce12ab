"""Retired ports leave the mesh, their data does not: snapshots move to an archive.

    $MESH_DATA_DIR/published/<domain>/<product>/<port>/            (live: consumers read current.parquet)
 -> $MESH_DATA_DIR/archive/<domain>/<product>/<port>/<UTC stamp>/snapshots/*.parquet

One `os.replace` of the port folder, so `current.parquet` disappears at once and every
snapshot is kept byte for byte (audits, rollback of a mistaken retirement).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from mesh_platform import settings
from mesh_platform.mesh.address import PortAddress
from mesh_platform.safe_paths import inside


def archive_root() -> Path:
    return settings.data_dir() / "archive"


def archive_port(address: str) -> Path | None:
    """Move a port's published folder to the archive; None when nothing was published."""
    domain, product, port = PortAddress.parts(address)
    live = settings.published_dir(domain, product, port)
    if not live.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = inside(archive_root(), domain, product, port, stamp)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(live, target)
    current = target / "current.parquet"
    if current.exists():  # a hard link to one of the snapshots: nothing is lost
        current.unlink()
    return target


def archived_snapshots(address: str) -> list[Path]:
    domain, product, port = PortAddress.parts(address)
    return sorted(inside(archive_root(), domain, product, port).glob("*/snapshots/*.parquet"))
