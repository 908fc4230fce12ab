"""Benchmark: what the platform costs on top of dbt, and what partitions save.

    make bench                                            # everything, the README's table
    .venv/bin/python bench/platform_overhead.py incremental --scale 1
    .venv/bin/python bench/platform_overhead.py overhead --scale 1 10 --repeat 5
    .venv/bin/python bench/platform_overhead.py locations

Each figure is the median of `--repeat` runs; the two sides of a ratio alternate (A B A B
...) in the same invocation, so a ratio compares runs on the same machine at the same
moment, whatever else the machine is doing. Every run is a fresh process, timed from
start to exit (wall clock), with peak RSS from the kernel (os.wait4).

* incremental: `mesh materialize --domain checkout --partition <one day>` vs
  `mesh materialize --domain checkout` (every partition: a full refresh), at a scale.
* overhead: `mesh materialize --domain checkout` vs a bare `dbt build` of the same
  project on the same warehouse (no audit, no publishing, no Dagster), at each scale.
* locations: each code location of workspace.yaml, and a generated domain of 50
  products / 500 models (bench/synthetic_domain.py): the time and peak RSS of a process
  that imports the location's definitions and resolves its repository, as Dagster's code
  server does.

Data lives under bench/.data/ (one data dir per scale, seeded once).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
DATA = HERE / ".data"
DAY = "2025-12-31"  # the newest day with orders in the generated data


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> dict:
    """One timed child process: wall seconds and peak RSS (MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(out.decode(errors="replace")[-4000:])
        raise SystemExit(f"failed (exit {code}): {' '.join(cmd)}")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,  # load-independent-ish
            "peak_mb": usage.ru_maxrss / 1024, "out": out.decode(errors="replace")}


