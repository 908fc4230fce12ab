"""Benchmark: what the platform costs on top of dbt, and what partitions save.

    make bench                                                 # everything, the table in docs/benchmarks.md
    .venv/bin/python bench/platform_overhead.py checkout --scale 1 10 --full-up-to 1 --repeat 5
    .venv/bin/python bench/platform_overhead.py locations --repeat 5

Each figure is the median of `--repeat` rounds; in a round every side runs once, in the same
order (A B C D A B C D ...), so a ratio compares runs on the same machine at the same moment,
whatever else the machine is doing. Every run is a fresh process, timed from start to exit
(wall clock), with CPU time and peak RSS from the kernel (os.wait4).

* checkout, at each scale (1 is about a million order lines), on a published port:
  - one day: `mesh materialize --domain checkout --partition 2025-12-31` vs a bare
    `dbt build --vars '{mesh_partition_start: 2025-12-31, mesh_partition_end: 2026-01-01}'`
    of the same project on the same warehouse (no audit, no publishing, no Dagster);
  - full refresh (scales up to --full-up-to): `mesh materialize --domain checkout
    --partition all` vs a bare `dbt build --full-refresh`;
  - one day vs full refresh through the platform: what partitions save.
* locations: each code location of workspace.yaml, and a generated domain of 50
  products / 500 models (bench/synthetic_domain.py): the time and peak RSS of a process
  that imports the location's definitions and resolves its repository, as Dagster's code
  server does.

Data lives under bench/.data/ (one data dir per scale, seeded once).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

from timed import run

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
DATA = HERE / ".data"
TODAY = dt.datetime.now(dt.UTC).date()
DAY = str(TODAY - dt.timedelta(days=1))  # the newest day with orders: the sample shop's yesterday


def scale_env(scale: float) -> dict[str, str]:
    data = DATA / f"scale_{scale:g}"
    env = {
        **os.environ,
        "MESH_DATA_DIR": str(data / "data"),
        "DAGSTER_HOME": str(data / "dagster_home"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("DAGSTER_IS_DEV_CLI", None)
    if not (data / "data" / "landing" / "checkout").exists():
        (data / "dagster_home").mkdir(parents=True, exist_ok=True)
        print(f"seeding checkout at scale {scale:g} into {data}", file=sys.stderr)
        run([str(BIN / "mesh"), "seed", "--domain", "checkout", "--scale", str(scale)], env)
    # the dev instance's event-log storage, as `make dev` and the tests use it
    (data / "dagster_home" / "dagster.yaml").write_text(
        "event_log_storage:\n  module: mesh_platform.runtime.event_storage\n  class: MeshSqliteEventLogStorage\n"
    )
    run([str(BIN / "mesh"), "prepare", "--domain", "checkout"], env)
    return env


NEXT_DAY = str(TODAY)


def mesh_full(env):
    return run([str(BIN / "mesh"), "materialize", "--domain", "checkout", "--partition", "all"], env)


def mesh_day(env):
    return run([str(BIN / "mesh"), "materialize", "--domain", "checkout", "--partition", DAY], env)


def _dbt(env, name: str, *args: str):
    """A bare dbt build; each kind keeps its own target path, so its partial parse stays valid
    (different vars would make dbt parse the project again)."""
    project = ROOT / "dbt_projects" / "checkout"
    return run(
        [
            str(BIN / "dbt"),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            f"target/bench_{name}",
            "--quiet",
            *args,
        ],
        env,
    )


def dbt_full(env):
    """The same work as mesh_full: every model, the incremental ones rebuilt from scratch."""
    return _dbt(env, "full", "--full-refresh")


def dbt_day(env):
    """The same work as mesh_day: the views, and one day replaced in the incremental models."""
    return _dbt(env, "day", "--vars", json.dumps({"mesh_partition_start": DAY, "mesh_partition_end": NEXT_DAY}))


def alternate(sides: dict, env, repeat: int) -> dict[str, list[dict]]:
    """Each side once per round, in the same order, `repeat` rounds: A B C A B C ..."""
    out: dict[str, list[dict]] = {name: [] for name in sides}
    for i in range(repeat):
        for name, side in sides.items():
            out[name].append(side(env))
        print(
            f"  round {i + 1}/{repeat}: " + ", ".join(f"{n} {out[n][-1]['seconds']:.1f}s" for n in sides),
            file=sys.stderr,
        )
    return out


def med(runs: list[dict], field: str = "seconds") -> float:
    return statistics.median(r[field] for r in runs)


def bench_checkout(scale: float, repeat: int, full: bool) -> dict:
    """One day's run and (with `full`) a full refresh, each through the platform and as a bare
    dbt build of the same work, alternating in rounds."""
    env = scale_env(scale)
    mesh_full(env)  # a published port to replace a day of (and warm caches)
    sides = {"mesh_day": mesh_day, "dbt_day": dbt_day}
    if full:
        sides.update({"mesh_full": mesh_full, "dbt_full": dbt_full})
    runs = alternate(sides, env, repeat)
    return {
        "scale": scale,
        "repeat": repeat,
        **{name: {"seconds": med(r), "cpu": med(r, "cpu")} for name, r in runs.items()},
    }


LOAD = """
import sys, time
started = time.perf_counter()
from mesh_platform.importing import import_file
defs = import_file(sys.argv[1], "bench_location").defs
repo = defs.get_repository_def()
assets = len(list(repo.asset_graph.get_all_asset_keys()))
print(f"{assets}")
"""


def bench_locations(repeat: int, products: int, models_per_product: int) -> list[dict]:
    env = scale_env(0.01)
    for domain in ("brokerage", "checkout", "recommendations", "risk"):
        run([str(BIN / "mesh"), "prepare", "--domain", domain], env)
    out = []
    targets = [(d.parent.name, d, env) for d in sorted((ROOT / "domains").glob("*/definitions.py"))]
    synth_root = DATA / f"synthetic_{products}x{models_per_product}"
    if not (synth_root / "dbt_projects" / "synth" / "target" / "dev" / "manifest.json").exists():
        shutil.rmtree(synth_root, ignore_errors=True)
        print(f"generating a synthetic domain ({products} products x {models_per_product} models)", file=sys.stderr)
        run(
            [
                sys.executable,
                str(HERE / "synthetic_domain.py"),
                "--out",
                str(synth_root),
                "--products",
                str(products),
                "--models-per-product",
                str(models_per_product),
            ],
            env,
        )
    synth_env = {**env, "MESH_ROOT": str(synth_root)}
    targets.append(
        (
            f"synthetic ({products} products, {products * models_per_product} models)",
            synth_root / "domains" / "synth" / "definitions.py",
            synth_env,
        )
    )
    for name, file, target_env in targets:
        runs = [run([sys.executable, "-c", LOAD, str(file)], target_env) for _ in range(repeat)]
        out.append(
            {
                "location": name,
                "seconds": med(runs),
                "cpu": med(runs, "cpu"),
                "peak_mb": max(r["peak_mb"] for r in runs),
                "assets": int(runs[0]["out"].strip().splitlines()[-1]),
            }
        )
        print(f"  {name}: {out[-1]['seconds']:.2f}s {out[-1]['peak_mb']:.0f} MB", file=sys.stderr)
    return out


def report(results: dict, repeat: int) -> None:
    print()
    print(f"median of alternating runs; {os.cpu_count()} cores; load average at the end {os.getloadavg()[0]:.1f}")
    print()
    print("| measurement | platform | baseline | ratio | target | |")
    print("|---|---:|---:|---:|---|---|")

    def cell(side: dict) -> str:
        return f"{side['seconds']:.2f} s ({side['cpu']:.1f} s CPU)"

    for r in results.get("checkout", []):
        n, scale = r["repeat"], r["scale"]
        if "mesh_full" in r:
            ratio = r["mesh_day"]["seconds"] / r["mesh_full"]["seconds"]
            print(
                f"| one day vs full refresh (`mesh materialize`), scale {scale:g}, n={n} | {cell(r['mesh_day'])} "
                f"| {cell(r['mesh_full'])} | {ratio:.3f} | <= 0.10 | {'OK' if ratio <= 0.10 else 'MISSED'} |"
            )
        for kind, label in (("day", "one day"), ("full", "full refresh")):
            if f"mesh_{kind}" not in r:
                continue
            mesh, dbt = r[f"mesh_{kind}"], r[f"dbt_{kind}"]
            ratio = mesh["seconds"] / dbt["seconds"]
            if kind == "day":
                target = "<= 1.5x, CPU <= dbt's + 3 s"
                ok = ratio <= 1.5 and mesh["cpu"] <= dbt["cpu"] + 3
            else:
                limit = 1.5 if scale >= 10 else 3.0
                target, ok = f"<= {limit:g}x", ratio <= limit
            print(
                f"| {label}: mesh materialize vs bare dbt build, scale {scale:g}, n={n} | {cell(mesh)} "
                f"| {cell(dbt)} | {ratio:.2f}x (+{mesh['seconds'] - dbt['seconds']:.1f} s) | {target} "
                f"| {'OK' if ok else 'MISSED'} |"
            )
    for r in results.get("locations", []):
        synthetic = r["location"].startswith("synthetic")
        limit = 15 if synthetic else 3
        ok = r["seconds"] <= limit and (synthetic or r["peak_mb"] <= 250)
        target = "<= 15 s" if synthetic else "<= 3 s, <= 250 MB"
        print(
            f"| load {r['location']} ({r['assets']} assets), n={repeat} | {r['seconds']:.2f} s ({r['cpu']:.2f} s CPU), "
            f"{r['peak_mb']:.0f} MB | | | {target} | {'OK' if ok else 'MISSED'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="*", choices=["checkout", "locations", []], default=["checkout", "locations"])
    parser.add_argument("--scale", type=float, nargs="*", default=[1, 10])
    parser.add_argument(
        "--full-up-to",
        type=float,
        default=1,
        help="also time full refreshes at scales up to this one (each is minutes)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--models-per-product", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    results: dict[str, list] = {}
    if "checkout" in args.what:
        results["checkout"] = [bench_checkout(s, args.repeat, full=s <= args.full_up_to) for s in args.scale]
    if "locations" in args.what:
        results["locations"] = bench_locations(args.repeat, args.products, args.models_per_product)
    report(results, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
