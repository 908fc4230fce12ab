"""Published output ports on local storage: immutable Parquet snapshots, swapped atomically.

Layout of a port directory:
    snapshots/<UTC timestamp>__<run id>.parquet   immutable, newest kept for rollback
    current.parquet                               hard link to the live snapshot

`current.parquet` only ever changes by `os.replace`, so a reader sees the old file or
the new one, never a half-written one. A publisher killed half-way leaves at most a
`snapshots/*.parquet.partial` and `.current.parquet.tmp` (fixed names, never per process);
the next publish removes them first. One publisher per port at a time (the domain lock,
mesh_platform/runtime/domain_lock.py), so the fixed names cannot collide.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

CURRENT = "current.parquet"
KEEP_SNAPSHOTS = 5  # published versions of a port kept for rollback, on every target


@dataclass(frozen=True)
class Published:
    path: Path  # the stable path consumers read
    snapshot: Path
    row_count: int


def current_path(port_dir: Path) -> Path:
    return Path(port_dir) / CURRENT


def publish_relation(
    con: duckdb.DuckDBPyConnection, relation: str, port_dir: Path, run_id: str = "manual", keep: int = KEEP_SNAPSHOTS
) -> Published:
    """Copy `relation` to a new snapshot and make it current. `relation` is trusted SQL."""
    port_dir = Path(port_dir)
    snapshots = port_dir / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    remove_leftovers(port_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    safe_run = re.sub(r"[^A-Za-z0-9-]", "", run_id)[:36] or "run"
    snapshot = snapshots / f"{stamp}__{safe_run}.parquet"
    partial = snapshot.with_suffix(".parquet.partial")
    # lazy: pyarrow's writer loads with a publish, not with the readers of this module's paths
    from mesh_platform.publishing.parquet_files import write_parquet

    write_parquet(con, f"SELECT * FROM {relation}", partial)
    fsync(partial)
    os.replace(partial, snapshot)
    row_count = con.execute(f"SELECT count(*) FROM read_parquet('{snapshot}')").fetchone()[0]
    _swap_current(port_dir, snapshot)
    _prune(snapshots, keep)
    return Published(path=current_path(port_dir), snapshot=snapshot, row_count=row_count)


def rollback(port_dir: Path) -> Path:
    """Make the snapshot before the current one live again."""
    port_dir = Path(port_dir)
    history = list_snapshots(port_dir)
    live = os.stat(current_path(port_dir)).st_ino if current_path(port_dir).exists() else None
    older = [s for s in history if os.stat(s).st_ino != live]
    if not older or live is None:
        raise FileNotFoundError(f"no earlier snapshot to roll back to in {port_dir}")
    index = next(i for i, s in enumerate(history) if os.stat(s).st_ino == live)
    if index == 0:
        raise FileNotFoundError(f"no earlier snapshot to roll back to in {port_dir}")
    _swap_current(port_dir, history[index - 1])
    return history[index - 1]


def list_snapshots(port_dir: Path) -> list[Path]:
    """Oldest first."""
    return sorted((Path(port_dir) / "snapshots").glob("*.parquet"))


def leftovers(port_dir: Path) -> list[Path]:
    """Files an interrupted publish left behind (partial copies, temporary links)."""
    port_dir = Path(port_dir)
    return sorted([*(port_dir / "snapshots").glob("*.partial"), *port_dir.glob(f".{CURRENT}*.tmp")])


def remove_leftovers(port_dir: Path) -> list[Path]:
    found = leftovers(port_dir)
    for path in found:
        path.unlink(missing_ok=True)
    return found


def _swap_current(port_dir: Path, snapshot: Path) -> None:
    tmp = port_dir / f".{CURRENT}.tmp"
    tmp.unlink(missing_ok=True)
    os.link(snapshot, tmp)
    os.replace(tmp, current_path(port_dir))
    fsync(port_dir)  # a directory fsync makes the rename durable


def _prune(snapshots: Path, keep: int) -> None:
    for old in sorted(snapshots.glob("*.parquet"))[:-keep]:
        old.unlink()


def fsync(path: Path) -> None:
    """Make a file's or a folder's content durable (a folder: the names in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
