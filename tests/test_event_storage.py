"""The platform's event-log storage (mesh_platform/runtime/event_storage.py): what Dagster shows
after a run is what its own storage shows, at a cost that does not grow per partition."""

import sqlite3
from pathlib import Path

import dagster as dg
import pytest
import yaml
from conftest import write_instance_yaml
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorageWatchdog

from mesh_platform.runtime.event_storage import BATCH_SIZE_ENV, MeshSqliteEventLogStorage, MeshSqliteRunStorage

DAYS = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-03-01", timezone="UTC")  # 59 days
FAIL = {"on": False}
WATCH: dict = {}  # with "on": the partitions' statuses as the run sees them while it runs


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def daily(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    if WATCH.get("on"):
        WATCH["status"] = context.instance.get_status_by_partition(
            dg.AssetKey("daily"), DAYS.get_partition_keys(), DAYS
        )
    if FAIL["on"]:
        raise RuntimeError("the warehouse is down")
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


@dg.asset_check(asset=daily)
def daily_rows(context) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def run_range(instance: dg.DagsterInstance, first: str, last: str, fail: bool = False):
    FAIL["on"] = fail
    try:
        return dg.materialize(
            [daily, daily_rows],
            instance=instance,
            raise_on_error=False,
            tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        )
    finally:
        FAIL["on"] = False


def instance_at(home: Path, ours: bool, env: pytest.MonkeyPatch) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    env.setenv("DAGSTER_HOME", str(home))
    if ours:
        write_instance_yaml(home)
    else:
        (home / "dagster.yaml").write_text("")
    return dg.DagsterInstance.from_config(str(home))


def summary(instance: dg.DagsterInstance, run_id: str) -> dict:
    """What the UI and the API read back: partitions, statuses, the asset's record and the
    run's events by type (not ids or timestamps)."""
    key = daily.key
    keys = DAYS.get_partition_keys()
    latest = instance.get_latest_materialization_event(key)
    record = instance.get_asset_records([key])[0].asset_entry
    checks = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(key, "daily_rows"), limit=1000
    )
    events: dict[str, int] = {}
    for entry in instance.all_logs(run_id):
        if entry.is_dagster_event:
            events[entry.dagster_event_type.value] = events.get(entry.dagster_event_type.value, 0) + 1
    return {
        "materialised": sorted(instance.get_materialized_partitions(key)),
        "status": {k: str(v) for k, v in instance.get_status_by_partition(key, keys, DAYS).items()},
        "latest_partition": latest.dagster_event.partition if latest else None,
        "last_run_is_this_run": record.last_run_id == run_id,
        "checks": sorted((c.partition or "", c.status.value, c.event.dagster_event_type.value) for c in checks),
        "events": events,
        "tagged_partitions": len(instance.event_log_storage.get_event_tags_for_asset(key)),
    }


@pytest.fixture
def batching(monkeypatch):
    """Our storage turns Dagster's event batching on where it is used; keep that per test."""
    monkeypatch.delenv(BATCH_SIZE_ENV, raising=False)
    return monkeypatch


def test_a_partitioned_run_reads_back_the_same_as_with_dagsters_own_storage(tmp_path, batching, monkeypatch):
    out = {}
    for ours in (False, True):
        with instance_at(tmp_path / str(ours), ours, batching) as instance:
            assert isinstance(instance.event_log_storage, MeshSqliteEventLogStorage) == ours
            result = run_range(instance, "2025-01-01", "2025-02-28")
            assert result.success
            out[ours] = summary(instance, result.run_id)
        monkeypatch.delenv(BATCH_SIZE_ENV, raising=False)
    checks = {ours: out[ours].pop("checks") for ours in out}
    planned = {ours: out[ours]["events"].pop("ASSET_MATERIALIZATION_PLANNED") for ours in out}
    assert out[True] == out[False]
    assert out[True]["materialised"] == DAYS.get_partition_keys()  # every day, read through the API
    assert planned == {False: 59, True: 1}  # one per day; here one for the range (failures: the next tests)
    # The check (it has no partitions) runs once: Dagster's run storage also plans it once per day
    # of the range and leaves those rows planned; the platform's plans it once (see the next test)
    evaluated = ("", "SUCCEEDED", "ASSET_CHECK_EVALUATION")
    assert checks[True] == [evaluated]
    assert checks[False] == [evaluated] + [
        (d, "PLANNED", "ASSET_CHECK_EVALUATION_PLANNED") for d in DAYS.get_partition_keys()
    ]


