"""Deprecation notices: every consuming team gets exactly one alert when a port is deprecated
(sunset date, replacement) and one reminder before the sunset, through the alert sinks
(JSON-lines log, and a webhook on a local HTTP server)."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest
from conftest import free_port
from test_lifecycle import ORDERS, TODAY, mesh, mesh_root  # noqa: F401 - the fixture

from mesh_platform.alerts.sinks import alert_log_path, read_jsonl
from mesh_platform.alerts.state import AlertCursor
from mesh_platform.dagster_wiring.lifecycle_sensor import lifecycle_sensor
from mesh_platform.lifecycle.notices import run_notices
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.domain import load_domain

REPLACEMENT = "recommendations.articles_bought_together.articles_bought_together"


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", free_port()), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setenv("RECOMMENDATIONS_ALERTS_WEBHOOK_URL", url)
    monkeypatch.setenv("BROKERAGE_ALERTS_WEBHOOK_URL", url)
    yield _Hook.received
    server.shutdown()


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("MESH_DATA_DIR", str(data))
    return data


class _Log:
    def __init__(self):
        self.lines = []

    def warning(self, msg):
        self.lines.append(msg)

    info = error = warning


def _second_consumer_team(root: Path) -> None:
    """brokerage builds a product on checkout's orders too, and a second recommendations product does."""
    for address, template in (("brokerage.web_buying_tenants", "filter"), ("recommendations.daily_sales", "aggregate")):
        result = mesh(
            "new",
            "product",
            address,
            "--from",
            ORDERS,
            "--template",
            template,
            "--purpose",
            "Scaffolded to have more consumers of the orders port",
        )
        assert result.exit_code == 0, result.output


def test_deprecating_a_port_alerts_each_consuming_team_exactly_once(mesh_root, data_dir, webhook):
    _second_consumer_team(mesh_root)
    result = mesh("product", "deprecate", ORDERS, "--sunset", "2027-03-01", "--replaced-by", REPLACEMENT)
    assert result.exit_code == 0, result.output
    view = Mesh.load(mesh_root / "domains")
    cursor = AlertCursor()
    log = _Log()

    sent = run_notices(view, "checkout", cursor, TODAY, log)
    assert sorted(a.domain for a in sent) == ["brokerage", "recommendations"]  # one per team, not per product
    reco = next(a for a in sent if a.domain == "recommendations")
    assert reco.details["sunset_date"] == "2027-03-01" and reco.details["replaced_by"] == REPLACEMENT
    assert "retired on 2027-03-01" in reco.text and f"Move to {REPLACEMENT}" in reco.text
    assert reco.details["consumer_products"] == [
        "recommendations.articles_bought_together",
        "recommendations.daily_sales",
    ]
    assert reco.channel == "#reco-data-alerts"
    # Delivered to each team's webhook and alert log.
    assert len(webhook) == 2 and all("2027-03-01" in p["text"] for p in webhook)
    assert len(read_jsonl(alert_log_path("recommendations"))) == 1
    assert len(read_jsonl(alert_log_path("brokerage"))) == 1
    assert read_jsonl(alert_log_path("checkout")) == []

    # Later ticks, before the reminder window: nothing more.
    assert run_notices(view, "checkout", cursor, date(2027, 1, 15), log) == []
    # The reminder: once per team when the sunset is within 30 days (the default lead time).
    reminders = run_notices(view, "checkout", cursor, date(2027, 1, 30), log)
    assert sorted(a.domain for a in reminders) == ["brokerage", "recommendations"]
    assert all(a.details["notice"] == "sunset-reminder" and "30 day(s)" in a.title for a in reminders)
    assert run_notices(view, "checkout", cursor, date(2027, 2, 20), log) == []
    assert len(webhook) == 4


def test_the_reminder_lead_time_is_the_contracts(mesh_root, data_dir, webhook):
    contract = (
        mesh_root / "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
    )
    contract.write_text(
        contract.read_text().replace(
            "    value: P3M\n", "    value: P3M\n  - property: sunsetReminder\n    value: P7D\n", 1
        )
    )
    assert mesh("product", "deprecate", ORDERS, "--sunset", "2027-03-01").exit_code == 0
    view = Mesh.load(mesh_root / "domains")
    cursor = AlertCursor()
    assert len(run_notices(view, "checkout", cursor, TODAY, _Log())) == 1
    assert run_notices(view, "checkout", cursor, date(2027, 2, 21), _Log()) == []
    reminder = run_notices(view, "checkout", cursor, date(2027, 2, 22), _Log())
    assert [a.details["notice"] for a in reminder] == ["sunset-reminder"]
    assert "No replacement is named" in reminder[0].text


def test_the_lifecycle_sensor_sends_once_across_ticks(mesh_root, data_dir, webhook):
    assert mesh("product", "deprecate", ORDERS, "--sunset", "2027-03-01").exit_code == 0
    sensor = lifecycle_sensor(load_domain(mesh_root / "domains" / "checkout"))
    with dg.instance_for_test() as instance:
        first = sensor(dg.build_sensor_context(instance=instance))
        second = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert "1 lifecycle alert(s)" in first.skip_reason.skip_message
    assert "0 lifecycle alert(s)" in second.skip_reason.skip_message
    assert len(webhook) == 1 and len(read_jsonl(alert_log_path("recommendations"))) == 1


def test_an_undelivered_notice_is_retried_on_the_next_tick(mesh_root, data_dir, monkeypatch):
    monkeypatch.setenv("RECOMMENDATIONS_ALERTS_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/hook/T0KEN-S3CRET")
    assert mesh("product", "deprecate", ORDERS, "--sunset", "2027-03-01").exit_code == 0
    view = Mesh.load(mesh_root / "domains")
    cursor = AlertCursor()
    log = _Log()
    assert len(run_notices(view, "checkout", cursor, TODAY, log)) == 1
    failures = [line for line in log.lines if "webhook delivery failed" in line]
    assert failures and not any("T0KEN-S3CRET" in line for line in log.lines)  # the URL is the secret
    assert len(cursor.pending) == 1  # kept, in the cursor, for the next tick
    restored = AlertCursor.load(cursor.dump())
    assert restored.pending[0]["details"]["port"] == ORDERS
