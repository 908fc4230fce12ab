"""Write-audit-publish for a domain's Python table (risk's ratings history), the ratings
client's error paths, and secret hygiene: a fault-injecting provider on a free port, a
private data dir whose brokerage port is a hand-written snapshot of LEIs, one Dagster
instance for the module; afterwards no planted secret is anywhere the platform wrote."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_instance_yaml
from test_ratings_client import KEY, admin, client, leis, ratings, start_provider

from mesh_platform import settings
from mesh_platform.alerts.model import Route
from mesh_platform.alerts.state import AlertCursor
from mesh_platform.cli.materialize import materialize_products
from mesh_platform.dagster_wiring.alert_sensor import run_tick
from mesh_platform.mesh.domain import load_domain

ROOT = Path(__file__).resolve().parent.parent
USERINFO_SECRET = "planted-userinfo-secret-7f3a"
WEBHOOK_SECRET = "planted-webhook-secret-91c2"
N = 40


@pytest.fixture(scope="module")
def provider():
    with start_provider() as url:
        yield url


@pytest.fixture
def url(provider):
    admin(provider, "reset")
    return provider


@pytest.fixture(scope="module")
def risk_env(provider, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wap")
    write_instance_yaml(tmp / "home")
    port = ":".join(provider.rsplit(":", 1)[1:])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MESH_DATA_DIR", str(tmp / "data"))
        mp.setenv("DAGSTER_HOME", str(tmp / "home"))
        mp.setenv("RATINGS_API_URL", f"http://mesh:{USERINFO_SECRET}@127.0.0.1:{port}")
        mp.setenv("RATINGS_API_KEY", KEY)
        mp.setenv("RATINGS_RETRIES", "1")
        mp.setenv("RATINGS_BACKOFF", "0.01")
        mp.setenv("RATINGS_BATCH_SIZE", "25")
        # a webhook that refuses every delivery: its URL must not appear in the failure's log
        mp.setenv("RISK_ALERTS_WEBHOOK_URL", f"http://127.0.0.1:9/services/{WEBHOOK_SECRET}")
        tenants = settings.published_dir("brokerage", "tenancy_analytics", "current_tenants")
        tenants.mkdir(parents=True)
        pq.write_table(pa.table({"lei": leis(N)}), tenants / "current.parquet")
        yield tmp


def history(tmp: Path) -> list:
    database = tmp / "data" / "warehouse" / "risk.duckdb"
    if not database.exists():
        return []
    with duckdb.connect(str(database), read_only=True) as con:
        if not con.execute("select count(*) from duckdb_tables() where table_name = 'ratings_history'").fetchall()[0][
            0
        ]:
            return []
        return con.execute("select as_of, lei, rating from ratings_api.ratings_history order by 1, 2").fetchall()


def port_file() -> Path:
    return settings.published_dir("risk", "entity_ratings", "entity_ratings") / "current.parquet"


def test_a_failed_audit_leaves_history_and_port_unchanged_and_the_next_clean_run_publishes(risk_env, provider):
    admin(provider, "reset")
    admin(provider, "faults", {"as_of": (dt.date.today() - dt.timedelta(days=1)).isoformat()})
    (first,) = materialize_products("risk")
    assert first.success, first.error
    before_history, before_port = history(risk_env), port_file().read_bytes()
    assert len(before_history) == N

    bad = leis(N)[3], leis(N)[30]
    admin(provider, "reset")
    admin(provider, "faults", {"bad_ratings": {bad[0]: "ZZZ", bad[1]: "ZZZ"}})
    (outcome,) = materialize_products("risk")
    assert not outcome.success
    assert "risk.entity_ratings.ratings_history: the new rows break the contract" in outcome.error
    assert "entity_ratings__rating__invalid_values: rating scale: measured 2" in outcome.error
    assert history(risk_env) == before_history and port_file().read_bytes() == before_port

    admin(provider, "reset")
    admin(provider, "faults", {"as_of": "2099-01-01"})
    (outcome,) = materialize_products("risk")
    assert not outcome.success and "not in the future: measured 40, expected == 0" in outcome.error
    assert history(risk_env) == before_history and port_file().read_bytes() == before_port

    admin(provider, "reset")  # the provider answers cleanly again: today's ratings are published
    (outcome,) = materialize_products("risk")
    assert outcome.success, outcome.error
    after = history(risk_env)
    assert after[:N] == before_history and len(after) == 2 * N
    assert {r[2] for r in after} != {"ZZZ"} and "ZZZ" not in {r[2] for r in after}
    assert pq.read_metadata(port_file()).num_rows == 2 * N


def test_no_planted_secret_is_written_anywhere(risk_env, provider):
    """After the runs above (and a failing one now), plus an alert tick whose webhook fails."""
    admin(provider, "reset")
    admin(provider, "faults", {"fail_leis": [leis(N)[0]]})
    (outcome,) = materialize_products("risk")
    assert not outcome.success and "127.0.0.1" in outcome.error and USERINFO_SECRET not in outcome.error
    logged: list[str] = []

    class Log:
        def __getattr__(self, level):
            return lambda msg, *a, **k: logged.append(f"{level}: {msg}")

    import dagster as dg

    run_tick(dg.DagsterInstance.get(), Route(load_domain(ROOT / "domains" / "risk")), AlertCursor.load(None), Log())
    assert any("webhook delivery failed" in line for line in logged)
    secrets = [USERINFO_SECRET, WEBHOOK_SECRET, KEY]
    assert not [line for line in logged if any(s in line for s in secrets)]
    written = [*(risk_env / "home").rglob("*"), *(risk_env / "data" / "alerts").rglob("*")]
    files = [p for p in written if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files) and any(
        p.suffix in (".out", ".err", ".complete") or "compute_logs" in str(p) for p in files
    )
    found = {(str(p), s) for p in files for s in secrets if s.encode() in p.read_bytes()}
    assert found == set()


def test_ten_pairs_of_concurrent_runs_of_one_domain_never_collide(risk_env, provider):
    """Two processes writing the domain's DuckDB at once, without the dev instance's pools:
    the domain lock serialises them (without it the second fails: `Could not set lock`)."""
    import dagster as dg
    from test_crash_recovery import fork_run, wait_exit

    from mesh_platform.cli.workspace import load_definitions

    admin(provider, "reset")
    defs = load_definitions(ROOT / "domains" / "risk")
    key = dg.AssetKey(["risk", "entity_ratings", "ratings_history"])

    def write_history() -> bool:
        return dg.materialize(
            assets=list(defs.assets),
            selection=dg.AssetSelection.assets(key),
            instance=dg.DagsterInstance.get(),
            resources=dict(defs.resources),
            raise_on_error=False,
            tags={"domain": "risk"},
        ).success

    codes = []
    for _ in range(10):
        both = [fork_run("risk", selection=write_history), fork_run("risk", selection=write_history)]
        codes += [wait_exit(pid) for pid in both]
    assert codes == [0] * 20
    assert len(history(risk_env)) == 2 * N


# --- the ratings client's error paths ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("html", "HTTP 200 but the body is not valid JSON (text/html"),
        ("truncated", "HTTP 200 but the body is not valid JSON (application/json"),
    ],
)
def test_malformed_bodies_name_the_batch_and_url(url, body, complaint):
    admin(url, "faults", {"body": body})
    with client(url, batch_size=10) as c, pytest.raises(ratings.RatingsError) as exc:
        c.rate_all(leis(25))
    message = str(exc.value)
    assert complaint in message and f"{url}/v1/ratings" in message and "batch 1/3 (10 LEIs" in message


def test_an_unexpected_lei_is_named(url):
    extra = leis(1, start=900)[0]
    admin(url, "faults", {"extra_leis": [extra]})
    with client(url) as c, pytest.raises(ratings.RatingsError) as exc:
        c.rate_all(leis(5))
    assert f"1 not asked for (e.g. ['{extra}'])" in str(exc.value) and "missing" not in str(exc.value)


def test_retry_after_stops_at_the_runs_deadline(url):
    admin(url, "faults", {"rate_limit": 10, "retry_after": 30})
    started = time.monotonic()
    with client(url, deadline=2.0) as c, pytest.raises(ratings.RatingsDeadline) as exc:
        c.rate_all(leis(5))
    assert time.monotonic() - started < 5
    assert "deadline (RATINGS_DEADLINE)" in str(exc.value) and "batch 1/1" in str(exc.value)


def test_the_deadline_is_configurable(monkeypatch):
    monkeypatch.setenv("RATINGS_DEADLINE", "42")
    assert ratings.RatingsConfig.from_env().deadline == 42.0
