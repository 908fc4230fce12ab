"""Partitioned products: publishing a range atomically, checks scoped to the run's partitions,
the descriptor's partitioning, and checkout's daily partitions end to end through dbt."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import ibis
import pytest
from sample_days import day

from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.contracts.partition_scope import run_partition_checks
from mesh_platform.published_layout import current_dir, read_location
from mesh_platform.publishing.partitioned import list_versions, publish_partitions, read_manifest, rollback_partitions
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import SpecError

D = dt.date


def _table(path: Path, rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("create or replace table t (id integer, day date, v integer)")
    con.executemany("insert into t values (?, ?, ?)", rows)
    return con


def _live(port_dir: Path) -> list[tuple]:
    return duckdb.sql(f"select id, day, v from read_parquet('{read_location(port_dir)}') order by id").fetchall()


# --- publishing ---------------------------------------------------------------------------


def test_a_range_is_published_beside_the_untouched_partitions_and_swapped_in_atomically(tmp_path):
    port = tmp_path / "port"
    rows = [(0, D(2024, 12, 31), 5), (1, D(2025, 1, 1), 10), (2, D(2025, 1, 2), 20), (3, D(2025, 1, 3), 30)]
    con = _table(tmp_path / "w.duckdb", rows)
    first = publish_partitions(con, "t", port, "day", None, run_id="full")
    assert first.row_count == 4 and first.partitions == 4 and first.written == 4
    assert _live(port) == rows
    assert sorted(p.name for p in current_dir(port).iterdir()) == ["2024-12", "2025-01", "_manifest.json"]

    # the warehouse changes everywhere, but this run only publishes 2025-01-02: the rest of its
    # month comes from the live version, not from the warehouse
    con.execute("update t set v = v + 1")
    con.execute("insert into t values (4, date '2025-01-02', 40)")
    old_version = current_dir(port).resolve()
    second = publish_partitions(con, "t", port, "day", (D(2025, 1, 2), D(2025, 1, 3)), run_id="day")
    assert second.written == 1 and second.partitions == 4 and second.row_count == 5
    assert _live(port) == [
        (0, D(2024, 12, 31), 5),
        (1, D(2025, 1, 1), 10),
        (2, D(2025, 1, 2), 21),
        (3, D(2025, 1, 3), 30),
        (4, D(2025, 1, 2), 40),
    ]
    new_version = current_dir(port).resolve()
    assert new_version != old_version and old_version.exists()  # the old version stays for rollback
    untouched, rewritten = "2024-12/data0.parquet", "2025-01/data0.parquet"
    assert os.stat(new_version / untouched).st_ino == os.stat(old_version / untouched).st_ino  # hard link
    assert os.stat(new_version / rewritten).st_ino != os.stat(old_version / rewritten).st_ino
    manifest = read_manifest(port)
    assert manifest["window"] == ["2025-01-02", "2025-01-03"]
    assert {k: v["rows"] for k, v in manifest["partitions"].items()} == {
        "2024-12-31": 1,
        "2025-01-01": 1,
        "2025-01-02": 2,
        "2025-01-03": 1,
    }
    assert current_dir(port).is_symlink() and not os.path.isabs(os.readlink(current_dir(port)))

    assert rollback_partitions(port) == old_version
    assert _live(port) == rows


def test_a_version_in_daily_folders_is_rewritten_in_months_on_its_next_run(tmp_path):
    """Ports published before monthly files (one `<column>=<day>` folder per partition) keep
    their rows: the next range run rewrites every month from the live version and the range."""
    port = tmp_path / "port"
    rows = [(1, D(2024, 12, 31), 10), (2, D(2025, 1, 2), 20)]
    con = _table(tmp_path / "w.duckdb", rows)
    legacy = port / "versions" / "20250101T000000000000Z__old"
    legacy.parent.mkdir(parents=True)
    con.execute(
        f"COPY (SELECT * FROM t) TO '{legacy}' (FORMAT parquet, PARTITION_BY (day), "
        "WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'data')"
    )
    (legacy / "_manifest.json").write_text(
        json.dumps(
            {
                "column": "day",
                "window": None,
                "row_count": 2,
                "partitions": {
                    "2024-12-31": {"files": ["data0.parquet"], "rows": 1},
                    "2025-01-02": {"files": ["data0.parquet"], "rows": 1},
                },
            }
        )
    )
    os.symlink(os.path.relpath(legacy, port), current_dir(port))
    con.execute("update t set v = v + 1")
    publish_partitions(con, "t", port, "day", (D(2025, 1, 2), D(2025, 1, 3)), run_id="day")
    assert _live(port) == [(1, D(2024, 12, 31), 10), (2, D(2025, 1, 2), 21)]
    assert sorted(p.name for p in current_dir(port).iterdir()) == ["2024-12", "2025-01", "_manifest.json"]


def test_a_day_that_lost_its_rows_is_emptied(tmp_path):
    port = tmp_path / "port"
    con = _table(tmp_path / "w.duckdb", [(1, D(2025, 1, 1), 1), (2, D(2025, 1, 2), 2)])
    publish_partitions(con, "t", port, "day", None)
    con.execute("delete from t where day = date '2025-01-02'")
    published = publish_partitions(con, "t", port, "day", (D(2025, 1, 2), D(2025, 1, 3)))
    assert published.partitions == 1 and _live(port) == [(1, D(2025, 1, 1), 1)]
    assert len(list_versions(port)) == 2


def test_rows_without_a_partition_value_are_refused_and_nothing_goes_live(tmp_path):
    port = tmp_path / "port"
    con = _table(tmp_path / "w.duckdb", [(1, D(2025, 1, 1), 1)])
    publish_partitions(con, "t", port, "day", None)
    live = current_dir(port).resolve()
    con.execute("insert into t values (2, null, 2)")
    with pytest.raises(ValueError, match="rows have no day"):
        publish_partitions(con, "t", port, "day", None)
    assert current_dir(port).resolve() == live and _live(port) == [(1, D(2025, 1, 1), 1)]


# --- checks scoped to the run's partitions -------------------------------------------------

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: part-v1
version: 1.0.0
status: active
schema:
  - name: t
    physicalType: table
    properties:
      - {name: id, logicalType: integer, primaryKey: true, required: true}
      - {name: day, logicalType: date, required: true}
      - name: v
        logicalType: integer
        logicalTypeOptions: {minimum: 0}
    quality:
      - {type: library, metric: rowCount, mustBeGreaterThan: 2, severity: error}
"""


