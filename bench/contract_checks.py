"""Benchmark: the checkout contract's checks vs the same checks hand-written as one DuckDB query.

    make bench                                  # 1M and 10M rows (the table in docs/benchmarks.md)
    .venv/bin/python bench/contract_checks.py --rows 1000000 --repeat 1

Builds an output-port-shaped table (the columns and types of checkout's
web_orders_with_consent, clean data) in a DuckDB file per size under bench/.data/, then
measures, each in a fresh child process so peak memory is that measurement's alone
(the child's ru_maxrss from os.wait4):

* checks:      compile_contract + run_checks, exactly what the Dagster audit runs;
* hand SQL:    one hand-written SELECT computing the same pass/fail facts;
* per-rule:    the reference pandera form, one pandera schema per rule validated on the
               table (what a naive pandera-ibis integration does), for comparison.

Times are wall time of the checking only (not interpreter start or imports); each mode
runs `--repeat` times, alternating, and the median is reported, so the ratio compares
runs on the same machine at the same moment.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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
    count_if(line_amount <> quantity * unit_sales_price) as line_amount_mismatch
from main.web_orders_with_consent
"""


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


def measure(mode: str, db: Path) -> dict:
    """Runs in the child: one measurement."""
    import ibis

    from mesh_platform.contracts.measure import duckdb_config

    # both modes on the same connection settings as the Dagster audit (a DuckDB memory cap)
    con = ibis.duckdb.connect(str(db), read_only=True, **duckdb_config())
    table = con.table(TABLE, database="main")
    if mode == "sql":
        started = time.perf_counter()
        con.con.execute(HAND_SQL).fetchall()
        return {"seconds": time.perf_counter() - started}

    from mesh_platform.contracts.compiler import compile_contract
    from mesh_platform.contracts.explain import masked_columns
    from mesh_platform.contracts.runner import run_checks
    from mesh_platform.specs.contract import load_contract

    contract = load_contract(CONTRACT)
    if mode == "checks":
        started = time.perf_counter()
        specs = compile_contract(contract, TABLE)
        outcomes = run_checks(specs, table, masked_columns(contract.schema_object(TABLE)))
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
                schema = to_pandera(spec)
            except ValueError:
                continue  # sql, schema, type: no row-level form
            try:
                schema.validate(table, lazy=True)
            except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
                raise AssertionError(f"{spec.key} failed on clean data") from exc
            n += 1
        return {"seconds": time.perf_counter() - started, "checks": n}
    raise ValueError(mode)


def child(mode: str, db: Path) -> dict:
    """One measurement in a fresh process; its peak RSS from the kernel's accounting."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, str(db)], stdout=subprocess.PIPE, cwd=ROOT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} on {db} failed (exit {proc.returncode})")
    result = json.loads(out)
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--per-rule",
        choices=["all", "small", "none"],
        default="small",
        help="run the per-rule reference at every size, the smallest only, or never",
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return

    results: dict[int, dict[str, list[dict]]] = {}
    for rows in args.rows:
        db = build(rows)
        child("sql", db)  # warm the OS page cache for both modes
        runs: dict[str, list[dict]] = {"checks": [], "sql": [], "per-rule": []}
        for _ in range(args.repeat):
            runs["checks"].append(child("checks", db))
            runs["sql"].append(child("sql", db))
        if args.per_rule == "all" or (args.per_rule == "small" and rows == min(args.rows)):
            runs["per-rule"].append(child("per-rule", db))
        results[rows] = runs
        print(f"measured {rows:,} rows", file=sys.stderr)

    report(results)


def report(results: dict[int, dict[str, list[dict]]]) -> None:
    def med(runs, field="seconds"):
        return statistics.median(r[field] for r in runs)

    smallest, largest = min(results), max(results)
    print()
    print(
        f"checkout contract: {results[largest]['checks'][0]['checks']} checks; DuckDB {_duckdb_version()}, "
        f"{os.cpu_count()} cores; median of {len(results[largest]['checks'])} runs"
    )
    print()
    print(
        "| rows | checks (s) | hand-written SQL (s) | ratio | per-rule pandera (s) | checks peak RSS (MB) "
        "| SQL peak RSS (MB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for rows, runs in sorted(results.items()):
        per_rule = f"{med(runs['per-rule']):.2f}" if runs["per-rule"] else "-"
        print(
            f"| {rows:,} | {med(runs['checks']):.2f} | {med(runs['sql']):.2f} "
            f"| {med(runs['checks']) / med(runs['sql']):.2f} | {per_rule} "
            f"| {max(r['peak_mb'] for r in runs['checks']):.0f} | {max(r['peak_mb'] for r in runs['sql']):.0f} |"
        )
    ratio = med(results[largest]["checks"]) / med(results[largest]["sql"])
    peak_large = max(r["peak_mb"] for r in results[largest]["checks"])
    peak_small = max(r["peak_mb"] for r in results[smallest]["checks"])
    print()
    print(
        f"target: checks / hand-written SQL <= 1.5 at {largest:,} rows: {ratio:.2f} "
        f"{'OK' if ratio <= 1.5 else 'MISSED'}"
    )
    print(
        f"target: peak memory <= 600 MB at {largest:,} rows: {peak_large:.0f} MB "
        f"{'OK' if peak_large <= 600 else 'MISSED'}"
    )
    if largest != smallest:
        growth = peak_large / peak_small
        print(
            f"target: peak memory at {largest:,} within 1.5x of {smallest:,}: {growth:.2f}x "
            f"{'OK' if growth <= 1.5 else 'MISSED'}"
        )


def _duckdb_version() -> str:
    import duckdb

    return duckdb.__version__


if __name__ == "__main__":
    main()
