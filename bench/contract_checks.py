"""Benchmark: the checkout contract's checks vs the same checks hand-written as one DuckDB query.

    make bench                                          # 1M and 10M rows (BENCH_ROWS)
    make bench BENCH_ROWS="1000000 10000000 100000000"  # 100M: ~3.4 GB in bench/.data
    .venv/bin/python bench/contract_checks.py --rows 1000000 --repeat 1

Builds an output-port-shaped table (the columns and types of checkout's
web_orders_with_consent, clean data) in a DuckDB file per size under bench/.data/, then
measures, each in a fresh child process so peak memory is that measurement's alone
(the child's ru_maxrss from os.wait4):

* checks:      compile_contract + run_checks, exactly what the Dagster audit runs, on the
               audit's connection settings (`duckdb_config()`: the 256 MB cap, a spill directory),
               with `now` fixed just after the newest sale so the freshness rule passes;
* hand SQL:    one hand-written SELECT computing the same pass/fail facts, with
               COUNT(DISTINCT key); it cannot finish under 256 MB at 100M rows, so it runs under
               the first cap of `--hand-caps` that it finishes under (the table says which;
               1 GB is not enough at 100M rows: it ran out of memory there in 2 of 4 attempts);
* hashed SQL:  the same SELECT counting COUNT(DISTINCT hash(key)) as the checks do
               (contracts/key_counts.py), under the audit's 256 MB: the ratio against it shows
               what the checks cost beyond that reshaping;
* per-rule:    the reference pandera form, one pandera schema per rule validated on the
               table (what a naive pandera-ibis integration does), for comparison.

Each child spills to a directory of its own. Times are wall time of the checking only (not
interpreter start or imports); each mode runs `--repeat` times, alternating, and the median is
reported, so the ratio compares runs on the same machine at the same moment. The load average
before and after is printed: other jobs share this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONTRACT = ROOT / "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
TABLE = "web_orders_with_consent"

GENERATE = """
create or replace table main.web_orders_with_consent as
with lines as (
    select i, i // 3 as o, (i % 3 + 1)::integer as line_number,
           (hash(i) % 10)::integer as h, (hash(i * 7) % 1000)::integer as p
    from range({rows}) r(i)
)
select 'WO-' || lpad(o::varchar, 9, '0') || '-' || line_number as order_line_id,
       'WO-' || lpad(o::varchar, 9, '0') as order_number,
       line_number,
       'I' || lpad((p * 13 % 5000)::varchar, 6, '0') as item_id,
       ['Books','Electronics','Home','Sports','Toys','Clothing','Beauty','Garden','Grocery','Music'][h + 1]
           as item_category,
       'C' || lpad((o % 400000)::varchar, 8, '0') as billing_customer_id,
       'C' || lpad((o % 400000)::varchar, 8, '0') as shipping_customer_id,
       (timestamp '2021-01-01' + to_seconds(o * 15))::timestamp as sold_at,
       (timestamp '2021-01-01' + to_seconds(o * 15))::date as sold_date,
       ((timestamp '2021-01-01' + to_seconds(o * 15))::date + (h % 5)::integer) as ship_date,
       (h % 9 + 1)::integer as quantity,
       ((p + 100) / 10.0)::decimal(10,2) as unit_list_price,
       ((p + 100) / 10.0 * 0.9)::decimal(10,2) as unit_sales_price,
       ((h % 9 + 1) * ((p + 100) / 10.0 * 0.9)::decimal(10,2))::decimal(12,2) as line_amount
from lines
"""

# The same facts the contract's checks establish, written by hand as one query.
HAND_SQL = """
select
    count(*) as row_count,
    count(*) - count(distinct order_line_id) as pk_or_unique_violations,
    count_if(order_line_id is null) as order_line_id_nulls,
    count_if(order_number is null) + count_if(line_number is null) + count_if(item_id is null)
      + count_if(billing_customer_id is null) + count_if(sold_at is null) + count_if(sold_date is null)
      + count_if(quantity is null) + count_if(line_amount is null) as required_nulls,
    count_if(not regexp_matches(order_line_id, '^WO-[0-9]{9}-[0-9]+$')) as bad_order_line_id,
    count_if(not regexp_matches(order_number, '^WO-[0-9]{9}$')) as bad_order_number,
    count_if(not regexp_matches(billing_customer_id, '^C[0-9]{8}$')) as bad_customer,
    count_if(line_number < 1) + count_if(quantity < 1) + count_if(unit_list_price < 0)
      + count_if(unit_sales_price < 0) + count_if(line_amount < 0) as below_minimum,
    count(*) - count(distinct {'a': order_number, 'b': line_number}) as duplicate_order_lines,
    count_if(unit_sales_price > unit_list_price) as above_list_price,
    count_if(ship_date < sold_date) as shipped_before_sale,
    count_if(item_category not in ('Books','Electronics','Home','Sports','Toys','Clothing','Beauty',
                                   'Garden','Grocery','Music')) as unknown_category,
    100.0 * count_if(item_category is null) / count(*) as category_null_pct,
    count_if(line_amount <> quantity * unit_sales_price) as line_amount_mismatch,
    max(sold_date) as newest_sale
