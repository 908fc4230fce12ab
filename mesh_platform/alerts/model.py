"""An alert, and who it is for."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

import dagster as dg

from mesh_platform.contracts.model import Status
from mesh_platform.mesh.address import ProductAddress
from mesh_platform.mesh.domain import Domain, Port, Product
from mesh_platform.specs.durations import format_duration

DEFAULT_UI_URL = "http://127.0.0.1:3000"
FAIL, WARN, PASS = "FAIL", "WARN", "PASS"
ALERT_STATES = {Status.FAILED: FAIL, Status.WARN: WARN, Status.PASSED: PASS}  # a check's status, alerted
ICONS = {FAIL: ":red_circle:", WARN: ":large_yellow_circle:", PASS: ":large_green_circle:"}


def ui_url() -> str:
    """Where the Dagster UI lives, for links in alerts (MESH_UI_URL)."""
    return os.environ.get("MESH_UI_URL", DEFAULT_UI_URL).rstrip("/")


def asset_link(key: dg.AssetKey, view: str | None = None) -> str:
    path = "/".join(quote(part, safe="") for part in key.path)
    return f"{ui_url()}/assets/{path}" + (f"?view={view}" if view else "")


def run_link(run_id: str) -> str:
    return f"{ui_url()}/runs/{run_id}"


@dataclass
class Alert:
    """One state change of one subject (an asset's freshness, a check, a product's runs)."""

    id: str
    kind: str  # freshness | check | run
    subject: str  # the state-tracking key, e.g. "freshness:<domain>/<product>/<port>"
    state: str  # FAIL | WARN | PASS (PASS = recovered)
    domain: str
    product: str
    owner: str  # the owning team's name
    owners: list[str]
    channel: str
    title: str
    text: str
    link: str
    timestamp: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def recovery(self) -> bool:
        return self.state == PASS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        return cls(**data)

    def summary(self) -> str:
        return f"[{self.state}] {self.title}: {self.text} ({self.link})"

    def slack_payload(self) -> dict[str, Any]:
        """A Slack-compatible incoming-webhook message: `text` for notifications, blocks for the body."""
        headline = f"{ICONS[self.state]} *{'RECOVERED' if self.recovery else self.state}* {self.title}"
        return {
            "channel": self.channel,
            "text": f"{'RECOVERED' if self.recovery else self.state}: {self.title}. {self.text} {self.link}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"{headline}\n{self.text}"}},
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*Product*\n{ProductAddress(self.domain, self.product)}"},
                        {"type": "mrkdwn", "text": f"*Owner*\n{self.owner} ({', '.join(self.owners)})"},
                    ],
                },
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": f"<{self.link}|Open in Dagster> · alert {self.id}"}],
                },
            ],
        }


@dataclass(frozen=True)
class Route:
    """Who owns what the sensor watches, from domain.yaml and the product descriptors."""

    domain: Domain

    @property
    def channel(self) -> str:
        alerts = self.domain.spec.alerts
        return alerts.channel if alerts else ""

    @property
    def webhook_env(self) -> str | None:
        alerts = self.domain.spec.alerts
        return alerts.webhook_env if alerts else None

    def owns(self, key: dg.AssetKey) -> bool:
        return len(key.path) >= 1 and key.path[0] == self.domain.name

    def product(self, name: str) -> Product | None:
        return next((p for p in self.domain.products if p.name == name), None)

    def product_of(self, key: dg.AssetKey) -> Product | None:
        return self.product(key.path[1]) if len(key.path) >= 3 else None

    def port_of(self, key: dg.AssetKey) -> Port | None:
        product = self.product_of(key)
        if product is None:
            return None
        return next((p for p in product.ports if p.name == key.path[2]), None)

    def team(self, product: Product | None) -> tuple[str, list[str]]:
        team = product.team if product else self.domain.spec.team
        return team.name, list(team.owners)

    def window(self, key: dg.AssetKey) -> str:
        """The freshness promise, in words: 'freshness 24h (warn after 20h)' or a deadline."""
        port = self.port_of(key)
        if port is None:
            return "no SLA"
        sla = port.contract.sla()
        if sla.freshness:
            warn = f" (warn after {format_duration(sla.freshness_warn)})" if sla.freshness_warn else ""
            return f"freshness {format_duration(sla.freshness)}{warn}"
        if sla.deadline:
            return f"available {sla.describe_deadline()}"
        return "no SLA"
