"""Benchmark: Dagster's floor per partition, with Dagster's own event-log storages and ours.

    .venv/bin/python bench/event_storage.py --days 1826 3652 --repeat 3
    .venv/bin/python bench/event_storage.py --postgres          # also on a local PostgreSQL

One process per run: a bare one-asset job with daily partitions (and one check), materialised
as one single-run backfill of `--days` days, as a UI backfill or `mesh materialize --partition
all` does. Sides alternate (A B A B ...), the figure is the median; wall and CPU from os.wait4.

* sqlite:   Dagster's default SQLite storage (empty dagster.yaml)
* mesh:     mesh_platform.runtime.event_storage.MeshSqliteEventLogStorage (dagster_home/dagster.yaml)
* postgres / mesh-postgres: dagster-postgres' event log and ours, in dagster.prod.yaml's instance
  on a throwaway server, a fresh database per run (bench/postgres_instance.py).

The per-partition cost is the slope between two `--days` values.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from timed import run

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

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


def run_once(days: int, yaml_text: str, postgres=None, storage: str = "") -> dict:
    """One child in a fresh DAGSTER_HOME: `yaml_text` as its instance, or `storage`'s PostgreSQL one."""
    home = Path(tempfile.mkdtemp(prefix="bench_events_"))
    (home / "dagster.yaml").write_text(yaml_text)

    def child(extra: dict[str, str]) -> dict:
        env = {**os.environ, "DAGSTER_HOME": str(home), **extra}
        env.pop("DAGSTER_EVENT_BATCH_SIZE", None)
        return run([sys.executable, "-c", CHILD, str(days)], env)

    try:
        return postgres.run_on(storage, home, child) if postgres is not None else child({})
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, nargs="*", default=[1826, 3652])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    sides = {"sqlite": ("", None, ""), "mesh": (MESH_SQLITE, None, "")}
    server = None
    if args.postgres:
        import postgres_instance

        server = postgres_instance.start()
        sides["postgres"] = ("", server, "dagster")
        sides["mesh-postgres"] = ("", server, "mesh")
    try:
        print(f"load average before: {os.getloadavg()[0]:.1f}", file=sys.stderr)
        table = {}
        for days in args.days:
            runs = {name: [] for name in sides}
            for _ in range(args.repeat):
                for name, (text, pg, storage) in sides.items():
                    runs[name].append(run_once(days, text, pg, storage))
            table[days] = {
                name: tuple(statistics.median(r.get(f, 0.0) for r in rs) for f in ("seconds", "cpu", "server_cpu"))
                for name, rs in runs.items()
            }
        print(f"load average after: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
    print("| days | storage | wall s | CPU s | server CPU s | ms per partition (wall) | vs Dagster's own |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for days, row in table.items():
        for name, (wall, cpu, server) in row.items():
            base = row["postgres" if "postgres" in name else "sqlite"][0]
            print(
                f"| {days} | {name} | {wall:.1f} | {cpu:.1f} | {server:.1f} | {1000 * wall / days:.1f} "
                f"| {wall / base:.2f}x |"
            )
    if len(table) >= 2:
        (d1, r1), (d2, r2) = list(table.items())[:2]
        for name in sides:
            slope = 1000 * (r2[name][0] - r1[name][0]) / (d2 - d1)
            print(f"slope {name}: {slope:.2f} ms per extra partition (wall)")


if __name__ == "__main__":
    main()
