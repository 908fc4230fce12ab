"""Dagster on PostgreSQL: the production instance (dagster_home/dagster.prod.yaml) on a real
PostgreSQL server (tests/postgres_server.py). The mesh, the alert sensor and automation run
against it, and 20 runs across domains, all at once from separate processes, complete with
no lock error and no lost event."""

from __future__ import annotations

import multiprocessing
import shutil
import uuid
from pathlib import Path

import dagster as dg
import postgres_server
import pytest
from conftest import free_port
from test_alerts import (
    alerts_scenario,
    receiver,  # noqa: F401 - the webhook receiver fixture
)
from test_automation import _requested, mesh  # noqa: F401 - the automation mesh fixture

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
PROD_CONFIG = ROOT / "dagster_home" / "dagster.prod.yaml"


@pytest.fixture(scope="session")
def postgres():
    server = postgres_server.start(free_port())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_home(postgres, tmp_path, monkeypatch) -> Path:
    """DAGSTER_HOME with the production dagster.yaml, on a fresh database of the server."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROD_CONFIG, home / "dagster.yaml")
    db = postgres.create_database(f"dagster_{uuid.uuid4().hex[:8]}")
    for name, value in {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(postgres.port),
        "DAGSTER_PG_USERNAME": postgres_server.USER,
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": db,
    }.items():
        monkeypatch.setenv(name, value)
    return home


def test_the_production_instance_keeps_runs_events_and_schedules_in_postgres(pg_home):
    from dagster_postgres import PostgresScheduleStorage

    from mesh_platform.runtime.event_storage import MeshPostgresEventLogStorage, MeshPostgresRunStorage

    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, MeshPostgresRunStorage)
        assert isinstance(instance.event_log_storage, MeshPostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert dg.materialize([_probe("checkout")], instance=instance).success
        assert instance.get_latest_materialization_event(dg.AssetKey(["checkout", "probe"])) is not None


def test_the_mesh_and_the_alert_sensor_on_postgres(isolated_data, pg_home, receiver):  # noqa: F811
    """The checkout product through dbt, its failing contract, freshness and the alert
    sensor's cursor, tick by tick -- the same scenario as on SQLite (test_alerts.py)."""
    alerts_scenario(isolated_data, receiver)


def test_automation_on_postgres(mesh, pg_home):  # noqa: F811
    defs, producer, reporting, board = mesh
    with dg.DagsterInstance.get() as instance:
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert result.total_requested == 0
        assert dg.materialize([producer], instance=instance).success
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        assert result.total_requested == 0  # the tick that sees the publication settles ...
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        assert _requested(result) == set(reporting.keys)  # ... the next requests the product
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        assert result.total_requested == 0


# --- 20 concurrent runs across domains -----------------------------------------------------

DOMAINS = ["brokerage", "checkout", "recommendations", "risk"]
RUNS = 20
LOGS_PER_RUN = 25


def _probe(domain: str) -> dg.AssetsDefinition:
    """A small product step of `domain`: logs, a materialisation with metadata and a check,
    in the domain's pool like the platform's dbt step."""

    @dg.asset(
        key=[domain, "probe"],
        pool=f"mesh_domain_{domain}",
        check_specs=[dg.AssetCheckSpec("rows_positive", asset=[domain, "probe"])],
    )
    def probe(context):
        for i in range(LOGS_PER_RUN):
            context.log.info(f"{domain} step {i}")
        yield dg.Output(None, metadata={"dagster/row_count": 1})
        yield dg.AssetCheckResult(check_name="rows_positive", passed=True, asset_key=dg.AssetKey([domain, "probe"]))

    return probe


def _run_one(args: tuple[str, int]) -> tuple[str, bool, str]:
    domain, index = args
    try:
        with dg.DagsterInstance.get() as instance:
            result = dg.materialize(
                [_probe(domain)], instance=instance, tags={"domain": domain, "concurrency_test": str(index)}
            )
            return result.run_id, result.success, ""
    except Exception as exc:  # noqa: BLE001 - reported by the test
        return "", False, f"{type(exc).__name__}: {exc}"


def init_pools(instance, domains=DOMAINS) -> None:
    """What the deployment does once (deploy/ runs `dagster instance concurrency set
    mesh_domain_<domain> 1`): without it, the first runs of a domain that start together
    each try to create the pool's default row, and all but one fail with a UniqueViolation
    on `concurrency_limits` (seen here on PostgreSQL with dagster 1.13.27)."""
    for domain in domains:
        instance.event_log_storage.set_concurrency_slots(f"mesh_domain_{domain}", 1)


def test_twenty_concurrent_runs_across_domains_lose_nothing(pg_home):
    with dg.DagsterInstance.get() as instance:
        init_pools(instance)
    jobs = [(DOMAINS[i % len(DOMAINS)], i) for i in range(RUNS)]
    with multiprocessing.get_context("fork").Pool(RUNS) as pool:  # all 20 at once
        results = pool.map(_run_one, jobs, chunksize=1)
        # let idle workers exit on their own: a worker that took no job inherited a SIGTERM
        # handler from this process that does not exit, so terminate() would wait for ever
        pool.close()
        pool.join()
    errors = [error for _, _, error in results if error]
    assert not errors, errors  # e.g. "database is locked" on SQLite
    assert all(success for _, success, _ in results), results

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={}))
        assert len(runs) == RUNS and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        E = dg.DagsterEventType  # noqa: N806
        once = [
            e.value
            for e in (
                E.RUN_START,
                E.STEP_START,
                E.ASSET_MATERIALIZATION,
                E.ASSET_CHECK_EVALUATION,
                E.STEP_SUCCESS,
                E.RUN_SUCCESS,
            )
        ]
        for run_id, _, _ in results:
            records = instance.all_logs(run_id)
            logs = [r for r in records if r.user_message.startswith(tuple(DOMAINS)) and " step " in r.user_message]
            assert len(logs) == LOGS_PER_RUN, run_id  # every log line of every run is there
            types = [r.dagster_event.event_type_value for r in records if r.dagster_event]
            assert [t for t in types if t in once] == once, (run_id, types)  # each event once, in order
        for domain in DOMAINS:
            key = dg.AssetKey([domain, "probe"])
            materializations = instance.fetch_materializations(key, limit=100).records
            assert len(materializations) == RUNS // len(DOMAINS)
            checks = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(key, "rows_positive"), limit=100
            )
            assert len(checks) == RUNS // len(DOMAINS)
