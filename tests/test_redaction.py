"""One redaction function masks every kind of secret the platform could write."""

from __future__ import annotations

import logging

import pytest

from mesh_platform.alerts.model import Alert
from mesh_platform.alerts.sinks import append_jsonl
from mesh_platform.redaction import MASK, RedactingLog, redact, redact_value, register_secret_env


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("GET http://user:s3cret-pass@ratings.example.com/v1", "s3cret-pass", "ratings.example.com/v1"),
        ("POST https://hooks.slack.com/services/T000/B000/XXXXabcd failed", "XXXXabcd", "hooks.slack.com"),
        ("https://example.com/webhook/abc123def", "abc123def", "example.com"),
        ("https://api.example.com/x?token=tok-9876&page=2", "tok-9876", "page=2"),
        ("https://api.example.com/x?api_key=k-123", "k-123", "api.example.com/x"),
    ],
)
def test_urls_lose_their_secrets_and_keep_the_rest(text, secret, kept):
    out = redact(text)
    assert secret not in out and kept in out and MASK in out


def test_values_of_secret_environment_variables_are_masked(monkeypatch):
    monkeypatch.setenv("RATINGS_API_KEY", "key-from-env-42")
    monkeypatch.setenv("TEAM_HOOK", "https://chat.example.org/incoming/zz-top-secret")
    monkeypatch.setenv("MESH_SECRET_ENV", "DB_DSN")
    monkeypatch.setenv("DB_DSN", "dsn-with-password-77")
    register_secret_env("TEAM_HOOK")
    text = "key-from-env-42 / https://chat.example.org/incoming/zz-top-secret / dsn-with-password-77"
    assert redact(text) == f"{MASK} / {MASK} / {MASK}"
    assert "zz-top-secret" not in redact("HTTPConnectionPool(host='chat.example.org'): url: /incoming/zz-top-secret")
    assert redact_value({"a": ["key-from-env-42", 3], "b": ("dsn-with-password-77",)}) == {"a": [MASK, 3], "b": (MASK,)}


def test_the_log_wrapper_and_the_alert_log_redact(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("SOME_TOKEN", "tok-abcdef")
    log = RedactingLog(logging.getLogger("mesh.test"))
    with caplog.at_level(logging.INFO):
        log.info("calling http://u:pw-xyz@host/ with tok-abcdef")
    assert "pw-xyz" not in caplog.text and "tok-abcdef" not in caplog.text and "host/" in caplog.text
    alert = Alert(**{**_alert_fields(), "text": "run failed: http://u:pw-xyz@host/ tok-abcdef"})
    append_jsonl(tmp_path / "a.jsonl", alert)
    written = (tmp_path / "a.jsonl").read_text()
    assert "pw-xyz" not in written and "tok-abcdef" not in written


def _alert_fields() -> dict:
    return dict(
        id="a1",
        kind="run",
        subject="run:d/p",
        state="FAIL",
        domain="d",
        product="p",
        owner="t",
        owners=["t"],
        channel="#c",
        title="run failed",
        text="",
        link="http://ui/runs/1",
        timestamp=0.0,
    )
