"""Alerts reach the owning team once per state change, and again on recovery.

Real pieces only: a private copy of the materialised mesh's DagsterInstance (SQLite, in tmp),
real runs of the checkout product's newest day of orders (a daily partition) through Dagster's executor, Dagster's own freshness daemon iteration
(at frozen times, so 25 hours pass without waiting), the domain's alert sensor evaluated
tick by tick with its cursor, and a real HTTP receiver on 127.0.0.1 as the webhook.
"""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import free_port
from freshness_daemon import evaluate_freshness, freeze_time, freshness_changes, workspace
from sample_days import last_days

from mesh_platform import settings
from mesh_platform.alerts.sinks import alert_log_path, read_jsonl
from mesh_platform.alerts.state import AlertCursor
from mesh_platform.cli.materialize import materialize_products
from mesh_platform.cli.workspace import load_definitions
from mesh_platform.mesh.domain import load_domain

DOMAIN = "checkout"
PRODUCT = "web_orders_with_consent"
PORT_KEY = dg.AssetKey([DOMAIN, PRODUCT, PRODUCT])
# The product publishes more than one port (a v2 beside v1, each with its own freshness SLA);
# freshness alerts are per port, so the assertions follow the v1 port's subject.
FRESHNESS = f"freshness of {DOMAIN}.{PRODUCT}.{PRODUCT}."
WEBHOOK_ENV = "CHECKOUT_ALERTS_WEBHOOK_URL"  # named in domains/checkout/domain.yaml


class Receiver:
    """A Slack-style incoming webhook on 127.0.0.1 that records what it is sent."""

    def __init__(self, port: int):
        self.port = port
        self.received: list[dict] = []
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/checkout"

    def start(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def texts(self, prefix: str) -> list[str]:
        return [m["text"] for m in self.received if m["text"].startswith(prefix)]


@pytest.fixture
def receiver(monkeypatch):
    r = Receiver(free_port())
    r.start()
    monkeypatch.setenv(WEBHOOK_ENV, r.url)
    yield r
    try:
        r.stop()
    except Exception:
        pass


class Ticker:
    """Evaluates the domain's alert sensor tick by tick, carrying its cursor like the daemon does."""

    def __init__(self, instance, defs):
        self.instance = instance
        self.defs = defs
        self.sensor = defs.resolve_sensor_def(f"{DOMAIN}__alerts")
        self.cursor: str | None = None

    def tick(self) -> AlertCursor:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=self.defs)
        result = self.sensor(context)
        assert isinstance(result, dg.SensorResult) and not result.run_requests
        self.cursor = result.cursor
        return AlertCursor.load(self.cursor)


def _live_port() -> str:
    from mesh_platform.published_layout import live_location

    return live_location(settings.published_dir(DOMAIN, PRODUCT, PRODUCT))


def _newest_day() -> str:
    """The newest day with orders: each run below rebuilds it (the daily run's partition)."""
    return str(duckdb.execute("SELECT max(sold_date) FROM read_parquet(?)", [_live_port()]).fetchall()[0][0])


def _materialize(expect_success: bool, day: str):
    (outcome,) = materialize_products(domain=DOMAIN, partition=day)
    assert outcome.success is expect_success, outcome
    return outcome


def _duplicate_a_published_line(landing: Path, day: str) -> None:
    first = (
        duckdb.execute("SELECT * FROM read_parquet(?) WHERE sold_date = CAST(? AS DATE) LIMIT 1", [_live_port(), day])
        .to_arrow_table()
        .to_pylist()[0]
    )
    order, line = int(first["order_number"].split("-")[1]), first["line_number"]
    path = landing / "web_sales.parquet"
    sales = pq.read_table(path)
    index = next(
        i
        for i, (o, ln) in enumerate(zip(sales["ws_order_number"].to_pylist(), sales["ws_line_number"].to_pylist()))
        if o == order and ln == line
    )
    pq.write_table(pa.concat_tables([sales, sales.slice(index, 1)]), path)


def test_alerts_once_per_state_change_with_recovery_and_retry(mesh_copy, receiver):
    alerts_scenario(mesh_copy, receiver)