def scale_env(scale: float) -> dict[str, str]:
    data = DATA / f"scale_{scale:g}"
    env = {**os.environ, "MESH_DATA_DIR": str(data / "data"), "DAGSTER_HOME": str(data / "dagster_home"),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DAGSTER_IS_DEV_CLI", None)
    if not (data / "data" / "landing" / "checkout").exists():
        (data / "dagster_home").mkdir(parents=True, exist_ok=True)
        (data / "dagster_home" / "dagster.yaml").write_text("")
        print(f"seeding checkout at scale {scale:g} into {data}", file=sys.stderr)
        run([str(BIN / "mesh"), "seed", "--domain", "checkout", "--scale", str(scale)], env)
    run([str(BIN / "mesh"), "prepare", "--domain", "checkout"], env)
    return env


def mesh_full(env):
    return run([str(BIN / "mesh"), "materialize", "--domain", "checkout"], env)


def mesh_day(env):
    return run([str(BIN / "mesh"), "materialize", "--domain", "checkout", "--partition", DAY], env)


def bare_dbt(env):
    project = ROOT / "dbt_projects" / "checkout"
    return run([str(BIN / "dbt"), "build", "--project-dir", str(project), "--profiles-dir", str(project),
                "--target-path", "target/bench", "--quiet"], env)


def alternate(a, b, env, repeat: int) -> tuple[list[dict], list[dict]]:
    ra, rb = [], []
    for i in range(repeat):
        ra.append(a(env))
        rb.append(b(env))
        print(f"  run {i + 1}/{repeat}: {ra[-1]['seconds']:.2f}s vs {rb[-1]['seconds']:.2f}s", file=sys.stderr)
    return ra, rb


def med(runs: list[dict], field: str = "seconds") -> float:
    return statistics.median(r[field] for r in runs)


def bench_incremental(scale: float, repeat: int) -> dict:
    env = scale_env(scale)
    mesh_full(env)  # a published port to add a day to (and warm caches)
    day, full = alternate(mesh_day, mesh_full, env, repeat)
    return {"scale": scale, "day": med(day), "full": med(full), "ratio": med(day) / med(full),
            "day_cpu": med(day, "cpu"), "full_cpu": med(full, "cpu")}


def bench_overhead(scale: float, repeat: int) -> dict:
    env = scale_env(scale)
    mesh_full(env)
    bare_dbt(env)  # warm
    mesh, dbt = alternate(mesh_full, bare_dbt, env, repeat)
    return {"scale": scale, "mesh": med(mesh), "dbt": med(dbt), "ratio": med(mesh) / med(dbt),
            "extra": med(mesh) - med(dbt)}


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
        run([sys.executable, str(HERE / "synthetic_domain.py"), "--out", str(synth_root), "--products",
             str(products), "--models-per-product", str(models_per_product)], env)
    synth_env = {**env, "MESH_ROOT": str(synth_root)}
    targets.append((f"synthetic ({products} products, {products * models_per_product} models)",
                    synth_root / "domains" / "synth" / "definitions.py", synth_env))
    for name, file, target_env in targets:
        runs = [run([sys.executable, "-c", LOAD, str(file)], target_env) for _ in range(repeat)]
        out.append({"location": name, "seconds": med(runs), "cpu": med(runs, "cpu"),
                    "peak_mb": max(r["peak_mb"] for r in runs),
                    "assets": int(runs[0]["out"].strip().splitlines()[-1])})
        print(f"  {name}: {out[-1]['seconds']:.2f}s {out[-1]['peak_mb']:.0f} MB", file=sys.stderr)
    return out


def report(results: dict, repeat: int) -> None:
    print()
    print(f"median of {repeat} alternating runs; {os.cpu_count()} cores; "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    print()
    print("| measurement | platform | baseline | ratio | target | |")
    print("|---|---:|---:|---:|---|---|")
    for r in results.get("incremental", []):
        ok = r["ratio"] <= 0.10
        print(f"| one day vs full rebuild, scale {r['scale']:g} | {r['day']:.2f} s ({r['day_cpu']:.1f} s CPU) "
              f"| {r['full']:.2f} s ({r['full_cpu']:.1f} s CPU) | {r['ratio']:.2f} | <= 0.10 | {'OK' if ok else 'MISSED'} |")
    for r in results.get("overhead", []):
        if r["scale"] >= 10:
            target, ok = "<= 1.15x", r["ratio"] <= 1.15
        else:
            target, ok = "<= +4 s", r["extra"] <= 4
        print(f"| mesh materialize vs bare dbt build, scale {r['scale']:g} | {r['mesh']:.2f} s | {r['dbt']:.2f} s "
              f"| {r['ratio']:.2f} (+{r['extra']:.1f} s) | {target} | {'OK' if ok else 'MISSED'} |")
    for r in results.get("locations", []):
        synthetic = r["location"].startswith("synthetic")
        limit = 15 if synthetic else 3
        ok = r["seconds"] <= limit and (synthetic or r["peak_mb"] <= 250)
        target = "<= 15 s" if synthetic else "<= 3 s, <= 250 MB"
        print(f"| load {r['location']} ({r['assets']} assets) | {r['seconds']:.2f} s ({r['cpu']:.2f} s CPU), "
              f"{r['peak_mb']:.0f} MB | | | {target} | {'OK' if ok else 'MISSED'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="*", choices=["incremental", "overhead", "locations", []],
                        default=["incremental", "overhead", "locations"])
    parser.add_argument("--scale", type=float, nargs="*", default=None,
                        help="scales for overhead (default 1 10) and incremental (default 1)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--models-per-product", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    results: dict[str, list] = {}
    if "incremental" in args.what:
        results["incremental"] = [bench_incremental(s, args.repeat) for s in (args.scale or [1])[:1]]
    if "overhead" in args.what:
        results["overhead"] = [bench_overhead(s, args.repeat) for s in (args.scale or [1, 10])]
    if "locations" in args.what:
        results["locations"] = bench_locations(args.repeat, args.products, args.models_per_product)
    report(results, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