from main.web_orders_with_consent
"""
# The same query counting hashed keys, as contracts/key_counts.py does (with no repeat found,
# the checks need no exact count either).
HASHED_SQL = HAND_SQL.replace("count(distinct order_line_id)", "count(distinct hash(order_line_id))").replace(
    "count(distinct {'a': order_number, 'b': line_number})",
    "count(distinct hash({'a': order_number, 'b': line_number}))",
)
assert HASHED_SQL.count("hash(") == 2
MODES = ("checks", "sql", "sql-hashed")


def newest_sale(rows: int) -> dt.datetime:
    """When the generated data's newest sale happened (GENERATE: order i // 3 sold 15 s apart)."""
    return dt.datetime(2021, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=15 * ((rows - 1) // 3))


def check_time(rows: int) -> dt.datetime:
    """`now` for the checks: an hour after the newest sale's day ends, so freshness (24h on
    sold_date) passes at every size instead of depending on the day the benchmark runs."""
    day_end = dt.datetime.combine(newest_sale(rows).date() + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return day_end + dt.timedelta(hours=1)


def build(rows: int) -> Path:
    import duckdb

    path = HERE / ".data" / f"port_{rows}.duckdb"
    if path.exists():
        return path
    path.parent.mkdir(exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(partial)) as con:
        con.execute(GENERATE.format(rows=rows))
    os.replace(partial, path)
    print(f"built {rows:,} rows in {path} ({time.perf_counter() - started:.1f}s)", file=sys.stderr)
    return path


def measure(mode: str, db: Path, rows: int, cap: str | None) -> dict:
    """Runs in the child: one measurement. The hand-written SQL runs on a bare DuckDB
    connection (no ibis or platform imported), so its peak RSS is what such a query costs;
    `cap` is its memory limit (the parent passes the audit's for the hashed SQL)."""
    spill = tempfile.mkdtemp(prefix="bench_spill_", dir=HERE / ".data")
    try:
        if mode in ("sql", "sql-hashed"):
            import duckdb

            con = duckdb.connect(str(db), read_only=True, config={"memory_limit": cap, "temp_directory": spill})
            started = time.perf_counter()
            con.execute(HAND_SQL if mode == "sql" else HASHED_SQL).fetchall()
            return {"seconds": time.perf_counter() - started, "cap": cap}
        import ibis

        from mesh_platform.contracts.measure import duckdb_config

        con = ibis.duckdb.connect(str(db), read_only=True, **{**duckdb_config(), "temp_directory": spill})
        return _checks(mode, con.table(TABLE, database="main"), rows)
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _checks(mode: str, table, rows: int) -> dict:
    from mesh_platform.contracts.compiler import compile_contract
    from mesh_platform.contracts.explain import masked_columns
    from mesh_platform.contracts.runner import run_checks
    from mesh_platform.specs.contract import load_contract

    contract = load_contract(CONTRACT)
    if mode == "checks":
        started = time.perf_counter()
        specs = compile_contract(contract, TABLE)
        outcomes = run_checks(specs, table, masked_columns(contract.schema_object(TABLE)), now=check_time(rows))
        elapsed = time.perf_counter() - started
        failed = [o.spec.key for o in outcomes if not o.passed]
        assert not failed, f"the generated data should pass every check: {failed}"
        return {"seconds": elapsed, "checks": len(outcomes)}
    if mode == "per-rule":
        import pandera.ibis as pa

        from mesh_platform.contracts.pandera_schemas import to_pandera

        started = time.perf_counter()
        specs = compile_contract(contract, TABLE)
        n = 0
        for spec in specs:
            try:
                schema = to_pandera(spec, now=check_time(rows))
            except ValueError:
                continue  # sql, schema, type: no row-level form
            try:
                schema.validate(table, lazy=True)
            except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
                raise AssertionError(f"{spec.key} failed on clean data") from exc
            n += 1
        return {"seconds": time.perf_counter() - started, "checks": n}
    raise ValueError(mode)


def child(mode: str, db: Path, rows: int, cap: str | None = None, may_fail: bool = False) -> dict | None:
    """One measurement in a fresh process; its peak RSS from the kernel's accounting. With
    `may_fail`, None when DuckDB ran out of memory."""
    argv = [sys.executable, __file__, "--child", mode, str(db), str(rows), cap or ""]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err if may_fail else None, cwd=ROOT)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace")
            if may_fail and "OutOfMemoryException" in message:
                return None
            raise SystemExit(f"{mode} on {db} failed (exit {proc.returncode}) {message[-500:]}")
    result = json.loads(out)
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    return result


def hand_cap(db: Path, rows: int, caps: list[str]) -> str:
    """The first memory cap the hand-written SQL finishes under (this run also warms the OS
    page cache for every mode)."""
    for cap in caps:
        if child("sql", db, rows, cap, may_fail=True) is not None:
            return cap
        print(f"hand SQL: out of memory under {cap} at {rows:,} rows", file=sys.stderr)
    raise SystemExit(f"the hand-written SQL ran out of memory under every cap of {caps} at {rows:,} rows")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--hand-caps",
        default="256MB,4GB",
        help="memory caps to try, in order, for the hand-written SQL with COUNT(DISTINCT key)",
    )
    parser.add_argument(
        "--per-rule",
        choices=["all", "small", "none"],
        default="small",
        help="run the per-rule reference at every size, the smallest only, or never",
    )
    parser.add_argument("--child", nargs=4, metavar=("MODE", "DB", "ROWS", "CAP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, db, rows, cap = args.child
        print(json.dumps(measure(mode, Path(db), int(rows), cap or None)))
        return

    from mesh_platform.contracts.measure import duckdb_config

    audit_cap = duckdb_config()["memory_limit"]
    results: dict[int, dict[str, list[dict]]] = {}
    loads = {}
    for rows in args.rows:
        db = build(rows)
        loads[rows] = [load()]
        cap = hand_cap(db, rows, args.hand_caps.split(","))
        runs: dict[str, list[dict]] = {mode: [] for mode in (*MODES, "per-rule")}
        for _ in range(args.repeat):
            runs["checks"].append(child("checks", db, rows))
            runs["sql"].append(child("sql", db, rows, cap))
            runs["sql-hashed"].append(child("sql-hashed", db, rows, audit_cap))
        if args.per_rule == "all" or (args.per_rule == "small" and rows == min(args.rows)):
            runs["per-rule"].append(child("per-rule", db, rows))
        results[rows] = runs
        loads[rows].append(load())
        print(f"measured {rows:,} rows (load average {' -> '.join(loads[rows])})", file=sys.stderr)

    report(results, loads)


def report(results: dict[int, dict[str, list[dict]]], loads: dict[int, list[str]]) -> None:
    def med(runs, field="seconds"):
        return statistics.median(r[field] for r in runs)

    def peak(runs):
        return max(r["peak_mb"] for r in runs)

    largest = max(results)
    print()
    print(
        f"checkout contract: {results[largest]['checks'][0]['checks']} checks; DuckDB {_duckdb_version()}, "
        f"{os.cpu_count()} cores; median of {len(results[largest]['checks'])} runs; checks and hashed SQL "
        "under the audit's 256 MB cap"
    )
    print()
    print(
        "| rows | checks (s) | hand SQL (s) | hand SQL cap | hashed SQL (s) | checks / hand | checks / hashed "
        "| per-rule pandera (s) | checks peak RSS (MB) | hand SQL peak RSS (MB) | hashed SQL peak RSS (MB) "
        "| load average (1/5/15 min, before -> after) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for rows, runs in sorted(results.items()):
        per_rule = f"{med(runs['per-rule']):.2f}" if runs["per-rule"] else "-"
        checks, sql, hashed = med(runs["checks"]), med(runs["sql"]), med(runs["sql-hashed"])
        print(
            f"| {rows:,} | {checks:.2f} | {sql:.2f} | {runs['sql'][0]['cap']} | {hashed:.2f} | {checks / sql:.2f} "
            f"| {checks / hashed:.2f} | {per_rule} | {peak(runs['checks']):.0f} | {peak(runs['sql']):.0f} "
            f"| {peak(runs['sql-hashed']):.0f} | {' -> '.join(loads[rows])} |"
        )
    ratio = med(results[largest]["checks"]) / med(results[largest]["sql"])
    print()
    print(
        f"target: checks / hand-written SQL <= 1.05 at {largest:,} rows: {ratio:.2f} "
        f"{'OK' if ratio <= 1.05 else 'MISSED'}"
    )
    for rows, runs in sorted(results.items()):
        print(
            f"target: checks peak RSS <= 400 MB at {rows:,} rows: {peak(runs['checks']):.0f} MB "
            f"{'OK' if peak(runs['checks']) <= 400 else 'MISSED'}"
        )


def _duckdb_version() -> str:
    import duckdb

    return duckdb.__version__


if __name__ == "__main__":
    main()