def test_a_failed_run_marks_every_day_of_its_range_failed(tmp_path, batching):
    with instance_at(tmp_path / "home", True, batching) as instance:
        assert run_range(instance, "2025-01-01", "2025-01-31").success
        failed = run_range(instance, "2025-01-20", "2025-02-10", fail=True)
        assert not failed.success
        status = instance.get_status_by_partition(daily.key, DAYS.get_partition_keys(), DAYS)
    bad = sorted(k for k, v in status.items() if v == dg.AssetPartitionStatus.FAILED)
    good = sorted(k for k, v in status.items() if v == dg.AssetPartitionStatus.MATERIALIZED)
    assert bad == DAYS.get_partition_keys()[19:41]  # 2025-01-20 .. 2025-02-10
    assert good == DAYS.get_partition_keys()[:19]


def test_a_running_range_shows_its_days_in_progress(tmp_path, batching):
    with instance_at(tmp_path / "home", True, batching) as instance:
        WATCH["on"] = True
        try:
            assert run_range(instance, "2025-01-10", "2025-01-12").success
        finally:
            WATCH["on"] = False
        after = instance.get_status_by_partition(daily.key, DAYS.get_partition_keys(), DAYS)
    running = sorted(k for k, v in WATCH.pop("status").items() if v == dg.AssetPartitionStatus.IN_PROGRESS)
    assert running == ["2025-01-10", "2025-01-11", "2025-01-12"]
    done = sorted(k for k, v in after.items() if v == dg.AssetPartitionStatus.MATERIALIZED)
    assert done == running and dg.AssetPartitionStatus.IN_PROGRESS not in after.values()


def test_a_run_writes_its_partitions_in_a_few_transactions_not_one_per_event(tmp_path, batching, monkeypatch):
    """The cost this storage exists for: with Dagster's own storage every event is a connection
    and a commit; here the planned and materialisation events of a range are one batch each."""
    calls = {"store_event": 0, "store_event_batch": 0}
    for name in calls:
        original = getattr(MeshSqliteEventLogStorage, name)

        def counted(self, *args, _name=name, _original=original):
            calls[_name] += 1
            return _original(self, *args)

        monkeypatch.setattr(MeshSqliteEventLogStorage, name, counted)
    with instance_at(tmp_path / "home", True, batching) as instance:
        assert run_range(instance, "2025-01-01", "2025-02-28").success
    assert calls["store_event_batch"] == 2  # the run's planned events, the step's materialisations
    assert calls["store_event"] < 30  # run and step events: a fixed number, not one per day


def test_connections_are_pooled_and_commits_do_not_wait_for_fsync(tmp_path, batching):
    with instance_at(tmp_path / "home", True, batching) as instance:
        storage = instance.event_log_storage
        result = run_range(instance, "2025-01-01", "2025-01-03")
        engine = storage._engines[result.run_id]
        with storage.run_connection(result.run_id) as conn:
            first = conn.connection.dbapi_connection
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        with storage.run_connection(result.run_id) as conn:
            assert conn.connection.dbapi_connection is first  # the same connection, kept open
        assert engine.pool.checkedin() == 1
    assert storage._engines == {}  # disposed with the instance


def test_a_live_run_page_sees_events_that_are_still_in_the_write_ahead_log(tmp_path, batching):
    """With the connection kept open, a run's new events stay in `<run>.db-wal` until a
    checkpoint: the UI's watcher must react to that file as well."""
    with instance_at(tmp_path / "home", True, batching) as instance:
        storage = instance.event_log_storage
        result = run_range(instance, "2025-01-01", "2025-01-02")
        shard = Path(storage.path_for_shard(result.run_id))
        assert Path(f"{shard}-wal").exists() and Path(f"{shard}-wal").stat().st_size > 0
        seen = []
        storage.watch(result.run_id, None, lambda entry, cursor: seen.append(entry))
        watchdog, _ = storage._watchers[result.run_id][next(iter(storage._watchers[result.run_id]))]
        watchdog.on_modified(type("E", (), {"src_path": f"{shard}-wal"})())
        assert len(seen) == len(instance.all_logs(result.run_id))
        # and a reader of the file alone (another process, WAL-aware) sees every event too
        with sqlite3.connect(shard) as other:
            assert other.execute("SELECT count(*) FROM event_logs").fetchone()[0] == len(seen)


