"""Where a published port's live data sits on disk, for the readers below publishing/ (contract
rules that read another domain's port, the breaking-change gate) and for publishing itself.

A port directory holds either `current.parquet` (one snapshot, publishing/snapshots.py) or a
`current` symlink to the live version of a partitioned port, read as `current/*/*.parquet`
(publishing/partitioned.py). Plain paths, no DuckDB: reading them is the caller's business.
"""

from __future__ import annotations

from pathlib import Path

from mesh_platform import settings

CURRENT = "current"


def port_dir(address) -> Path:
    """The folder that holds a port's published snapshots (under MESH_DATA_DIR), for a
    PortAddress (anything with ``key_path``): the one place that computes it; the DuckDB target
    (publishing/target.py) answers with it too."""
    return settings.published_dir(*address.key_path)


def current_dir(port_dir: Path) -> Path:
    return Path(port_dir) / CURRENT


def read_location(port_dir: Path) -> str:
    """The glob consumers read (DuckDB `read_parquet`; month folders carry no `key=value` name)."""
    return str(current_dir(port_dir) / "*" / "*.parquet")


def live_location(port_dir: Path) -> str | None:
    """What a reader passes to DuckDB's read_parquet for any published port: the partitioned
    glob, or the single live snapshot file; None when nothing is published."""
    if is_partitioned(port_dir):
        return read_location(port_dir)
    single = Path(port_dir) / "current.parquet"
    return str(single) if single.exists() else None


def is_partitioned(port_dir: Path) -> bool:
    return current_dir(port_dir).is_symlink()
