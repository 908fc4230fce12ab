"""Nothing wedged, nothing lost: runs killed with SIGKILL at random points (also while
publishing) never leave a domain stuck, a torn port or leftover files; two runs of one domain
never collide, with or without the dev instance's config."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from mesh_platform import settings
from mesh_platform.cli.materialize import materialize_products
from mesh_platform.publishing.snapshots import current_path, leftovers, list_snapshots
from mesh_platform.runtime.dbt_child import PARENT_ENV
from mesh_platform.runtime.dead_runs import LIVENESS_TAG
from mesh_platform.runtime.domain_lock import DomainBusy, domain_writer, holder

ROOT = Path(__file__).resolve().parent.parent
MESH = str(Path(sys.executable).parent / "mesh")
# A product published as whole snapshots (publishing/snapshots.py); partitioned publishing's
# kills are below (test_kills_while_publishing_partitions_...).
DOMAIN, PRODUCT, PORT = "brokerage", "tenancy_analytics", "current_tenants"


def port_dir() -> Path:
    return settings.published_dir(DOMAIN, PRODUCT, PORT)


def assert_port_is_a_whole_snapshot() -> int:
    current = current_path(port_dir())
    inodes = {os.stat(s).st_ino for s in list_snapshots(port_dir())}
    assert os.stat(current).st_ino in inodes, "current.parquet is not one of the snapshots"
    return duckdb.execute(f"SELECT count(*) FROM read_parquet('{current}')").fetchall()[0][0]


@pytest.fixture
def dev_instance(isolated_data, tmp_path, monkeypatch) -> Path:
    """The checked-in dev instance config (pools: one step per domain at a time)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def fork_run(domain: str, product: str | None = None, selection=None) -> int:
    """A run in a forked child (warm imports, its own process: SIGKILL-able); returns its pid.
    The child exits 0 if the run succeeded."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            if selection is None:
                code = 0 if all(o.success for o in materialize_products(domain, product)) else 1
            else:
                code = 0 if selection() else 1
        finally:
            os._exit(code)
    return pid


def wait_exit(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_killed_runs_never_wedge_the_domain_nor_leave_leftovers(dev_instance):
    """Each run is SIGKILLed at a random point (every other one as soon as it starts publishing);
    the next run must get the domain (its pool slot and lock) within seconds; the last run
    succeeds; the port is always a whole snapshot, and no leftover is left."""
    started = time.monotonic()
    first = materialize_products(DOMAIN, PRODUCT)
    assert first[0].success, first[0].error
    run_time = time.monotonic() - started
    rows = assert_port_is_a_whole_snapshot()
    rng = random.Random(8)
    trials, during_publish, waits, killed = 6, 0, [], 0
    lock_file = settings.warehouse_path(DOMAIN).with_suffix(".lock")
    for trial in range(trials):
        forked = time.monotonic()
        pid = fork_run(DOMAIN, PRODUCT)
        while not (holder(DOMAIN) or {}).get("pid") == pid:  # the run got its slot and the lock
            assert time.monotonic() - forked < 30 + run_time, f"trial {trial}: the run never got the domain"
            time.sleep(0.01)
        waits.append(time.monotonic() - forked)
        if trial % 2:
            deadline = time.monotonic() + 3 * run_time
            while time.monotonic() < deadline:
                if list((port_dir() / "snapshots").glob("*.partial")) or list(port_dir().glob(".*.tmp")):
                    during_publish += 1
                    break
                time.sleep(0.001)
        else:
            time.sleep(rng.uniform(0, run_time))
        os.kill(pid, signal.SIGKILL)
        if wait_exit(pid) == -signal.SIGKILL:
            killed += 1  # (a warm run may finish before its random kill: then it simply succeeded)
        assert assert_port_is_a_whole_snapshot() == rows  # the old or the new snapshot, whole
    outcome = materialize_products(DOMAIN, PRODUCT)[0]
    assert outcome.success, outcome.error
    assert assert_port_is_a_whole_snapshot() == rows
    assert leftovers(port_dir()) == []
    assert lock_file.exists() and holder(DOMAIN) is None  # released, and it names nobody
    instance = dg.DagsterInstance.get()
    active = instance.get_runs(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
    )
    assert active == []
    failed = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert killed >= trials // 2
    assert len([r for r in failed if LIVENESS_TAG in r.tags]) == killed  # every killed run recovered
    # "within seconds": never longer than one whole run (a wedged domain never gets it at all);
    # the wait includes forking, reaping, the run's set-up and an orphaned dbt finishing
    assert max(waits) < max(30, run_time), (waits, run_time)
    print(
        f"\n{trials} kill trials ({during_publish} while publishing); the next run had the domain "
        f"after {min(waits):.1f}-{max(waits):.1f} s; a whole run takes {run_time:.0f} s"
    )


PUBLISHER = textwrap.dedent("""
    import sys, duckdb
    from mesh_platform.publishing.snapshots import publish_relation
    from mesh_platform.runtime.domain_lock import domain_writer
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS id, repeat('x', 200) AS pad FROM range(50000)")
    print("ready", flush=True)
    while True:
        with domain_writer("checkout", "loop"):
            publish_relation(con, "t", sys.argv[1], run_id="loop", keep=2)