def test_the_private_dagster_names_this_storage_overrides_still_exist(tmp_path):
    """mesh_platform/runtime/event_storage.py subclasses Dagster's storages (no public API for
    them): an upgrade that renames what it relies on fails here, not in production."""
    import inspect

    import dagster._core.instance.methods.event_methods as event_methods
    from dagster_postgres import PostgresEventLogStorage

    for name in (
        "_connect",
        "_initdb",
        "_event_to_row",
        "_store_asset_event_tags",
        "_store_asset_event",
        "run_connection",
        "index_connection",
        "has_table",
        "watch",
        "dispose",
        "path_for_shard",
        "get_latest_asset_partition_materialization_attempts_without_materializations",
        "supports_partition_subset_in_asset_materialization_planned_events",
        "get_latest_storage_id_by_partition",
    ):
        assert name in vars(SqliteEventLogStorage) or hasattr(SqliteEventLogStorage, name), name
    # the switch `_RangedPlans` turns on is what Dagster's run creation reads
    from dagster._core.instance.runs import run_domain

    assert "supports_partition_subset_in_asset_materialization_planned_events" in inspect.getsource(run_domain)
    for name in ("_connect", "index_transaction", "_store_asset_event", "store_event_batch"):
        assert hasattr(PostgresEventLogStorage, name), name
    storage = SqliteEventLogStorage(str(tmp_path))
    assert {"_db_lock", "_initialized_dbs", "_watchers", "_obs", "_base_dir"} <= set(vars(storage))
    watchdog = SqliteEventLogStorageWatchdog(storage, "run", lambda *a: None, None)
    assert watchdog._log_path == storage.path_for_shard("run") and hasattr(watchdog, "_process_log")
    assert f'os.getenv("{BATCH_SIZE_ENV}"' in inspect.getsource(event_methods)  # Dagster's switch for batches


# A product's views and its daily models in one multi-asset (as the platform builds them); the
# daily output's name sorts last, the case where Dagster 1.13 spreads the range over the views.
@dg.multi_asset(
    specs=[dg.AssetSpec("a_view"), dg.AssetSpec("z_daily", partitions_def=DAYS, deps=["a_view"])],
    check_specs=[dg.AssetCheckSpec("view_rows", asset="a_view")],
    can_subset=True,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def product(context: dg.AssetExecutionContext):
    yield dg.MaterializeResult(asset_key="a_view")
    yield dg.AssetCheckResult(asset_key="a_view", check_name="view_rows", passed=True)
    yield dg.MaterializeResult(asset_key="z_daily")


def test_a_ranged_run_plans_its_views_checks_once_and_its_days_in_one_event(tmp_path, batching, monkeypatch):
    """With Dagster's run storage the unpartitioned checks of a ranged run are planned once per
    day (a check row each); with the platform's, once, as a check runs once. The daily asset's
    days are one planned event for the range with either."""
    planned = {}
    for ours in (False, True):
        home = write_instance_yaml(tmp_path / str(ours))
        if not ours:  # the same instance with Dagster's own run storage
            config = yaml.safe_load((home / "dagster.yaml").read_text())
            (home / "dagster.yaml").write_text(yaml.safe_dump({"event_log_storage": config["event_log_storage"]}))
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert isinstance(instance.run_storage, MeshSqliteRunStorage) == ours
            result = dg.materialize(
                [product],
                instance=instance,
                tags={
                    "dagster/asset_partition_range_start": "2025-01-01",
                    "dagster/asset_partition_range_end": "2025-01-31",
                },
            )
            assert result.success
            events = [
                e.dagster_event.event_specific_data
                for e in instance.all_logs(result.run_id)
                if e.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
            ]
            view_checks = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(dg.AssetKey("a_view"), "view_rows"), limit=1000
            )
            daily_events = [e for e in events if e.asset_key.to_user_string() == "z_daily"]
            planned[ours] = {
                "a_view": sum(e.asset_key.to_user_string() == "a_view" for e in events),
                "z_daily": sorted(k for e in daily_events for k in e.partitions_subset.get_partition_keys()),
                "z_daily_events": len(daily_events),
                "view_check_rows": len(view_checks),
                "materialised": sorted(instance.get_materialized_partitions(dg.AssetKey("z_daily"))),
            }
        monkeypatch.delenv(BATCH_SIZE_ENV, raising=False)
    january = DAYS.get_partition_keys()[:31]
    assert planned[False]["view_check_rows"] == 32  # 31 planned, 1 evaluated
    assert planned[True] == {
        "a_view": 1,
        "z_daily": january,
        "z_daily_events": 1,
        "view_check_rows": 1,
        "materialised": january,
    }
    assert planned[False]["z_daily"] == january
