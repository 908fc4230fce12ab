"""Where alerts go: a JSON-lines log per domain (always), the Dagster log (always) and a
Slack-compatible webhook (when domain.yaml names the environment variable and it is set)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from mesh_platform import settings
from mesh_platform.alerts.model import Alert
from mesh_platform.alerts.state import AlertCursor
from mesh_platform.redaction import redact, redact_value


def alert_log_path(domain: str) -> Path:
    """$MESH_DATA_DIR/alerts/<domain>.jsonl"""
    return settings.data_dir() / "alerts" / f"{domain}.jsonl"


def append_jsonl(path: Path, alert: Alert) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(redact_value(alert.to_dict()), sort_keys=True) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class WebhookSink:
    """POST Slack-style JSON; a few quick retries inside a tick, the rest on the next tick."""

    def __init__(self, url: str, timeout: float = 5.0, retries: int = 2):
        self.url = url
        self.timeout = timeout
        import requests  # imported when a webhook is first used, not when a location loads
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.session = requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.2,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def from_env(cls, env_name: str | None) -> WebhookSink | None:
        url = os.environ.get(env_name) if env_name else None
        return cls(url) if url else None

    def send(self, alert: Alert) -> None:
        """Raise on anything but a 2xx answer."""
        response = self.session.post(self.url, json=redact_value(alert.slack_payload()), timeout=self.timeout)
        response.raise_for_status()

    def close(self) -> None:
        self.session.close()


def deliver_pending(
    cursor: AlertCursor, log, sink_for: Callable[[Alert], WebhookSink | None], what: str = "alert"
) -> None:
    """Send the cursor's pending alerts in order (an alert with no sink is logged only); stop at the
    first failure so the rest keep their order for the next tick. The error is redacted: an HTTP
    error quotes the webhook URL, which is the secret of Slack-style hooks."""
    while cursor.pending:
        alert = Alert.from_dict(cursor.pending[0])
        sink = sink_for(alert)
        if sink is not None:
            try:
                sink.send(alert)
            except Exception as exc:  # noqa: BLE001 - any failure means: try again next tick
                log.warning(
                    f"webhook delivery failed ({type(exc).__name__}: {redact(exc)}); "
                    f"{len(cursor.pending)} {what}(s) kept for the next tick"
                )
                return
        cursor.pending.pop(0)
