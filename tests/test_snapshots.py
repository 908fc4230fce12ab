"""Publishing an output port: immutable Parquet snapshots, `current.parquet` swapped atomically."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from mesh_platform.publishing.snapshots import (
    CURRENT,
    current_path,
    list_snapshots,
    publish_relation,
    rollback,
)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()  # in-memory
    yield con
    con.close()


@pytest.fixture
def port_dir(tmp_path: Path) -> Path:
    return tmp_path / "published" / "checkout" / "web_orders_with_consent" / "web_orders_with_consent"


def make_version(con: duckdb.DuckDBPyConnection, name: str, version: int, rows: int) -> str:
    """A table whose rows say which version they belong to."""
    con.execute(
        f"create or replace table {name} as "
        f"select range::integer as id, {version} as version, 'row ' || range as label from range({rows})"
    )
    return name


def read(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple]:
    return con.execute("select id, version, label from read_parquet(?) order by id", [str(path)]).fetchall()


def table_rows(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    return con.execute(f"select id, version, label from {name} order by id").fetchall()


def all_files(port_dir: Path) -> set[str]:
    return {str(p.relative_to(port_dir)) for p in port_dir.rglob("*") if p.is_file()}


def assert_only_parquet(port_dir: Path) -> None:
    """current.parquet and snapshots/*.parquet, nothing half-written or temporary."""
    for name in all_files(port_dir):
        assert name == CURRENT or (
            name.startswith("snapshots/") and name.endswith(".parquet") and not name.endswith(".partial")
        ), name
    assert not any(".partial" in n or n.endswith(".tmp") for n in all_files(port_dir))
    assert not any(p.name.startswith(".") for p in port_dir.rglob("*"))


def test_publish_makes_current_hold_the_rows(con, port_dir):
    v1 = make_version(con, "v1", 1, rows=7)
    published = publish_relation(con, v1, port_dir, run_id="run-0001")

    assert published.path == current_path(port_dir) == port_dir / CURRENT
    assert published.row_count == 7
    assert read(con, published.path) == table_rows(con, v1)
    assert list_snapshots(port_dir) == [published.snapshot]
    assert published.snapshot.parent == port_dir / "snapshots"
    assert published.snapshot.name.endswith("__run-0001.parquet")
    assert os.path.samefile(published.path, published.snapshot)  # a hard link, not a copy
    assert_only_parquet(port_dir)


def test_run_id_is_made_safe_for_a_file_name(con, port_dir):
    published = publish_relation(con, make_version(con, "v1", 1, 2), port_dir, run_id="../../etc/passwd x")
    assert published.snapshot.parent == port_dir / "snapshots"
    assert "/" not in published.snapshot.name.split("__", 1)[1]
    assert published.snapshot.name.endswith("__etcpasswdx.parquet")


def test_publish_accepts_a_subquery(con, port_dir):
    make_version(con, "v1", 1, rows=10)
    published = publish_relation(con, "(select * from v1 where id < 4)", port_dir)
    assert published.row_count == 4
    assert [r[0] for r in read(con, published.path)] == [0, 1, 2, 3]


def test_second_publish_swaps_current_and_keeps_the_old_snapshot(con, port_dir):
    first = publish_relation(con, make_version(con, "v1", 1, rows=3), port_dir, run_id="r1")
    v1_rows = read(con, first.path)

    second = publish_relation(con, make_version(con, "v2", 2, rows=5), port_dir, run_id="r2")

    assert second.snapshot != first.snapshot
    assert list_snapshots(port_dir) == [first.snapshot, second.snapshot]  # oldest first
    assert read(con, current_path(port_dir)) == table_rows(con, "v2")
    assert os.path.samefile(current_path(port_dir), second.snapshot)
    assert not os.path.samefile(current_path(port_dir), first.snapshot)
    assert read(con, first.snapshot) == v1_rows  # the old snapshot is untouched
    assert_only_parquet(port_dir)


def test_rollback_restores_the_previous_snapshot(con, port_dir):
    first = publish_relation(con, make_version(con, "v1", 1, rows=3), port_dir, run_id="r1")
    second = publish_relation(con, make_version(con, "v2", 2, rows=5), port_dir, run_id="r2")
    assert read(con, current_path(port_dir)) == table_rows(con, "v2")

    restored = rollback(port_dir)

    assert restored == first.snapshot
    assert read(con, current_path(port_dir)) == table_rows(con, "v1")
    assert os.path.samefile(current_path(port_dir), first.snapshot)
    # rolling back keeps history: the newer snapshot is still there to roll forward to
    assert list_snapshots(port_dir) == [first.snapshot, second.snapshot]
    assert read(con, second.snapshot) == table_rows(con, "v2")
    assert_only_parquet(port_dir)

    # nothing older than the first snapshot
    with pytest.raises(FileNotFoundError):
        rollback(port_dir)
    assert read(con, current_path(port_dir)) == table_rows(con, "v1")


def test_rollback_walks_back_one_snapshot_at_a_time(con, port_dir):
    snaps = [
        publish_relation(con, make_version(con, f"v{i}", i, rows=i), port_dir, run_id=f"r{i}").snapshot
        for i in (1, 2, 3)
    ]
    assert rollback(port_dir) == snaps[1]
    assert read(con, current_path(port_dir)) == table_rows(con, "v2")
    assert rollback(port_dir) == snaps[0]
    assert read(con, current_path(port_dir)) == table_rows(con, "v1")


def test_rollback_with_a_single_snapshot_or_none_fails(con, port_dir):
    with pytest.raises(FileNotFoundError):
        rollback(port_dir)
    publish_relation(con, make_version(con, "v1", 1, rows=2), port_dir)
    with pytest.raises(FileNotFoundError):
        rollback(port_dir)
    assert read(con, current_path(port_dir)) == table_rows(con, "v1")


def test_pruning_keeps_the_newest_n(con, port_dir):
    published = [
        publish_relation(con, make_version(con, f"v{i}", i, rows=i + 1), port_dir, run_id=f"r{i}", keep=3)
        for i in range(6)
    ]

    kept = list_snapshots(port_dir)
    assert kept == [p.snapshot for p in published[-3:]]
    for gone in published[:-3]:
        assert not gone.snapshot.exists()
    assert read(con, current_path(port_dir)) == table_rows(con, "v5")
    assert_only_parquet(port_dir)


def test_default_keep_bounds_the_history(con, port_dir):
    from mesh_platform.publishing.snapshots import KEEP_SNAPSHOTS

    published = [
        publish_relation(con, make_version(con, "v", i, rows=1), port_dir, run_id=f"r{i}")
        for i in range(KEEP_SNAPSHOTS + 2)
    ]
    assert list_snapshots(port_dir) == [p.snapshot for p in published[-KEEP_SNAPSHOTS:]]


def test_no_partial_or_temp_files_remain_after_publishing(con, port_dir):
    for i in range(3):
        publish_relation(con, make_version(con, "v", i, rows=10), port_dir, run_id=f"r{i}")
    rollback(port_dir)
    assert_only_parquet(port_dir)
    assert len(all_files(port_dir)) == 1 + 3


@pytest.mark.parametrize(
    "relation",
    [
        "no_such_table",  # fails when the statement is bound
        "(select case when range < 50000 then range else error('boom') end as id from range(100000))",  # mid-write
    ],
    ids=["missing-relation", "error-while-writing"],
)
def test_failed_copy_leaves_current_and_snapshots_unchanged(con, port_dir, relation):
    first = publish_relation(con, make_version(con, "v1", 1, rows=4), port_dir, run_id="good")
    current_bytes = current_path(port_dir).read_bytes()
    current_inode = os.stat(current_path(port_dir)).st_ino
    files_before = all_files(port_dir)

    # DuckDB's error: raised by DuckDB, or by pyarrow's writer reading DuckDB's failing stream
    with pytest.raises((duckdb.Error, OSError), match="boom|no_such_table"):
        publish_relation(con, relation, port_dir, run_id="bad")

    assert current_path(port_dir).read_bytes() == current_bytes
    assert os.stat(current_path(port_dir)).st_ino == current_inode
    assert list_snapshots(port_dir) == [first.snapshot]
    assert all_files(port_dir) == files_before
    assert_only_parquet(port_dir)
    assert read(con, current_path(port_dir)) == table_rows(con, "v1")