""")


def test_kills_while_publishing_leave_a_whole_port_and_the_next_publish_cleans_up(isolated_data, tmp_path):
    target = tmp_path / "port"
    rng = random.Random(88)
    for _trial in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(target)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if current_path(target).exists():
            assert (
                duckdb.execute(f"SELECT count(*) FROM read_parquet('{current_path(target)}')").fetchall()[0][0] == 50000
            )
    assert current_path(target).exists()
    from mesh_platform.publishing.snapshots import publish_relation

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS id")
    with domain_writer("checkout", "after"):
        publish_relation(con, "t", target, run_id="after", keep=2)
    assert leftovers(target) == []
    assert sorted(p.name for p in target.iterdir()) == ["current.parquet", "snapshots"]


PARTITION_PUBLISHER = textwrap.dedent("""
    import sys, datetime as dt, duckdb
    from mesh_platform.publishing.partitioned import publish_partitions
    from mesh_platform.runtime.domain_lock import domain_writer
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS id, DATE '2025-01-01' + CAST(range % 30 AS INTEGER) AS day, "
                "repeat('x', 200) AS pad FROM range(60000)")
    print("ready", flush=True)
    first = True
    while True:
        with domain_writer("checkout", "loop"):  # a full version first, then ten-day ranges
            window = None if first else (dt.date(2025, 1, 11), dt.date(2025, 1, 21))
            publish_partitions(con, "t", sys.argv[1], "day", window, run_id="loop", keep=2)
        first = False