def _outcomes(tmp_path, rows, window):
    tmp_path.mkdir(exist_ok=True)
    file = tmp_path / "c.odcs.yaml"
    file.write_text(CONTRACT)
    specs = compile_contract(load_contract(file), "t")
    _table(tmp_path / "w.duckdb", rows).close()
    con = ibis.duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        return {o.spec.rule: o for o in run_partition_checks(specs, con.table("t"), "day", window)}
    finally:
        con.disconnect()


def test_row_rules_look_at_the_run_partitions_only(tmp_path):
    # a negative v in an old partition (published long ago) does not fail today's run ...
    rows = [(1, D(2025, 1, 1), -5), (2, D(2025, 1, 2), 1), (3, D(2025, 1, 3), 1)]
    assert _outcomes(tmp_path, rows, (D(2025, 1, 3), D(2025, 1, 4)))["minimum"].passed
    # ... one in the run's partition does, with its count and row
    bad = _outcomes(
        tmp_path / "b",
        [(1, D(2025, 1, 1), 1), (2, D(2025, 1, 2), 1), (3, D(2025, 1, 3), -1)],
        (D(2025, 1, 3), D(2025, 1, 4)),
    )["minimum"]
    assert not bad.passed and bad.failing_count == 1 and bad.sample[0]["id"] == 3


def test_table_rules_see_the_whole_port(tmp_path):
    # the run's single partition has one row, but the port has three: rowCount > 2 holds
    rows = [(1, D(2025, 1, 1), 1), (2, D(2025, 1, 2), 1), (3, D(2025, 1, 3), 1)]
    outcome = _outcomes(tmp_path, rows, (D(2025, 1, 3), D(2025, 1, 4)))["row_count"]
    assert outcome.passed and outcome.metric == 3


