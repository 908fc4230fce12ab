"""Benchmark: what the platform costs on top of dbt, and what partitions save.

    make bench                                                 # everything, the table in docs/benchmarks.md
    .venv/bin/python bench/platform_overhead.py checkout --scale 1 10 --full-up-to 1 --repeat 5
    .venv/bin/python bench/platform_overhead.py locations --repeat 5
    .venv/bin/python bench/platform_overhead.py checkout --scale 1 --postgres --postgres-own-repeat 1 --repeat 3
    .venv/bin/python bench/platform_overhead.py checkout --scale 1 --years --without-standby --repeat 3

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
  - one day vs full refresh through the platform: what partitions save;
  - with --without-standby, the platform's runs also with MESH_DBT_NO_STANDBY (the run's dbt
    starts from scratch instead of from a standby: runtime/dbt_standby.py);
  - with --floors, what no run of this design can go below: for one day, a process that only
    imports what every run imports (Dagster, dagster-dbt, the instance, the check runner:
    IMPORTS) next to bare dbt; for the full refresh, bare dbt followed by the platform's own
    audit and publishing of each port without Dagster (bench/wap_floor.py);
  - with --postgres, the platform's one day and full refresh also on dagster.prod.yaml's
    instance (the platform's PostgreSQL run storage and event log) on a throwaway server, a fresh database per
    run, its CPU time including the server's (bench/postgres_instance.py); with
    --postgres-own-repeat N, in the first N rounds also the full refresh on dagster-postgres'
    own run storage and event log.
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

import yaml
from timed import run

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
DATA = HERE / ".data"
TODAY = dt.datetime.now(dt.UTC).date()
DAY = str(TODAY - dt.timedelta(days=1))  # the newest day with orders: the sample shop's yesterday


YEARS = 5  # the repository's sample: checkout's shop opened on 2022-01-01 (seed.py, its descriptor)
OPENED = "2022-01-01"


def scale_env(scale: float, years: int = YEARS) -> dict[str, str]:
    """A data dir and instance per scale, seeded once. With `years` other than the sample's five,
    a copy of checkout (domain, dbt project, platform macros) whose shop opened that many years
    earlier or later: the same orders spread over more days, so the same data in more partitions."""
    data = DATA / (f"scale_{scale:g}" if years == YEARS else f"scale_{scale:g}_years_{years}")
    env = {
        **os.environ,
        "MESH_DATA_DIR": str(data / "data"),
        "DAGSTER_HOME": str(data / "dagster_home"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("DAGSTER_IS_DEV_CLI", None)
    if years != YEARS:
        env["MESH_ROOT"] = str(_checkout_over(years, data / "root"))
    if not (data / "data" / "landing" / "checkout").exists():
        (data / "dagster_home").mkdir(parents=True, exist_ok=True)
        print(f"seeding checkout at scale {scale:g} ({years} years) into {data}", file=sys.stderr)
        run([str(BIN / "mesh"), "seed", "--domain", "checkout", "--scale", str(scale)], env)
    # the dev instance's run and event-log storages, as `make dev` and the tests use them
    dev = yaml.safe_load((ROOT / "dagster_home" / "dagster.yaml").read_text())
    (data / "dagster_home" / "dagster.yaml").write_text(
        yaml.safe_dump({k: dev[k] for k in ("run_storage", "event_log_storage")})
    )
    run([str(BIN / "mesh"), "prepare", "--domain", "checkout"], env)
    return env


def _checkout_over(years: int, root: Path) -> Path:
    """A mesh root holding checkout alone, its shop opened `years` before the sample's end."""
    opened = str(dt.date.fromisoformat(OPENED).replace(year=int(OPENED[:4]) - (years - YEARS)))
    files = {
        "domains/checkout": ROOT / "domains" / "checkout",
        "dbt_projects/checkout": ROOT / "dbt_projects" / "checkout",
        "mesh_platform/dbt_macros": ROOT / "mesh_platform" / "dbt_macros",
        "governance": ROOT / "governance",
    }
    for rel, source in files.items():
        if not (root / rel).exists():
            shutil.copytree(source, root / rel, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
    for rel, old, new in (
        (
            "domains/checkout/seed.py",
            f"PERIOD_START = dt.date({int(OPENED[:4])}, 1, 1)",
            f"PERIOD_START = dt.date({opened[:4]}, 1, 1)",
        ),
        (
            "domains/checkout/products/web_orders_with_consent/dataproduct.yaml",
            f'start: "{OPENED}"',
            f'start: "{opened}"',
        ),
    ):
        text = (root / rel).read_text()
        if new not in text:
            if old not in text:
                raise SystemExit(f"{rel}: no {old!r} to move the shop's opening in (the sample changed?)")
            (root / rel).write_text(text.replace(old, new))
    return root


NEXT_DAY = str(TODAY)
PARTITIONED = """
import sys
from mesh_platform.importing import import_file
graph = import_file(sys.argv[1], "bench_location").defs.resolve_asset_graph()
print(sum(1 for key in graph.get_all_asset_keys() if graph.get(key).partitions_def is not None))
"""


def partitioned_assets(env) -> int:
    """Checkout's partitioned assets (its product's models, views too): what each extra day adds."""
    root = Path(env.get("MESH_ROOT", ROOT))
    out = run([sys.executable, "-c", PARTITIONED, str(root / "domains" / "checkout" / "definitions.py")], env)["out"]
    return int(out.split()[-1])


def days_over(years: int) -> int:
    """Daily partitions of checkout's shop opened `years` before the sample's end, through yesterday."""
    opened = dt.date.fromisoformat(OPENED).replace(year=int(OPENED[:4]) - (years - YEARS))
    return (TODAY - opened).days


def mesh_full(env):
    return run([str(BIN / "mesh"), "materialize", "--domain", "checkout", "--partition", "all"], env)


def mesh_day(env):
    return run([str(BIN / "mesh"), "materialize", "--domain", "checkout", "--partition", DAY], env)


def _dbt(env, name: str, *args: str):
    """A bare dbt build; each kind keeps its own target path, so its partial parse stays valid
    (different vars would make dbt parse the project again)."""
    project = Path(env.get("MESH_ROOT", ROOT)) / "dbt_projects" / "checkout"
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


def on_postgres(pg, storage: str, side):
    """`side` on a fresh database of the PostgreSQL instance (`storage`: the platform's event log
    or Dagster's own), with the server's CPU time during it."""

    def timed(env):
        home = Path(env["DAGSTER_HOME"]).with_name(f"dagster_home_postgres_{storage}")
        return pg.run_on(storage, home, lambda extra: side({**env, **extra}))

    return timed


def alternate(sides: dict, env, repeat: int, rounds: dict[str, int] | None = None) -> dict[str, list[dict]]:
    """Each side once per round, in the same order, `repeat` rounds: A B C A B C ...; a side
    named in `rounds` runs in that many first rounds only."""
    out: dict[str, list[dict]] = {name: [] for name in sides}
    for i in range(repeat):
        ran = [name for name in sides if i < (rounds or {}).get(name, repeat)]
        for name in ran:
            out[name].append(sides[name](env))
        print(
            f"  round {i + 1}/{repeat} (load {os.getloadavg()[0]:.1f}): "
            + ", ".join(f"{n} {out[n][-1]['seconds']:.1f}s" for n in ran),
            file=sys.stderr,
        )
    return out


def med(runs: list[dict], field: str = "seconds") -> float:
    return statistics.median(r[field] for r in runs)


def summary(runs: list[dict]) -> dict:
    """Medians of a side's runs (and of the server's CPU for a PostgreSQL side)."""
    fields = [f for f in ("seconds", "cpu", "server_cpu", "cpu_total") if f in runs[0]]
    return {"n": len(runs), **{f: med(runs, f) for f in fields}}


IMPORTS = """
import gc
gc.disable()  # as mesh materialize loads (runtime/startup_gc.py)
import dagster, dagster_dbt
dagster.DagsterInstance.get()
from mesh_platform.publishing.target import DuckDBTarget
for name in DuckDBTarget.audit_modules:
    __import__(name)
"""


def imports_floor(env):
    """A process that imports what every run imports, then exits: a one-day run's CPU floor."""
    return run([sys.executable, "-c", IMPORTS], env)


def wap_floor(env):
    """Bare dbt's full refresh, then the audit and publishing of each port without Dagster."""
    built, published = dbt_full(env), run([sys.executable, str(HERE / "wap_floor.py"), "checkout"], env)
    return {
        "seconds": built["seconds"] + published["seconds"],
        "cpu": built["cpu"] + published["cpu"],
        "peak_mb": max(built["peak_mb"], published["peak_mb"]),
        "out": published["out"],
    }


def cold(side):
    """`side` without the dbt standby (runtime/dbt_standby.py): the run's dbt starts from scratch."""
    return lambda env: side({**env, "MESH_DBT_NO_STANDBY": "1"})


def bench_checkout(
    scale: float,
    repeat: int,
    full: bool,
    pg=None,
    own_repeat: int = 0,
    years: list[int] | None = None,
    without_standby: bool = False,
    floors: bool = False,
) -> dict:
    """One day's run and (with `full`) a full refresh, each through the platform and as a bare
    dbt build of the same work, alternating in rounds; with `pg`, the platform's runs also on the
    PostgreSQL instance, and (`own_repeat` rounds) its full refresh on Dagster's own run storage and event log."""
    env = scale_env(scale)
    mesh_full(env)  # a published port to replace a day of (and warm caches)
    sides = {"mesh_day": mesh_day, "dbt_day": dbt_day}
    if without_standby:
        sides["cold_day"] = cold(mesh_day)
    if floors:
        sides["imports_floor"] = imports_floor
    if pg:
        sides["pg_day"] = on_postgres(pg, "mesh", mesh_day)
    if full:
        sides.update({"mesh_full": mesh_full, "dbt_full": dbt_full})
        if without_standby:
            sides["cold_full"] = cold(mesh_full)
        if floors:
            sides["wap_floor"] = wap_floor
        if pg:
            sides["pg_full"] = on_postgres(pg, "mesh", mesh_full)
            if own_repeat:
                sides["pg_own_full"] = on_postgres(pg, "dagster", mesh_full)
        for y in years or []:  # the same data over more (or fewer) days: what a partition costs
            other = scale_env(scale, y)
            mesh_full(other)
            sides[f"mesh_full_{y}y"] = lambda _env, e=other: mesh_full(e)
            sides[f"dbt_full_{y}y"] = lambda _env, e=other: dbt_full(e)
    runs = alternate(sides, env, repeat, rounds={"pg_own_full": own_repeat})
    return {
        "scale": scale,
        "repeat": repeat,
        "days": {y: days_over(y) for y in [YEARS, *(years or [])]},
        "partitioned_assets": partitioned_assets(env),
        "load_at_end": os.getloadavg(),
        **{name: summary(r) for name, r in runs.items()},
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


def report(results: dict, repeat: int, load_at_start: tuple) -> None:
    print()
    print(
        f"median of alternating runs; {os.cpu_count()} cores; load average (1/5/15 min) "
        f"at the start {'/'.join(f'{x:.1f}' for x in load_at_start)}, "
        f"at the end {'/'.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print()
    print("| measurement | platform | baseline | ratio | target | |")
    print("|---|---:|---:|---:|---|---|")

    def cell(side: dict) -> str:
        if "server_cpu" in side:  # a PostgreSQL side: the client's CPU + the server's
            return f"{side['seconds']:.2f} s ({side['cpu']:.1f} + {side['server_cpu']:.1f} s server CPU)"
        return f"{side['seconds']:.2f} s ({side['cpu']:.1f} s CPU)"

    def cpu(side: dict) -> float:
        return side.get("cpu_total", side["cpu"])

    def ratio(side: dict, base: dict) -> str:
        return (
            f"{side['seconds'] / base['seconds']:.2f}x ({side['seconds'] - base['seconds']:+.1f} s), "
            f"CPU {cpu(side) / cpu(base):.2f}x"
        )

    for r in results.get("checkout", []):
        n, scale = r["repeat"], r["scale"]
        if "mesh_full" in r:
            # what partitions save, beside what they save bare dbt (whose fixed costs weigh on a day too)
            day_vs_full = r["mesh_day"]["seconds"] / r["mesh_full"]["seconds"]
            bare = r["dbt_day"]["seconds"] / r["dbt_full"]["seconds"]
            print(
                f"| one day vs full refresh (`mesh materialize`), scale {scale:g}, n={n} | {cell(r['mesh_day'])} "
                f"| {cell(r['mesh_full'])} | {day_vs_full:.2f} | bare dbt's own: {bare:.2f} | |"
            )
        for kind, label in (("day", "one day"), ("full", "full refresh")):
            dbt = r.get(f"dbt_{kind}")
            for name, where in (("mesh", "SQLite"), ("pg", "PostgreSQL")):
                mesh = r.get(f"{name}_{kind}")
                if mesh is None:
                    continue
                if kind == "day":
                    target = "<= 1.5x, CPU <= dbt's + 3 s"
                    ok = mesh["seconds"] / dbt["seconds"] <= 1.5 and cpu(mesh) <= dbt["cpu"] + 3
                else:
                    limit = 1.5 if scale >= 10 else 3.0
                    target, ok = f"<= {limit:g}x", mesh["seconds"] / dbt["seconds"] <= limit
                print(
                    f"| {label}: mesh materialize ({where}) vs bare dbt build, scale {scale:g}, n={mesh['n']} "
                    f"| {cell(mesh)} | {cell(dbt)} | {ratio(mesh, dbt)} | {target} | {'OK' if ok else 'MISSED'} |"
                )
            if f"cold_{kind}" in r:
                mesh, without = r[f"mesh_{kind}"], r[f"cold_{kind}"]
                print(
                    f"| {label}: with the dbt standby vs without (MESH_DBT_NO_STANDBY), scale {scale:g}, "
                    f"n={mesh['n']} | {cell(mesh)} | {cell(without)} | {ratio(mesh, without)} | | |"
                )
        if "imports_floor" in r:
            dbt, floor, mesh = r["dbt_day"], r["imports_floor"], r["mesh_day"]
            least = dbt["cpu"] + floor["cpu"]
            print(
                f"| one day: CPU floor = bare dbt + a process importing what every run imports, scale {scale:g}, "
                f"n={floor['n']} | {mesh['cpu']:.1f} s CPU | {least:.1f} s CPU ({dbt['cpu']:.1f} + {floor['cpu']:.1f}) "
                f"| {mesh['cpu'] - least:+.1f} s | the target (dbt's + 3 s) is below this floor: "
                f"{'yes' if floor['cpu'] > 3 else 'no'} | |"
            )
        if "wap_floor" in r:
            dbt, floor, mesh = r["dbt_full"], r["wap_floor"], r["mesh_full"]
            print(
                f"| full refresh: floor = bare dbt + the audit and publishing of each port without Dagster, "
                f"scale {scale:g}, n={floor['n']} | {cell(mesh)} | {cell(floor)} | {ratio(mesh, floor)} "
                f"| the floor vs bare dbt: {floor['seconds'] / dbt['seconds']:.2f}x | |"
            )
        for y, days in r.get("days", {}).items():
            if f"mesh_full_{y}y" not in r:
                continue
            mesh, dbt = r[f"mesh_full_{y}y"], r[f"dbt_full_{y}y"]
            print(
                f"| full refresh over {y} years ({days} days), scale {scale:g}, n={mesh['n']} | {cell(mesh)} "
                f"| {cell(dbt)} | {ratio(mesh, dbt)} | | |"
            )
            share, base = mesh["seconds"] - dbt["seconds"], r["mesh_full"]["seconds"] - r["dbt_full"]["seconds"]
            extra = (days - r["days"][YEARS]) * r["partitioned_assets"]
            per = (share - base) / extra * 1000
            print(
                f"| the platform's share (platform - bare dbt), {y} vs {YEARS} years: growth per extra "
                f"partition of each partitioned asset ({extra} more) | {share:.2f} s | {base:.2f} s "
                f"| {per:.2f} ms | <= 3 ms | {'OK' if per <= 3 else 'MISSED'} |"
            )
        if "pg_own_full" in r:
            ours, own = r["pg_full"], r["pg_own_full"]
            print(
                f"| full refresh on PostgreSQL: the platform's storages vs dagster-postgres' own, scale {scale:g}, "
                f"n={ours['n']} / {own['n']} | {cell(ours)} | {cell(own)} | {ratio(ours, own)} | | |"
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
    # default [] (in choices): argparse checks a list default against choices as one value
    parser.add_argument("what", nargs="*", choices=["checkout", "locations", []], default=[])
    parser.add_argument("--scale", type=float, nargs="*", default=[1, 10])
    parser.add_argument(
        "--full-up-to",
        type=float,
        default=1,
        help="also time full refreshes at scales up to this one (each is minutes)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--years",
        type=int,
        nargs="*",
        default=[10],
        help="with full refreshes: also over checkout's shop opened this many years back (same data, more days)",
    )
    parser.add_argument(
        "--without-standby",
        action="store_true",
        help="checkout: also the platform's runs without the dbt standby (runtime/dbt_standby.py)",
    )
    parser.add_argument(
        "--floors",
        action="store_true",
        help="checkout: also the floors no run of this design goes below (imports; dbt + audit + publishing)",
    )
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--models-per-product", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="checkout: also run the platform on dagster.prod.yaml's instance, on a throwaway PostgreSQL",
    )
    parser.add_argument(
        "--postgres-own-repeat",
        type=int,
        default=0,
        metavar="N",
        help="with --postgres: also the full refresh on dagster-postgres' own storages, in the first N rounds "
        "(minutes each)",
    )
    args = parser.parse_args()
    args.what = args.what or ["checkout", "locations"]
    if args.postgres_own_repeat and not args.postgres:
        parser.error("--postgres-own-repeat needs --postgres")
    load_at_start = os.getloadavg()
    results: dict[str, list] = {}
    if "checkout" in args.what:
        pg = None
        if args.postgres:
            import postgres_instance  # imports the tests' server fixture

            pg = postgres_instance.start(["checkout"])
        try:
            results["checkout"] = [
                bench_checkout(
                    s,
                    args.repeat,
                    s <= args.full_up_to,
                    pg,
                    args.postgres_own_repeat,
                    args.years,
                    args.without_standby,
                    args.floors,
                )
                for s in args.scale
            ]
        finally:
            if pg:
                pg.stop()
    if "locations" in args.what:
        results["locations"] = bench_locations(args.repeat, args.products, args.models_per_product)
    report(results, args.repeat, load_at_start)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
