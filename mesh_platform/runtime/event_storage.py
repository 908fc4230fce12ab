"""Dagster event-log and run storages whose cost does not grow with a run's partitions.

Why: Dagster 1.13's SQL event logs open a new connection for every storage call (SQLAlchemy
`NullPool`), and store a batch of events one call at a time. On SQLite each call also creates an
engine, commits with a full fsync and, closing the last connection to a WAL database, checkpoints
it. A full refresh of five daily years records ~7,500 events (one planned and one
materialisation event per asset and partition): profiled, 140 s of a 181 s run went to
`store_event`, in 15,300 commits and 19,100 connections opened and closed.

These subclasses keep Dagster's tables, queries and semantics, and change only how they talk to
the database:

* connections are pooled (one engine per SQLite shard, a bounded number of shards kept open);
* a batch of events (Dagster sends the planned events of a run, and a step's materialisations of
  a range of partitions, as batches) is written in one transaction per shard;
* on SQLite, `synchronous=NORMAL` in WAL mode: a commit no longer waits for fsync. What this
  trades: a power loss or OS crash may lose the last commits (never a process crash, and the file
  is never corrupted); a run's events are then missing at the end, as if the run had died there.

A ranged run plans each partitioned asset once, with its partitions, instead of once per
partition (what `DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS` turns on), and the storage
expands those plans where Dagster reads failed and in-progress partitions, so a failed run still
marks each of its days failed (`_RangedPlans`).

Dagster has no public API for storages: the base classes are imported from `dagster._core` here,
and only here. `tests/test_event_storage.py` fails if an upgrade moves or renames what this module
overrides. `dagster_home/dagster.yaml` and `dagster.prod.yaml` select these classes. The run
storages below drop the one partitions subset Dagster stores on a ranged run (why: their
docstring).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster import DagsterEventType, DagsterRun, EventLogEntry, deserialize_value
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, EVENT_TYPE_TO_PIPELINE_RUN_STATUS
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorageWatchdog
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import create_db_conn_string
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG
from dagster._record import copy
from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

# Dagster buffers events that arrive as a batch only when this is > 0 (it reads the variable at
# every event); a storage that writes a batch at once turns it on in the process that uses it.
BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
BATCH_SIZE = "5000"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
OPEN_SHARDS = 16  # run shards kept open per process (the webserver reads many runs)
INDEX_SHARD = "index"


def enable_batches() -> None:
    os.environ.setdefault(BATCH_SIZE_ENV, BATCH_SIZE)


class _RangedPlans:
    """A ranged run plans each partitioned asset once, with the run's partitions subset, not once
    per partition: a five-year full refresh of a daily product wrote ~12,600 planned events,
    profiled at 2.4 s. Dagster reads a run's failed and in-progress partitions from per-partition planned
    rows only (its own note on the flag: partitions would no longer be marked failed), so this
    storage adds each ranged plan's partitions there, as Dagster would have planned them."""

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        return True

    def get_latest_asset_partition_materialization_attempts_without_materializations(
        self, asset_key, after_storage_id: int | None = None
    ) -> dict[str, tuple[str, int]]:
        attempts = dict(
            super().get_latest_asset_partition_materialization_attempts_without_materializations(
                asset_key, after_storage_id=after_storage_id
            )
        )
        table = SqlEventLogStorageTable.c
        query = (
            db.select(table.id, table.run_id, table.event)
            .where(table.asset_key == asset_key.to_string())
            .where(table.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED.value)
            .where(table.partition.is_(None))
            .order_by(table.id)
        )
        if after_storage_id is not None:
            query = query.where(table.id > after_storage_id)
        with self.index_connection() as conn:
            rows = conn.execute(query).fetchall()
        planned: dict[str, tuple[str, int]] = {}  # partition -> the newest ranged plan of it
        for event_id, run_id, event in rows:
            subset = deserialize_value(event, EventLogEntry).dagster_event.event_specific_data.partitions_subset
            for key in subset.get_partition_keys() if subset is not None else []:
                planned[key] = (run_id, event_id)
        if not planned:
            return attempts
        materialised = self.get_latest_storage_id_by_partition(
            asset_key, DagsterEventType.ASSET_MATERIALIZATION, set(planned)
        )
        for key, (run_id, event_id) in planned.items():
            if materialised.get(key, 0) > event_id or attempts.get(key, (None, 0))[1] > event_id:
                continue  # materialised since, or planned again one partition at a time
            attempts[key] = (run_id, event_id)
        return attempts