def alerts_scenario(data: Path, receiver) -> None:
    """Also run on PostgreSQL (test_postgres_instance.py), there on a fresh instance."""
    instance = dg.DagsterInstance.get()
    defs = load_definitions(settings.repo_root() / "domains" / DOMAIN)
    ticker = Ticker(instance, defs)
    landing = data / "landing" / DOMAIN
    pristine = data / "pristine_web_sales.parquet"
    shutil.copy(landing / "web_sales.parquet", pristine)

    # 1. A good run: everything passes, nothing to say (on a fresh instance: the last week first).
    if not settings.published_dir(DOMAIN, PRODUCT, PRODUCT).joinpath("current").exists():
        _materialize(expect_success=True, day=last_days(8))
    day = _newest_day()
    _materialize(expect_success=True, day=day)
    published_at = instance.get_latest_materialization_event(PORT_KEY).timestamp
    ticker.tick()
    assert receiver.received == []

    # 2. A contract violation: the blocking check fails, the run fails, nothing is published.
    _duplicate_a_published_line(landing, day)
    bad = _materialize(expect_success=False, day=day)
    failing = {}  # check key -> (alert state, failing rows)
    for record in instance.get_records_for_run(bad.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed:
            meta = evaluation.metadata  # our contract checks, or dagster-dbt's dbt tests
            count = meta.get("failing_count") or meta.get("dagster_dbt/failed_row_count")
            state = "FAIL" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "WARN"
            failing[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = (state, count.value)
    assert any(key.startswith("checkout/web_orders_with_consent/web_orders_with_consent:") for key in failing), (
        "the duplicated line must fail a contract check on the port"
    )
    ticker.tick()
    check_alerts = [t for t in receiver.texts("") if "check " in t.split(".")[0]]
    assert len(check_alerts) == len(failing)  # one alert per failing check
    for check_key, (state, count) in failing.items():
        (text,) = [t for t in check_alerts if f"check {check_key}:" in t]
        assert text.startswith(f"{state}: ") and f"{count} failing row(s)" in text
        assert "Checkout Team" in text
    (run_alert,) = receiver.texts("FAIL: run for checkout.web_orders_with_consent")
    assert bad.run_id in run_alert and "blocking contract checks failed" in run_alert
    assert f"/runs/{bad.run_id}" in run_alert
    n = len(receiver.received)
    ticker.tick()
    assert len(receiver.received) == n  # the same failure is not re-sent every tick
    shutil.copy(pristine, landing / "web_sales.parquet")

    definitions_py = settings.repo_root() / "domains" / DOMAIN / "definitions.py"
    with workspace(instance, definitions_py, DOMAIN, settings.repo_root()) as context:

        def freshness_at(hours: float):
            with freeze_time(published_at + hours * 3600):
                evaluate_freshness(context)
            return freshness_changes(instance, PORT_KEY)[-1].new_state.value

        # 3. Fresh, then the warn window (20h) passes: one WARN.
        assert freshness_at(0.1) == "PASS"
        ticker.tick()
        assert receiver.texts(f"WARN: {FRESHNESS}") == []
        assert freshness_at(20.5) == "WARN"
        ticker.tick()
        assert len(receiver.texts(f"WARN: {FRESHNESS}")) == 1

        # 4. The fail window (24h) passes while the webhook is down: kept, then delivered once.
        receiver.stop()
        assert freshness_at(24.5) == "FAIL"
        ports = len(load_domain(settings.domains_dir() / DOMAIN).ports())  # one FAIL per port
        assert len(ticker.tick().pending) == ports
        assert len(ticker.tick().pending) == ports  # still down: kept, not duplicated
        assert receiver.texts(f"FAIL: {FRESHNESS}") == []
        receiver.start()
        assert ticker.tick().pending == []
        (fail,) = receiver.texts(f"FAIL: {FRESHNESS}")
        assert "checkout.web_orders_with_consent" in fail  # the product
        assert "Checkout Team" in fail and "team:checkout" in fail  # the owner
        assert "freshness 24h" in fail and "warn after 20h" in fail  # the window
        assert "/assets/checkout/web_orders_with_consent/web_orders_with_consent" in fail  # the link
        assert freshness_at(24.6) == "FAIL"
        ticker.tick()
        assert len(receiver.texts(f"FAIL: {FRESHNESS}")) == 1  # evaluated again: still one alert

        # 5. A fresh materialisation 25h later: exactly one recovery per subject.
        with freeze_time(published_at + 25 * 3600):
            _materialize(expect_success=True, day=day)
        assert freshness_at(25.1) == "PASS"
        ticker.tick()
        assert len(receiver.texts(f"RECOVERED: {FRESHNESS}")) == 1
        recovered = receiver.texts("RECOVERED: ")
        for check_key in failing:
            assert len([t for t in recovered if f"check {check_key} passes again" in t]) == 1
        assert len(receiver.texts("RECOVERED: run for checkout.web_orders_with_consent")) == 1
        n = len(receiver.received)
        assert freshness_at(25.2) == "PASS"
        ticker.tick()
        assert len(receiver.received) == n

    # Every alert also went to the JSON-lines log, in the same order, with channel and link.
    logged = read_jsonl(alert_log_path(DOMAIN))
    assert [a["id"] for a in logged] == [
        m["blocks"][-1]["elements"][0]["text"].split("alert ")[-1] for m in receiver.received
    ]
    assert all(
        a["channel"] == "#checkout-data-alerts" and a["link"].startswith("http://127.0.0.1:3000/") for a in logged
    )
