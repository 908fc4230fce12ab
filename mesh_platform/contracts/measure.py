"""Measuring: the value each rule's threshold judges, computed in the database.

Every expression here is backend-neutral ibis, so the same compiled checks run in
DuckDB and compile to BigQuery SQL. By the rule's `registry.Shape`:

* ROW, KEY and TABLE rules become named scalar aggregates of one shared
  `SELECT ... FROM table` (`build_aggregate`). Names are canonical
  (`nunique:order_line_id`), so two rules needing the same aggregate share one. On DuckDB
  keys are counted as hashes, which spill, and exactly only when a hash repeats (`key_counts.py`);
* QUERY rules (`type: sql`) run their own read-only SELECT, in the sandbox on DuckDB;
* RELATION rules count the rows of an anti-join against the target relation;
* SCHEMA rules compare the relation's schema with the contract, without a scan.

`violations(spec, table)` gives the offending rows, for the count and sample of a
failed rule only (`explain.py`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow.parquet as pq
import sqlglot as sg
from ibis import _

from mesh_platform.contracts import bigquery, key_counts, sql_rules, sql_sandbox
from mesh_platform.contracts.model import CheckSpec, data_time
from mesh_platform.contracts.registry import Shape, utc_now
from mesh_platform.mesh.address import PortAddress
from mesh_platform.published_layout import live_location, port_dir
from mesh_platform.specs import column_types

# Given a relationship spec and the checked table, the target relation (same backend) or None.
Resolver = Callable[[CheckSpec, ibis.Table], "ibis.Table | None"]


def duckdb_config() -> dict[str, str]:
    """Settings for a DuckDB connection that runs checks. The memory cap makes DuckDB spill
    the hash tables of key checks to disk instead of growing with the table: measured on 10M
    rows, 1.2 GB -> 270 MB peak, and faster (5.2 s -> 2.9 s). What cannot spill under it is
    kept out of the checks' queries (`key_counts.py`). MESH_DUCKDB_MEMORY_LIMIT overrides the cap."""
    return {
        "memory_limit": os.environ.get("MESH_DUCKDB_MEMORY_LIMIT", "256MB"),
        "temp_directory": str(Path(tempfile.gettempdir()) / "mesh_duckdb_spill"),
    }


def row_predicate(spec: CheckSpec, table: ibis.Table, now: dt.datetime | None = None) -> ir.BooleanColumn:
    """True on the rows that break a row-level rule (never null): the registry's predicate."""
    return spec.kind.predicate(spec, table, now or utc_now())


def key_expr(table: ibis.Table, columns: tuple[str, ...], dialect: str) -> ir.Column:
    """One value per row identifying its key, for COUNT(DISTINCT ...): the column itself, or
    for a composite key a struct (DuckDB) or a delimited string (BigQuery, which cannot
    COUNT(DISTINCT) a STRUCT). Null parts stay distinguishable from values."""
    if len(columns) == 1:
        return table[columns[0]]
    if dialect == "bigquery":
        parts = [table[c].cast("string").fill_null("\x00") for c in columns]
        return ibis.literal("\x1f").join(parts)
    return ibis.struct({c: table[c] for c in columns})


def aggregates(
    spec: CheckSpec, table: ibis.Table, dialect: str, now: dt.datetime | None = None
) -> dict[str, ir.Scalar]:
    """The named scalar aggregates `metric` needs, for the one shared aggregate query."""
    out: dict[str, ir.Scalar] = {"n": table.count()}
    cols = spec.columns
    if spec.kind.shape is Shape.ROW:
        out[_bad_name(spec)] = row_predicate(spec, table, now).sum().fill_null(0)
    elif spec.kind.shape is Shape.KEY:
        name = ",".join(cols)
        if not key_counts.hashes_keys(dialect):
            out[f"nunique:{name}"] = key_expr(table, cols, dialect).nunique()
        elif key_counts.hashing_is_exact(table, cols):  # else measure_aggregate counts exactly
            out[f"hashes:{name}"] = key_counts.hash_count(table, cols)
        if len(cols) == 1:
            out[f"nulls:{name}"] = table[cols[0]].isnull().sum().fill_null(0)
        elif spec.rule == "primary_key":
            out[f"anynull:{name}"] = ibis.or_(*[table[c].isnull() for c in cols]).sum().fill_null(0)
    elif spec.rule == "freshness":
        out[f"max:{cols[0]}"] = table[cols[0]].max()
    return out


FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # clock skew between the source and us


def _bad_name(spec: CheckSpec) -> str:
    """The aggregate counting a rule's offending rows; `required` and a nullValues metric on
    the same column share one."""
    if spec.rule in ("not_null", "null_values") and len(spec.columns) == 1:
        return f"nulls:{spec.columns[0]}"
    return f"bad:{spec.key}"


def metric(spec: CheckSpec, values: dict[str, Any], now: dt.datetime | None = None) -> tuple[float, int | None]:
    """(the value the rule's threshold judges, the exact failing row count if already known)."""
    n = int(values["n"] or 0)
    cols = spec.columns
    name = ",".join(cols)
    percent = spec.threshold is not None and spec.threshold.unit == "percent"

    def scaled(count: float) -> float:
        return (count * 100.0 / n if n else 0.0) if percent else float(count)

    if spec.rule == "row_count":
        return float(n), None
    if spec.kind.shape is Shape.ROW:
        bad = int(values[_bad_name(spec)] or 0)
        return scaled(bad), bad
    if spec.kind.shape is Shape.KEY:
        distinct = int(values[f"nunique:{name}"] or 0)
        nulls = int(values.get(f"nulls:{name}") or values.get(f"anynull:{name}") or 0)
        if spec.rule == "unique":  # nulls are not duplicates of each other
            return float(n - nulls - distinct), None
        if spec.rule == "primary_key":  # a null key or a repeated key
            return float(n - distinct + (nulls if len(cols) > 1 else 0)), None
        groups = distinct + (1 if len(cols) == 1 and nulls else 0)  # GROUP BY keeps one null group
        return scaled(n - groups), None
    if spec.rule == "freshness":
        newest = values[f"max:{cols[0]}"]
        if newest is None:
            return float("inf"), None
        now = now or utc_now()
        start = data_time(newest, end=False)
        if start > now + FUTURE_TOLERANCE:  # a value from the future is wrong data, not fresh data
            return float("inf"), None
        return max((now - data_time(newest)).total_seconds() / 3600.0, 0.0), None
    raise ValueError(f"rule {spec.rule!r} is not measured by the shared aggregate")


def violations(
    spec: CheckSpec, table: ibis.Table, now: dt.datetime | None = None, target: ibis.Table | None = None
) -> ibis.Table | None:
    """The offending rows, or None for table-level rules (row count, sql, freshness...)."""
    cols = list(spec.columns)
    if spec.kind.shape is Shape.ROW:
        return table.filter(row_predicate(spec, table, now))
    if spec.rule == "unique":
        return with_repeated_key(table, cols, null_keys=False)
    if spec.rule == "duplicate_values":
        return with_repeated_key(table, cols, null_keys=True)
    if spec.rule == "primary_key":
        null_key = ibis.or_(*[table[c].isnull() for c in cols])
        return table.filter(null_key).union(with_repeated_key(table, cols, null_keys=False))
    if spec.rule == "relationship" and target is not None:
        to = spec.params["to_columns"]
        keys = target.select(**{f"__to_{i}": target[c] for i, c in enumerate(to)}).distinct()
        present = table.filter(ibis.and_(*[table[c].notnull() for c in cols]))
        return present.anti_join(keys, [present[c] == keys[f"__to_{i}"] for i, c in enumerate(cols)])
    return None