""")


def test_kills_while_publishing_partitions_leave_a_whole_live_version(isolated_data, tmp_path):
    """The partitioned twin: a kill at any point leaves `current` on a whole version (every day,
    every row, as its manifest says), and the next publish removes the interrupted one."""
    from mesh_platform.published_layout import current_dir, read_location
    from mesh_platform.publishing.partitioned import publish_partitions, read_manifest

    target = tmp_path / "port"
    rng = random.Random(89)
    for _trial in range(10):
        proc = subprocess.Popen(
            [sys.executable, "-c", PARTITION_PUBLISHER, str(target)],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if current_dir(target).is_symlink():
            manifest = read_manifest(target)
            assert manifest["row_count"] == 60000 and len(manifest["partitions"]) == 30
            assert (
                duckdb.execute(f"SELECT count(*) FROM read_parquet('{read_location(target)}')").fetchall()[0][0]
                == 60000
            )
    assert current_dir(target).is_symlink()
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS id, DATE '2025-01-01' AS day")
    with domain_writer("checkout", "after"):
        publish_partitions(con, "t", target, "day", None, run_id="after", keep=2)
    versions = target / "versions"
    assert not list(versions.glob(".*")) and not list(target.glob(".*"))  # no interrupted version left
    assert len(list(versions.iterdir())) <= 2


def test_the_domain_lock_says_who_holds_it_and_is_released_by_a_kill(isolated_data):
    settings.warehouse_path(DOMAIN).parent.mkdir(parents=True, exist_ok=True)
    holder_code = (
        "import time; from mesh_platform.runtime.domain_lock import domain_writer\n"
        f"with domain_writer({DOMAIN!r}, 'run-abc'):\n    print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder_code], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert proc.stdout.readline().strip() == "held"
    messages: list[str] = []
    with pytest.raises(DomainBusy, match=rf"{DOMAIN} is being written by run run-abc since \d{{4}}-"):
        with domain_writer(DOMAIN, "run-def", timeout=0.5, log=messages.append):
            pass
    assert "run run-abc" in messages[0] and "waiting" in messages[0]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    with domain_writer(DOMAIN, "run-def", timeout=2):
        assert holder(DOMAIN)["run_id"] == "run-def"


def test_concurrent_runs_of_one_domain_without_instance_config(isolated_data, dagster_home):
    """No dagster.yaml pools: the domain lock alone keeps DuckDB to one writer (processes)."""
    config = (dagster_home / "dagster.yaml").read_text()
    assert "pools" not in config and "concurrency" not in config
    assert materialize_products(DOMAIN, PRODUCT)[0].success
    pairs = int(os.environ.get("MESH_CONCURRENT_PAIRS", 2))
    codes = []
    for _ in range(pairs):
        both = [fork_run(DOMAIN, PRODUCT), fork_run(DOMAIN, PRODUCT)]
        codes += [wait_exit(pid) for pid in both]
    assert codes == [0] * 2 * pairs
    assert assert_port_is_a_whole_snapshot() > 0


def test_a_dbt_whose_run_died_before_it_started_never_runs():
    """The run that names itself in MESH_DBT_PARENT is gone by the time mesh-dbt starts (killed in
    the instant after starting it): mesh-dbt exits before dbt does, instead of taking init for
    its parent. With the run alive, the same start runs dbt (the control)."""
    mesh_dbt = str(Path(sys.executable).parent / "mesh-dbt")
    gone = subprocess.run([mesh_dbt, "--version"], env={**os.environ, PARENT_ENV: "999999999"}, capture_output=True)
    assert gone.returncode != 0 and b"the run that started dbt is gone" in gone.stderr
    alive = subprocess.run(
        [mesh_dbt, "--version"], env={**os.environ, PARENT_ENV: str(os.getpid())}, capture_output=True, text=True
    )
    assert alive.returncode == 0 and "dbt" in (alive.stdout + alive.stderr).lower()


def test_a_runs_dbt_dies_with_the_run(tmp_path):
    """A run killed with `kill -9` takes its dbt with it (`mesh-dbt`, runtime/dbt_child.py): an
    orphaned dbt, still starting up, could otherwise take DuckDB's lock before the next run's.
    Plain dbt started the same way outlives its parent (the control)."""
    bin_dir = Path(sys.executable).parent
    parent = textwrap.dedent(f"""
        import subprocess, sys, time
        wrapped = subprocess.Popen([{str(bin_dir / "mesh-dbt")!r}, "--version"], stdout=subprocess.DEVNULL)
        plain = subprocess.Popen([{str(bin_dir / "dbt")!r}, "--version"], stdout=subprocess.DEVNULL)
        print(wrapped.pid, plain.pid, flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    wrapped, plain = map(int, proc.stdout.readline().split())
    time.sleep(0.3)  # both children have started (dbt's own start-up takes seconds)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)

    def alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
        except (FileNotFoundError, IndexError):
            return False
        return state != "Z"

    try:
        assert alive(plain), "the control finished too soon to compare"
        assert not alive(wrapped)
    finally:
        for pid in (wrapped, plain):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