def test_a_new_key_that_repeats_an_old_partitions_key_fails_the_primary_key(tmp_path):
    rows = [(1, D(2025, 1, 1), 1), (2, D(2025, 1, 2), 1), (1, D(2025, 1, 3), 1)]
    pk = _outcomes(tmp_path, rows, (D(2025, 1, 3), D(2025, 1, 4)))["primary_key"]
    assert not pk.passed and pk.failing_count == 1
    assert "outside 2025-01-03..2025-01-03" in pk.message and pk.sample == [{"id": 1}]
    unique = [(1, D(2025, 1, 1), 1), (2, D(2025, 1, 2), 1), (3, D(2025, 1, 3), 1)]
    assert _outcomes(tmp_path / "ok", unique, (D(2025, 1, 3), D(2025, 1, 4)))["primary_key"].passed


# --- the descriptor -------------------------------------------------------------------------


def test_partitioning_problems_name_file_line_and_field(tmp_path):
    import shutil

    from mesh_platform.mesh.domain import load_domain

    root = Path(__file__).resolve().parent.parent
    domain = tmp_path / "checkout"
    shutil.copytree(root / "domains" / "checkout", domain, ignore=shutil.ignore_patterns("__pycache__"))
    descriptor = domain / "products" / "web_orders_with_consent" / "dataproduct.yaml"
    text = descriptor.read_text()
    declared = '    value: {column: sold_date, granularity: day, start: "2022-01-01"}'
    line = text.splitlines().index(declared) + 1
    descriptor.write_text(text.replace('start: "2022-01-01"}', 'start: "2022-01-01", end: "2020-01-01"}'))
    with pytest.raises(SpecError) as err:
        load_domain(domain)
    assert f"dataproduct.yaml:{line}" in str(err.value) and "must be after 'start'" in str(err.value)
    descriptor.write_text(text.replace("column: sold_date", "column: sold_at"))
    with pytest.raises(SpecError, match="must be a date column of output port 'web_orders_with_consent'"):
        load_domain(domain)


def test_without_a_partition_a_run_catches_up_from_the_first_missing_day():
    import dagster as dg

    from mesh_platform.dagster_wiring.partitions import catch_up_range

    days = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-01-06")
    keys = days.get_partition_keys()
    assert catch_up_range(days, [set()]) == dg.PartitionKeyRange("2025-01-01", "2025-01-05")  # fresh: all
    # one asset of the product lacks 01-03: from there to the newest
    assert catch_up_range(days, [set(keys), set(keys) - {"2025-01-03"}]) == dg.PartitionKeyRange(
        "2025-01-03", "2025-01-05"
    )
    assert catch_up_range(days, [set(keys)]) == dg.PartitionKeyRange("2025-01-05", "2025-01-05")  # up to date
    future = dg.DailyPartitionsDefinition(start_date="2999-01-01")
    with pytest.raises(LookupError, match="no complete partition"):
        catch_up_range(future, [set()])


# --- checkout, daily, through dbt and Dagster ------------------------------------------------


PRODUCT = ("published", "checkout", "web_orders_with_consent")
PORTS = ("web_orders_with_consent", "web_orders_with_consent_v2")
DAYS = (D.fromisoformat(day(1)), D.fromisoformat(day()))  # the incremental run rebuilds the last two days


def _port_dir(data: Path, port: str = PORTS[0]) -> Path:
    return data.joinpath(*PRODUCT, port)


def _published_rows(data: Path, port: str = PORTS[0]) -> list[tuple]:
    return duckdb.sql(
        f"select * from read_parquet('{read_location(_port_dir(data, port))}') order by order_line_id"
    ).fetchall()


def _run(instance, partition=None):
    from mesh_platform.cli.materialize import materialize_products

    (outcome,) = materialize_products("checkout", partition=partition or "all", instance=instance)
    return outcome


@pytest.fixture(scope="module")
def refreshed(mesh_data, tmp_path_factory):
    """A private data dir and instance where checkout had one full refresh (every daily
    partition since 2021 in one run): shared, because Dagster records a planned and a
    materialisation event per asset and partition, which makes a full refresh of five years
    the slow part of these tests. Yields (data dir, instance, rows of each port after it)."""
    import dagster as dg

    data = tmp_path_factory.mktemp("partitioned") / "data"
    shutil.copytree(mesh_data / "landing", data / "landing")
    with pytest.MonkeyPatch.context() as mp, dg.DagsterInstance.ephemeral() as instance:
        mp.setenv("MESH_DATA_DIR", str(data))
        full = _run(instance)
        assert full.success, full.error
        assert read_manifest(_port_dir(data))["window"] is None  # every partition, rebuilt
        yield data, instance, {port: _published_rows(data, port) for port in PORTS}