def with_repeated_key(table: ibis.Table, cols: list[str], null_keys: bool) -> ibis.Table:
    """The rows whose key another row has too (a key with a null part counts only with
    `null_keys`, as one value): a semi-join with the keys a GROUP BY finds repeated, which
    spills. The window form (`COUNT(*) OVER (PARTITION BY key)`) carried every column of every
    row: a 10-row sample of 100M rows took 126 s under 256 MB, this ~23 s."""
    keyed = table if null_keys else table.filter(*[table[c].notnull() for c in cols])
    counted = keyed.group_by(cols).aggregate(mesh_n=_.count())
    repeated = counted.filter(counted.mesh_n > 1).select(**{f"mesh_key_{i}": counted[c] for i, c in enumerate(cols)})
    return table.semi_join(repeated, [table[c].identical_to(repeated[f"mesh_key_{i}"]) for i, c in enumerate(cols)])


def dialect_of(table: ibis.Table) -> str:
    try:
        return table.get_backend().name
    except Exception:  # noqa: BLE001 - an unbound table
        return "duckdb"


def build_aggregate(
    specs: list[CheckSpec], table: ibis.Table, dialect: str, now: dt.datetime | None = None
) -> tuple[ibis.Table, dict[str, str], dict[str, str]]:
    """(the one-row aggregate relation, canonical name -> column alias, spec key -> why not evaluable)."""
    named: dict[str, Any] = {"n": table.count()}  # the row count, always
    unevaluable: dict[str, str] = {}
    for spec in specs:
        try:
            exprs = aggregates(spec, table, dialect, now)
        except Exception as exc:  # noqa: BLE001 - e.g. a pattern on a numeric column
            unevaluable[spec.key] = first_line(exc)
            continue
        for name, expr in exprs.items():
            named.setdefault(name, expr)
    aliases = {name: f"m{i}" for i, name in enumerate(named)}
    relation = table.aggregate(**{aliases[name]: expr for name, expr in named.items()})
    return relation, aliases, unevaluable


def measure_aggregate(specs, table, dialect, now) -> tuple[dict[str, Any], dict[str, str]]:
    """(canonical aggregate name -> value, spec key -> why not evaluable): runs the one query,
    then, where keys were hashed, an exact count for each key whose hashes repeat."""
    relation, aliases, unevaluable = build_aggregate(specs, table, dialect, now)
    row = relation.to_pyarrow().to_pylist()[0]
    values = {name: row[alias] for name, alias in aliases.items()}
    if key_counts.hashes_keys(dialect):
        n = int(values["n"] or 0)
        for spec in specs:
            name = ",".join(spec.columns)
            if spec.kind.shape is not Shape.KEY or spec.key in unevaluable or f"nunique:{name}" in values:
                continue
            rows = n - int(values[f"nulls:{name}"] or 0) if len(spec.columns) == 1 else n
            hashes = values.get(f"hashes:{name}")
            values[f"nunique:{name}"] = key_counts.distinct_keys(table, spec.columns, hashes, rows)
    return values, unevaluable


def relation_expr(table: ibis.Table, dialect: str) -> sg.exp.Expression:
    """The relation a sql rule reads in `dialect`, as a sqlglot tree: the table's qualified
    name, or the query behind it (e.g. a partition window) as a subquery."""
    op = table.op()
    if isinstance(op, (ibis.expr.operations.DatabaseTable, ibis.expr.operations.UnboundTable)):
        ns = op.namespace
        return sg.table(op.name, db=ns.database, catalog=ns.catalog, quoted=True)
    return sg.parse_one(ibis.to_sql(table, dialect=dialect), read=dialect)


def sql_rule_query(spec: CheckSpec, table: ibis.Table, dialect: str) -> str:
    """The validated rule in `dialect` (BigQuery), reading `table` where it names the checked
    relation, through a projection of only the columns the rule reads."""
    column = spec.columns[0] if spec.columns else None
    sql, _ = sql_rules.bind(
        spec.params["query"],
        spec.table,
        column,
        spec.params.get("schema_columns", ()),
        relation_expr(table, dialect),
        dialect,
        narrow=True,
    )
    return sql


