"""Published partitioned ports: Hive-partitioned Parquet versions, swapped in atomically.

Layout of a partitioned port directory:

    versions/<UTC timestamp>__<run id>/<column>=<value>/data0.parquet   one file per partition
    versions/<UTC timestamp>__<run id>/_manifest.json                    partitions, row counts
    current -> versions/<...>                                            symlink to the live version

Consumers read one stable address, DuckDB-native and Hive-pruned by the partition column:

    read_parquet('<port dir>/current/*/*.parquet')

A run that publishes a range of partitions writes only those partitions into a new version
directory and hard-links every other partition from the live version (no data is copied),
then replaces the `current` symlink with `os.replace`: a reader resolves `current` once and
sees the old version or the new one, never a mix. Older versions stay for rollback and time
travel (`versions/` is the history); a failed audit writes nothing.

Why not Delta Lake or Iceberg: they give the same atomic commit and time travel, but DuckDB
reads Delta only through an extension that is not built into duckdb 2.0 and cannot be
downloaded here, and Iceberg needs a catalog; consumers' dbt sources would have to go through
Python (deltalake -> Arrow). Hive-partitioned Parquet needs nothing but DuckDB.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

CURRENT = "current"
MANIFEST = "_manifest.json"
KEEP_VERSIONS = 5

Window = tuple[dt.date, dt.date]  # [start, end): the run's partitions


@dataclass(frozen=True)
class PublishedPartitions:
    path: Path  # the stable directory consumers read (current/)
    snapshot: Path  # the version directory that went live
    row_count: int
    partitions: int  # partitions in the live version
    written: int  # partitions this run wrote


def current_dir(port_dir: Path) -> Path:
    return Path(port_dir) / CURRENT


def read_location(port_dir: Path) -> str:
    """The glob consumers read (DuckDB `read_parquet`, Hive partitioning auto-detected)."""
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


def read_manifest(port_dir: Path) -> dict | None:
    manifest = current_dir(port_dir) / MANIFEST
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text())


def publish_partitions(con: duckdb.DuckDBPyConnection, relation: str, port_dir: Path, column: str,
                       window: Window | None, run_id: str = "manual",
                       keep: int = KEEP_VERSIONS) -> PublishedPartitions:
    """Publish `relation`'s rows of `window` (all rows when None) as a new live version.

    With a window, partitions outside it are carried over from the live version unchanged;
    partitions inside it are replaced by what the relation holds now (a day that lost all its
    rows disappears). `relation` and `column` are trusted SQL names."""
    port_dir = Path(port_dir)
    versions = port_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}__{re.sub(r'[^A-Za-z0-9-]', '', run_id)[:36] or 'run'}"
    for leftover in versions.glob(".*.partial"):  # an interrupted publish (one writer per domain)
        shutil.rmtree(leftover, ignore_errors=True)
    staging = versions / f".{name}.partial"
    staging.mkdir()

    where = "" if window is None else (
        f" WHERE {column} >= DATE '{window[0].isoformat()}' AND {column} < DATE '{window[1].isoformat()}'")
    counts = dict(con.execute(
        f"SELECT CAST({column} AS VARCHAR), count(*) FROM {relation}{where} GROUP BY ALL").fetchall())
    if None in counts:
        raise ValueError(f"{counts[None]} rows have no {column}: every row of a partitioned port needs one")
    partitions: dict[str, dict] = {}
    if counts:
        con.execute(f"COPY (SELECT * FROM {relation}{where}) TO '{staging}' (FORMAT parquet, "
                    f"COMPRESSION zstd, PARTITION_BY ({column}), WRITE_PARTITION_COLUMNS true, "
                    "OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'data')")
        for value, rows in counts.items():
            folder = staging / f"{column}={value}"
            files = sorted(p.name for p in folder.glob("*.parquet"))
            for file in files:
                _fsync(folder / file)
            _fsync(folder)
            partitions[value] = {"files": files, "rows": rows}
    written = len(partitions)

    live = read_manifest(port_dir) if window is not None else None
    if live is not None:
        if live.get("column") != column:
            raise ValueError(f"{port_dir} is partitioned by {live.get('column')!r}, not {column!r}")
        live_dir = current_dir(port_dir).resolve()
        lo, hi = window[0].isoformat(), window[1].isoformat()
        for value, entry in live["partitions"].items():
            if lo <= value < hi:
                continue  # replaced (or emptied) by this run
            folder = staging / f"{column}={value}"
            folder.mkdir()
            for file in entry["files"]:
                os.link(live_dir / f"{column}={value}" / file, folder / file)
            partitions[value] = entry

    manifest = {
        "column": column,
        "run_id": run_id,
        "published_at": datetime.now(timezone.utc).isoformat(),
        "window": None if window is None else [window[0].isoformat(), window[1].isoformat()],
        "row_count": sum(p["rows"] for p in partitions.values()),
        "partitions": dict(sorted(partitions.items())),
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1))
    _fsync(staging / MANIFEST)
    _fsync(staging)
    version = versions / name
    os.replace(staging, version)
    _fsync(versions)
    _swap_current(port_dir, version)
    _prune(versions, keep, live=version)
    return PublishedPartitions(path=current_dir(port_dir), snapshot=version, row_count=manifest["row_count"],
                               partitions=len(partitions), written=written)


def list_versions(port_dir: Path) -> list[Path]:
    """Oldest first."""
    return sorted(p for p in (Path(port_dir) / "versions").glob("*") if not p.name.startswith("."))


def rollback_partitions(port_dir: Path) -> Path:
    """Make the version before the live one live again."""
    history = list_versions(port_dir)
    live = current_dir(port_dir).resolve()
    index = next((i for i, v in enumerate(history) if v.resolve() == live), None)
    if not index:
        raise FileNotFoundError(f"no earlier version to roll back to in {port_dir}")
    _swap_current(Path(port_dir), history[index - 1])
    return history[index - 1]


def _swap_current(port_dir: Path, version: Path) -> None:
    tmp = port_dir / f".{CURRENT}.tmp"  # a fixed name: a leftover is replaced, never accumulates
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(version, port_dir), tmp)  # relative: the data dir may move
    os.replace(tmp, current_dir(port_dir))
    _fsync(port_dir)


def _prune(versions: Path, keep: int, live: Path) -> None:
    for old in list_versions(versions.parent)[:-keep]:
        if old != live:
            shutil.rmtree(old)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