class MeshSqliteEventLogStorage(_RangedPlans, SqliteEventLogStorage):
    """Dagster's SQLite event log (one file per run plus an index file), with pooled
    connections, batched writes and `synchronous=NORMAL`.

    Config (`event_log_storage` in dagster.yaml): `base_dir`, default `$DAGSTER_HOME/history/runs`
    (where Dagster's default SQLite storage keeps the same files, so either class reads them)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, db.engine.Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._tables: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)
        enable_batches()

    @classmethod
    def config_type(cls) -> dict:
        from dagster import Field, StringSource

        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> MeshSqliteEventLogStorage:
        return cls(base_dir=_base_dir(cls, config_value, "history", "runs"), inst_data=inst_data)

    # -- connections ------------------------------------------------------------------------
    def _engine(self, shard: str) -> db.engine.Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                create_db_conn_string(self._base_dir, shard),
                poolclass=db.pool.QueuePool,
                pool_size=1,
                max_overflow=2,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            db.event.listen(engine, "connect", _sqlite_pragmas)
            self._engines[shard] = engine
            if len(self._engines) > OPEN_SHARDS:
                oldest = next(s for s in self._engines if s != INDEX_SHARD)
                self._engines.pop(oldest).dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.engine.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # asked once per stored asset event (asset tags); a table, once there, stays
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def dispose(self) -> None:
        super().dispose()
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def watch(self, run_id: str, cursor: str | None, callback) -> None:
        """Live run logs: with connections kept open, a run's events land in the shard's
        write-ahead log until a checkpoint, so watch that file as well as the shard."""
        from watchdog.observers import Observer

        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _ShardWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    # -- batches ----------------------------------------------------------------------------
    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """What `store_event` does for each event, in one transaction per shard, each event
        serialised once, and one multi-row insert per table."""
        for run_id, run_events in _by_run(events):
            rows = [self._event_to_row(e) for e in run_events]
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), rows)
            mirrored = [(e, row) for e, row in zip(run_events, rows) if _kind(e) in MIRRORED]
            if not mirrored:
                continue
            with self.index_connection() as conn:
                result = conn.execute(
                    SqlEventLogStorageTable.insert().returning(
                        SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
                    ),
                    [row for _, row in mirrored],
                )
                stored = [(e, int(event_id)) for (e, _), (event_id,) in zip(mirrored, result.all())]
                _store_asset_rows(self, conn, stored)
            for event, event_id in stored:
                if _kind(event) in ASSET_CHECK_EVENTS:
                    self.store_asset_check_event(event, event_id)


MIRRORED = ASSET_EVENTS | ASSET_CHECK_EVENTS | set(EVENT_TYPE_TO_PIPELINE_RUN_STATUS)


def _kind(event: EventLogEntry):
    return event.dagster_event_type if event.is_dagster_event else None


def _store_asset_rows(storage, conn, stored: list[tuple[EventLogEntry, int]]) -> None:
    """Asset tags for every asset event; the asset's summary row from the last event of each
    kind per asset (an event overwrites all the columns the one before it of its kind wrote,
    so the result is what storing them one by one leaves)."""
    assets = [(e, i) for e, i in stored if _kind(e) in ASSET_EVENTS and e.dagster_event.asset_key]
    if not assets:
        return
    storage._store_asset_event_tags(conn, [e for e, _ in assets], [i for _, i in assets])
    last = {(e.dagster_event.asset_key, _kind(e)): n for n, (e, _) in enumerate(assets)}
    for n in sorted(last.values()):
        storage._store_asset_event(conn, *assets[n])


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _ShardWatchdog(SqliteEventLogStorageWatchdog):
    def __init__(self, storage: MeshSqliteEventLogStorage, run_id: str, callback, cursor: str | None):
        super().__init__(storage, run_id, callback, cursor)
        self._patterns = [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event) -> None:
        if event.src_path in (self._log_path, f"{self._log_path}-wal"):
            self._process_log()


class _PostgresConfig:
    """dagster-postgres' config (`postgres_url` or `postgres_db`), for a subclass: its own
    `from_config_value` builds the dagster-postgres class, not the subclass."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(
            pg_url_from_config(config_value),
            inst_data=inst_data,
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