def run_sql_rule(spec: CheckSpec, table: ibis.Table, dialect: str) -> float:
    """The rule's number. Validated again here (so what runs is what was checked), then run
    in the DuckDB sandbox, or on BigQuery after a dry run shows it reads only the port's table."""
    column = spec.columns[0] if spec.columns else None
    readable = spec.params.get("schema_columns", ())
    if dialect == "duckdb":  # in the sandbox: nothing but the checked rows are reachable
        sql, reads = sql_rules.bind(
            spec.params["query"], spec.table, column, readable, sg.exp.to_table(sql_sandbox.VIEW), dialect
        )
        rows = sql_sandbox.run_rule(table, sql, columns=reads)
    elif dialect == "bigquery":
        rows = bigquery.run_sql_rule(table, sql_rule_query(spec, table, dialect))
    else:
        raise ValueError(f"sql rules run on DuckDB or BigQuery only, not {dialect}")
    if len(rows) != 1 or not rows[0]:
        raise ValueError(f"expected one row with one number, got {len(rows)} rows")
    value = rows[0][0]
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)) and value is not None:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    return number(value)


def default_resolver(spec: CheckSpec, table: ibis.Table) -> ibis.Table | None:
    """Another domain's port: its published `current.parquet`; else a table of this contract,
    next to the checked one."""
    target = spec.params["target"]
    if spec.params.get("external"):
        location = live_location(port_dir(PortAddress.parse(target)))  # a file, or a partitioned port's glob
        return parquet_relation(table.get_backend(), location) if location else None
    if target == spec.table:
        return table
    op = table.op()
    try:
        database = getattr(op, "namespace", None) and op.namespace.database
        return table.get_backend().table(target, database=database)
    except Exception:  # noqa: BLE001 - not there
        return None


def parquet_relation(backend, path: Path | str) -> ibis.Table:
    """A Parquet file (or a partitioned port's glob) as a relation without creating a view
    (the warehouse is read-only)."""
    literal = str(path).replace("'", "''")
    first = sorted(glob.glob(str(path)))[0] if "*" in str(path) else path
    schema = ibis.Schema.from_pyarrow(pq.read_schema(first))  # given, so ibis need not probe the query
    return backend.sql(f"SELECT * FROM read_parquet('{literal}')", schema=schema)


def schema_drift(spec: CheckSpec, schema: ibis.Schema, dialect: str) -> list[str]:
    """What differs between the contract and the relation, one phrase per column."""
    if spec.rule == "schema":
        expected = spec.params["expected"]
        out = [f"missing column {c!r}" for c in expected if c not in schema]
        out += [f"extra column {c!r}" for c in schema.names if c not in expected]
        for c, types in expected.items():
            if c in schema:
                problem = _type_problem(schema[c], types["logicalType"], types["physicalType"], dialect)
                if problem:
                    out.append(f"retyped column {c!r}: {problem}")
        return out
    column = spec.columns[0]
    if column not in schema:
        return [f"missing column {column!r}"]
    problem = _type_problem(schema[column], spec.params["logical_type"], spec.params["physical_type"], dialect)
    return [f"column {column!r}: {problem}"] if problem else []


def _type_problem(actual, logical: str | None, physical: str | None, dialect: str) -> str | None:
    if logical and column_types.matches_logical(actual, logical) is False:
        return f"expected logical type {logical}, found {actual}"
    if physical:
        wanted = column_types.parse(physical, dialect) if dialect in ("duckdb", "bigquery") else None
        if wanted is not None and not _same_type(wanted, actual, dialect):
            return f"expected physical type {physical}, found {actual}"
    return None


def _same_type(wanted, actual, dialect: str = "duckdb") -> bool:
    if dialect == "bigquery" and wanted.is_decimal() and actual.is_decimal():
        # ibis reads a BigQuery NUMERIC(p, s) column as decimal(38, 9), without its
        # parameters; dbt's enforced model contract pins them when the table is created.
        return True
    return column_types.same(wanted, actual)


def number(value: Any) -> float:
    return float(value) if value is not None else 0.0


def first_line(err: Exception) -> str:
    text = str(err).split("\n", 1)[0]
    return text[:300]
