"""A product's cost: what it measurably uses (storage, run time) and what its team declares.

Measured quantities are priced with a rate card from the environment, so the monthly total is
declared expenses + run hours of the last 30 days x compute rate + stored GB x storage rate:

- MESH_COST_CURRENCY (USD), MESH_COST_PER_COMPUTE_HOUR (0.50), MESH_COST_PER_GB_MONTH (0.02).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

from mesh_platform.catalog.model import Expense
from mesh_platform.published_layout import current_dir, is_partitioned
from mesh_platform.specs.errors import SpecError

GB = 1024**3


def rates() -> dict[str, float]:
    return {
        "compute_per_hour": float(os.environ.get("MESH_COST_PER_COMPUTE_HOUR", "0.50")),
        "storage_per_gb_month": float(os.environ.get("MESH_COST_PER_GB_MONTH", "0.02")),
    }


def currency() -> str:
    return os.environ.get("MESH_COST_CURRENCY", "USD")


def files_bytes(port_dir: Path) -> tuple[int, int]:
    """(every snapshot kept, the live snapshot) in bytes, as the file system reports them.
    A partitioned port's versions share unchanged partitions as hard links: counted once."""
    if is_partitioned(port_dir):

        def size(files) -> int:
            seen = {(s.st_dev, s.st_ino): s.st_size for s in (f.stat() for f in files)}
            return sum(seen.values())

        return size((port_dir / "versions").glob("*/*/*.parquet")), size(current_dir(port_dir).glob("*/*.parquet"))
    snapshots = port_dir / "snapshots"
    total = sum(f.stat().st_size for f in snapshots.glob("*.parquet")) if snapshots.exists() else 0
    current = port_dir / "current.parquet"
    return total, current.stat().st_size if current.exists() else 0


def warehouse_bytes(database: Path, tables: list[str]) -> int | None:
    """Bytes of the blocks holding these tables (by name, in any schema) in a DuckDB file.

    Counted from DuckDB's storage_info: every distinct block the tables' segments use, times the
    file's block size (views use none). None when the file is missing or being written.
    """
    if not database.exists():
        return None
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return None  # a run holds the writer's lock: measure next time
    try:
        block_size = con.execute("select block_size from pragma_database_size()").fetchone()[0]
        found = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            "and table_name in (select unnest($1::varchar[]))",
            [list(tables)],
        ).fetchall()
        blocks: set[int] = set()
        for schema, table in found:
            qualified = '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'
            for block_id, extra in con.execute(
                "select block_id, additional_block_ids from pragma_storage_info($1) where persistent and block_id >= 0",
                [qualified],
            ).fetchall():
                blocks.add(block_id)
                blocks.update(extra or [])
        return len(blocks) * block_size
    finally:
        con.close()


def monthly_expense(item: dict) -> Expense:
    """An item of the descriptor's `expenses` list, as a monthly amount (validated at load)."""
    amount = float(item["cost"])
    per = item.get("per", "month")
    return Expense(
        name=str(item["name"]),
        description=str(item.get("description", "")),
        category=str(item.get("category", "other")),
        monthly=round(amount / 12 if per == "year" else amount, 2),
        currency=str(item.get("currency", currency())),
    )


def per_currency(declared: list[Expense], measured: float = 0.0, currency: str | None = None) -> dict[str, float]:
    """Monthly amounts added up per currency, declared currencies first: amounts in different
    currencies are never added together (no exchange rate is declared anywhere)."""
    out: dict[str, float] = {}
    for expense in declared:
        out[expense.currency] = out.get(expense.currency, 0.0) + expense.monthly
    if currency is not None:
        out[currency] = out.get(currency, 0.0) + measured
    return {cur: round(amount, 2) if amount >= 0.005 else round(amount, 6) for cur, amount in out.items()}


def money(amount: float | None, currency: str) -> str:
    """`1,920.00 USD`; an amount too small for cents is `< 0.01 USD`, not a free-looking 0.00."""
    if amount is None:
        return "-"
    if 0 < amount < 0.005:
        return f"< 0.01 {currency}"
    return f"{amount:,.2f} {currency}"


def describe_totals(cost) -> str:
    """A product's monthly cost in words, each currency on its own (`1,920.00 USD + 80.00 EUR`).
    Without declared expenses it says so, with what was measured beside it."""
    if not cost.declared:
        measured = cost.totals.get(cost.currency, 0.0)
        return "none declared" + (f" (measured {money(measured, cost.currency)})" if measured > 0 else "")
    return " + ".join(money(amount, cur) for cur, amount in cost.totals.items())


EXPENSE_PERIODS = ("month", "year")


def declared_expenses(product) -> list[dict[str, Any]]:
    """The descriptor's declared costs: customProperties `expenses`, a list of
    {name, description, category, cost, currency, per: month|year}; errors name file:line."""
    for i, prop in enumerate(product.spec.customProperties):
        if prop.property != "expenses":
            continue
        where = ("customProperties", i, "value")
        if not isinstance(prop.value, list):
            raise SpecError(
                [
                    product.doc.problem(
                        where,
                        "expected a list of expenses ({name, description, category, cost, currency, per})",
                        rule="spec.expenses",
                    )
                ]
            )
        problems = []
        for j, item in enumerate(prop.value):
            if not isinstance(item, dict) or "name" not in item or "cost" not in item:
                problems.append(
                    product.doc.problem(
                        (*where, j), "expected an expense with at least 'name' and 'cost'", rule="spec.expenses"
                    )
                )
                continue
            cost = item["cost"]
            if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0:
                problems.append(
                    product.doc.problem(
                        (*where, j, "cost"), f"expected a non-negative number, got {cost!r}", rule="spec.expenses"
                    )
                )
            if item.get("per", "month") not in EXPENSE_PERIODS:
                problems.append(
                    product.doc.problem(
                        (*where, j, "per"),
                        f"expected one of {list(EXPENSE_PERIODS)}, got {item.get('per')!r}",
                        rule="spec.expenses",
                    )
                )
        if problems:
            raise SpecError(problems)
        return list(prop.value)
    return []