class MeshPostgresEventLogStorage(_RangedPlans, _PostgresConfig, PostgresEventLogStorage):
    """dagster-postgres' event log with a pooled connection (one per process, as Dagster's
    webserver already keeps) and every batch written in one transaction."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider=None,
    ):
        super().__init__(
            postgres_url,
            should_autocreate_tables=should_autocreate_tables,
            inst_data=inst_data,
            token_provider=token_provider,
        )
        self._engine.dispose()
        self._engine = create_pg_engine(
            self.postgres_url,
            self._token_provider,
            isolation_level="AUTOCOMMIT",
            pool_size=1,
            max_overflow=4,
            pool_recycle=3600,
            pool_pre_ping=True,
        )
        enable_batches()

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        with self.index_transaction() as conn:
            ids = conn.execute(
                SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True),
                [self._event_to_row(e) for e in events],
            ).all()
            stored = [(e, int(event_id)) for e, (event_id,) in zip(events, ids)]
            _store_asset_rows(self, conn, stored)
        for event, event_id in stored:
            if _kind(event) in ASSET_CHECK_EVENTS:
                self.store_asset_check_event(event, event_id)


def _base_dir(cls: type, config_value: dict[str, Any], *under_home: str) -> str:
    if config_value.get("base_dir"):
        return config_value["base_dir"]
    if not os.environ.get("DAGSTER_HOME"):
        raise ValueError(f"{cls.__name__}: set `base_dir` in its config, or DAGSTER_HOME")
    return os.path.join(os.environ["DAGSTER_HOME"], *under_home)


def _by_run(events: Sequence[EventLogEntry]) -> list[tuple[str, list[EventLogEntry]]]:
    out: dict[str, list[EventLogEntry]] = {}
    for event in events:
        out.setdefault(event.run_id, []).append(event)
    return list(out.items())


# -- runs -------------------------------------------------------------------------------------
class _RunsKeepPartitionsPerAsset:
    """A run over a range of partitions, stored without the one partitions subset Dagster puts
    on it.

    Dagster 1.13 gives a new run the partitions subset of the *last* asset output of its plan
    (`RunDomain.create_run`; outputs sorted by name) and, when a run has one, plans every asset
    and check of the run over it, partitioned or not. A product whose views and daily models run
    together then plans each view once per day and each check of a view once per day: 12,572
    planned events and 183,000 planned check rows on a five-year full refresh instead of about
    3,600 and 1,800. Without the subset Dagster reads the range from the run's partition tags
    and resolves it per asset with the asset's own partitions: daily models per day, as before
    (a failed run still marks each day failed), views and their checks once. Nothing else in
    Dagster 1.13 reads a run's subset; it is dropped only where the run's tags give the range."""

    def add_run(self, dagster_run: DagsterRun) -> DagsterRun:
        return super().add_run(_without_subset(dagster_run))

    def add_historical_run(self, dagster_run: DagsterRun, run_creation_time) -> DagsterRun:
        return super().add_historical_run(_without_subset(dagster_run), run_creation_time)


def _without_subset(run: DagsterRun) -> DagsterRun:
    ranged = any(run.tags.get(t) for t in (PARTITION_NAME_TAG, ASSET_PARTITION_RANGE_START_TAG))
    return copy(run, partitions_subset=None) if ranged and run.partitions_subset is not None else run


class MeshSqliteRunStorage(_RunsKeepPartitionsPerAsset, SqliteRunStorage):
    """Dagster's SQLite run storage (`$DAGSTER_HOME/history/runs.db`, the file its default uses).

    Config (`run_storage` in dagster.yaml): `base_dir`, default `$DAGSTER_HOME/history`."""

    @classmethod
    def config_type(cls) -> dict:
        from dagster import Field, StringSource

        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls.from_local(_base_dir(cls, config_value, "history"), inst_data=inst_data)


class MeshPostgresRunStorage(_RunsKeepPartitionsPerAsset, _PostgresConfig, PostgresRunStorage):
    """dagster-postgres' run storage; config as `PostgresRunStorage`'s."""
