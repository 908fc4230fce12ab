"""Benchmark: Dagster's floor per partition, with Dagster's own event-log storages and ours.

    .venv/bin/python bench/event_storage.py --days 1826 3652 --repeat 3
    .venv/bin/python bench/event_storage.py --postgres          # also on a local PostgreSQL

One process per run: a bare one-asset job with daily partitions (and one check), materialised
as one single-run backfill of `--days` days, as a UI backfill or `mesh materialize --partition
all` does. Sides alternate (A B A B ...), the figure is the median; wall and CPU from os.wait4.

* sqlite:   Dagster's default SQLite storage (empty dagster.yaml)
* mesh:     mesh_platform.runtime.event_storage.MeshSqliteEventLogStorage (dagster_home/dagster.yaml)
* postgres / mesh-postgres: dagster-postgres' event log and ours, on a server from
  tests/postgres_server.py (initdb in a temp dir; Debian's `postgresql` package).

The per-partition cost is the slope between two `--days` values.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

CHILD = r"""
import sys, dagster as dg
days = int(sys.argv[1])
import datetime as dt
start = dt.date(2020, 1, 1)
defn = dg.DailyPartitionsDefinition(start_date=start.isoformat(),
                                    end_date=(start + dt.timedelta(days=days)).isoformat(), timezone="UTC")

@dg.asset(partitions_def=defn, backfill_policy=dg.BackfillPolicy.single_run())
def daily(context):
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})

@dg.asset_check(asset=daily)
def rows(context):
    return dg.AssetCheckResult(passed=True)

keys = defn.get_partition_keys()
with dg.DagsterInstance.get() as instance:
    result = dg.materialize([daily, rows], instance=instance, run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                            tags={"dagster/asset_partition_range_start": keys[0],
                                  "dagster/asset_partition_range_end": keys[-1]})
    assert result.success
    assert len(instance.get_materialized_partitions(daily.key)) == days
"""

MESH_SQLITE = "event_log_storage:\n  module: mesh_platform.runtime.event_storage\n  class: MeshSqliteEventLogStorage\n"


def postgres_yaml(ours: bool) -> str:
    config = """  config:
    postgres_db:
      hostname: {env: DAGSTER_PG_HOST}
      port: {env: DAGSTER_PG_PORT}
      username: {env: DAGSTER_PG_USERNAME}
      password: {env: DAGSTER_PG_PASSWORD}
      db_name: {env: DAGSTER_PG_DB}
      scheme: postgresql+psycopg2
"""
    event_log = (
        ("mesh_platform.runtime.event_storage", "MeshPostgresEventLogStorage")
        if ours
        else ("dagster_postgres.event_log", "PostgresEventLogStorage")
    )
    return (
        f"run_storage:\n  module: dagster_postgres.run_storage\n  class: PostgresRunStorage\n{config}"
        f"event_log_storage:\n  module: {event_log[0]}\n  class: {event_log[1]}\n{config}"
        f"schedule_storage:\n  module: dagster_postgres.schedule_storage\n  class: PostgresScheduleStorage\n{config}"
    )


def run_once(days: int, yaml_text: str, env_extra: dict[str, str], postgres=None) -> dict:
    home = Path(tempfile.mkdtemp(prefix="bench_events_"))
    (home / "dagster.yaml").write_text(yaml_text)
    env = {**os.environ, "DAGSTER_HOME": str(home), **env_extra}
    env.pop("DAGSTER_EVENT_BATCH_SIZE", None)
    if postgres is not None:
        env["DAGSTER_PG_DB"] = postgres.create_database(f"bench_{uuid.uuid4().hex[:8]}")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(days)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    shutil.rmtree(home, ignore_errors=True)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(out.decode(errors="replace")[-3000:])
        raise SystemExit("benchmark child failed")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, nargs="*", default=[1826, 3652])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    sides = {"sqlite": ("", {}, None), "mesh": (MESH_SQLITE, {}, None)}
    server = None
    if args.postgres:
        import postgres_server
        from conftest import free_port

        server = postgres_server.start(free_port())
        pg_env = {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(server.port),
            "DAGSTER_PG_USERNAME": postgres_server.USER,
            "DAGSTER_PG_PASSWORD": "",
        }
        sides["postgres"] = (postgres_yaml(False), pg_env, server)
        sides["mesh-postgres"] = (postgres_yaml(True), pg_env, server)
    try:
        print(f"load average before: {os.getloadavg()[0]:.1f}", file=sys.stderr)
        table = {}
        for days in args.days:
            runs = {name: [] for name in sides}
            for _ in range(args.repeat):
                for name, (text, env, pg) in sides.items():
                    runs[name].append(run_once(days, text, env, pg))
            table[days] = {
                name: (statistics.median(r["seconds"] for r in rs), statistics.median(r["cpu"] for r in rs))
                for name, rs in runs.items()
            }
        print(f"load average after: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
    print("| days | storage | wall s | CPU s | ms per partition (wall) | vs Dagster's own |")
    print("|---:|---|---:|---:|---:|---:|")
    for days, row in table.items():
        for name, (wall, cpu) in row.items():
            base = row["postgres" if "postgres" in name else "sqlite"][0]
            print(f"| {days} | {name} | {wall:.1f} | {cpu:.1f} | {1000 * wall / days:.1f} | {wall / base:.2f}x |")
    if len(table) >= 2:
        (d1, r1), (d2, r2) = list(table.items())[:2]
        for name in sides:
            slope = 1000 * (r2[name][0] - r1[name][0]) / (d2 - d1)
            print(f"slope {name}: {slope:.2f} ms per extra partition (wall)")


if __name__ == "__main__":
    main()