def test_checkout_is_daily_partitioned_views_and_all(locations):
    import dagster as dg

    defs = locations["checkout"]
    port = dg.AssetKey(["checkout", "web_orders_with_consent", "web_orders_with_consent"])
    graph = defs.resolve_asset_graph()  # what Dagster knows of each asset, spec by spec
    partitioned = graph.get(port)
    assert isinstance(partitioned.partitions_def, dg.DailyPartitionsDefinition)
    assert partitioned.partitions_def.get_first_partition_key() == "2022-01-01"
    assert partitioned.partitions_def.get_last_partition_key() == day()  # a live shop: no end, up to yesterday
    assert partitioned.backfill_policy == dg.BackfillPolicy.single_run()  # a UI backfill is one dbt run
    # the views it reads share its partitions, so a UI backfill of the product is one run
    view = graph.get(dg.AssetKey(["checkout", "web_orders_with_consent", "int_order_lines"]))
    assert view.partitions_def == partitioned.partitions_def
    assert view.backfill_policy == partitioned.backfill_policy
    # ...in the same multi-asset as the port: one run of the product is one step, one dbt build
    by_key = {k: a for a in defs.assets if hasattr(a, "keys") for k in a.keys}
    assert by_key[port] is by_key[view.key]
    job = defs.resolve_job_def("checkout__web_orders_with_consent")
    assert job.partitions_def == partitioned.partitions_def
    schedule = defs.resolve_schedule_def("checkout__web_orders_with_consent__schedule")
    context = dg.build_schedule_context(
        repository_def=defs.get_repository_def(),
        scheduled_execution_time=dt.datetime(2025, 12, 31, 5, tzinfo=dt.UTC),
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2025-12-30"  # the newest complete day


def test_an_incremental_run_rebuilds_its_days_to_exactly_what_a_full_refresh_published(refreshed):
    data, instance, full = refreshed
    assert len(full[PORTS[0]]) > 1000
    assert any(row[8] in DAYS for row in full[PORTS[0]])  # the days have orders to rebuild
    # the warehouse loses the last two days, as if history had been built before they came
    con = duckdb.connect(str(data / "warehouse" / "checkout.duckdb"))
    for port in PORTS:
        con.execute(f"delete from main.{port} where sold_date >= ?", [DAYS[0]])
    con.close()

    incremental = _run(instance, f"{DAYS[0]}...{DAYS[1]}")  # one run, two daily partitions
    assert incremental.success, incremental.error
    checks = [r for r in incremental.rows if r.kind == "check"]
    assert checks and all(r.outcome == "passed" for r in checks), [r for r in checks if r.outcome != "passed"]
    manifest = read_manifest(_port_dir(data))
    assert manifest["window"] == [str(DAYS[0]), str(DAYS[1] + dt.timedelta(days=1))]
    live = current_dir(_port_dir(data)).resolve()
    rebuilt = live / str(DAYS[1])[:7] / "data0.parquet"  # the month of the days run
    kept = next(live.glob("2024-*/data0.parquet"))
    assert os.stat(rebuilt).st_nlink == 1 and os.stat(kept).st_nlink > 1  # rewritten vs hard-linked
    for port in PORTS:
        assert _published_rows(data, port) == full[port], port  # row for row


def test_a_failing_partition_leaves_the_published_port_unchanged(refreshed, monkeypatch):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    data, instance, full = refreshed
    port = _port_dir(data)
    live, before = current_dir(port).resolve(), _published_rows(data)
    assert before == full[PORTS[0]]

    # a day of orders with a negative quantity (contract: minimum 1, an error)
    sales = data / "landing" / "checkout" / "web_sales.parquet"
    original = pq.read_table(sales)
    day = pc.equal(original["ws_sold_date"].cast(pa.date32()), pa.scalar(DAYS[1], pa.date32()))
    assert pc.any(day).as_py()
    quantity = pc.if_else(day, -1, original["ws_quantity"]).cast(original["ws_quantity"].type)
    pq.write_table(original.set_column(original.schema.get_field_index("ws_quantity"), "ws_quantity", quantity), sales)
    try:
        failed = _run(instance, str(DAYS[1]))
    finally:
        pq.write_table(original, sales)
    assert not failed.success and "quantity__minimum" in (failed.error or "")
    assert current_dir(port).resolve() == live and _published_rows(data) == before
