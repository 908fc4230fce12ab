"""Tell consuming teams about a deprecation: once when it happens, once before the sunset.

One sensor per providing domain (`<domain>__lifecycle`, dagster_wiring/lifecycle_sensor.py)
reads the mesh, and for each of its deprecated ports sends every consuming team (products
declaring the port as input, and holders of a usage agreement that has not ended) one alert
with the sunset date and the replacement, and one reminder when the sunset is within the
port's `sunsetReminder` (contract customProperty, default P30D). Alerts reuse the alert
machinery: the consumer's JSON-lines alert log, the Dagster log and the consumer's webhook,
with undelivered alerts kept in the cursor. "Once" is the cursor's per-subject state. The
sensor also archives the published snapshots of this domain's retired ports once they have
left the location.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from mesh_platform.alerts.model import WARN, Alert, asset_link
from mesh_platform.alerts.sinks import WebhookSink, alert_log_path, append_jsonl, deliver_pending
from mesh_platform.alerts.state import AlertCursor
from mesh_platform.lifecycle import states as st
from mesh_platform.lifecycle.archive import archive_port
from mesh_platform.lifecycle.rules import agreement_status
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.address import ProductAddress
from mesh_platform.mesh.domain import Port
from mesh_platform.redaction import register_secret_env
from mesh_platform.specs import agreements as ag
from mesh_platform.specs.periods import subtract_period

DEPRECATION, REMINDER = "deprecation", "sunset-reminder"


@dataclass(frozen=True)
class Recipient:
    domain: str
    products: tuple[str, ...]  # the consumer's products reading the port
    agreements: tuple[str, ...]


def recipients(mesh: Mesh, port: Port, today: date) -> list[Recipient]:
    """Consuming teams of a port: by declared input port or by an agreement not yet ended."""
    products: dict[str, set[str]] = {}
    agreements: dict[str, set[str]] = {}
    for edge in mesh.consumers_of(port.address, declared=True):
        products.setdefault(edge.consumer_domain, set()).add(str(edge.consumer_address))
    for agreement in mesh.agreements_for(port.address):
        if agreement_status(mesh, agreement, today) in (ag.ENDED, ag.TERMINATED):
            continue
        agreements.setdefault(agreement.domain, set()).add(agreement.id)
        products.setdefault(agreement.domain, set()).add(agreement.consumer_product)
    return [
        Recipient(domain=d, products=tuple(sorted(products[d])), agreements=tuple(sorted(agreements.get(d, ()))))
        for d in sorted(products)
        if d != port.product.domain_name
    ]


def due_alerts(mesh: Mesh, provider: str, cursor: AlertCursor, today: date) -> list[Alert]:
    """New alerts for the consumers of `provider`'s deprecated ports; records them in the cursor."""
    out = []
    domain = mesh.domain(provider)
    if domain is None:
        return out
    now = datetime.now(UTC).timestamp()
    for port in domain.ports():
        lifecycle = st.port_lifecycle(port)
        if lifecycle.state != st.DEPRECATED or lifecycle.sunset_date is None:
            continue
        remind_from = subtract_period(lifecycle.sunset_date, st.sunset_reminder(port))
        for recipient in recipients(mesh, port, today):
            subject = f"{DEPRECATION}:{port.address}:{recipient.domain}:{lifecycle.sunset_date}"
            if cursor.transition(subject, WARN):
                out.append(_alert(mesh, port, lifecycle, recipient, DEPRECATION, subject, now, today))
            if today >= remind_from:
                subject = f"{REMINDER}:{port.address}:{recipient.domain}:{lifecycle.sunset_date}"
                if cursor.transition(subject, WARN):
                    out.append(_alert(mesh, port, lifecycle, recipient, REMINDER, subject, now, today))
    return out


def _alert(
    mesh: Mesh,
    port: Port,
    lifecycle: st.Lifecycle,
    recipient: Recipient,
    kind: str,
    subject: str,
    now: float,
    today: date,
) -> Alert:
    consumer = mesh.domain(recipient.domain)
    alerts = consumer.spec.alerts
    team = consumer.spec.team
    replacement = f" Move to {lifecycle.replaced_by}." if lifecycle.replaced_by else " No replacement is named."
    days = (lifecycle.sunset_date - today).days
    if kind == DEPRECATION:
        title = f"{port.address} is deprecated"
        text = (
            f"{port.product.team.name} deprecated {port.address} on {lifecycle.deprecation_date}; it will be "
            f"retired on {lifecycle.sunset_date}.{replacement}"
        )
    else:
        title = f"{port.address} will be retired in {days} day(s)"
        text = f"Reminder: {port.address} is retired on {lifecycle.sunset_date} ({days} day(s) left).{replacement}"
    text += f" Your products reading it: {', '.join(recipient.products)}" + (
        f"; agreements: {', '.join(recipient.agreements)}." if recipient.agreements else "."
    )
    return Alert(
        id=f"{subject}:{int(now * 1000)}",
        kind="lifecycle",
        subject=subject,
        state=WARN,
        domain=recipient.domain,
        product=ProductAddress.parse(recipient.products[0]).product,
        owner=team.name,
        owners=list(team.owners),
        channel=alerts.channel if alerts else "",
        title=title,
        text=f"{text} Owner of {port.address}: {port.product.team.name} ({', '.join(port.product.team.owners)}).",
        link=asset_link(port.address.asset_key),
        timestamp=now,
        details={
            "port": str(port.address),
            "notice": kind,
            "sunset_date": str(lifecycle.sunset_date),
            "deprecation_date": str(lifecycle.deprecation_date or ""),
            "replaced_by": lifecycle.replaced_by or "",
            "consumer_products": list(recipient.products),
            "agreements": list(recipient.agreements),
            "webhook_env": alerts.webhook_env if alerts and alerts.webhook_env else "",
        },
    )


def run_notices(mesh: Mesh, provider: str, cursor: AlertCursor, today: date, log) -> list[Alert]:
    """Record and deliver the due alerts; archive retired ports' snapshots. Returns new alerts."""
    new = due_alerts(mesh, provider, cursor, today)
    for alert in new:
        append_jsonl(alert_log_path(alert.domain), alert)
        log.warning(alert.summary())
        if alert.details["webhook_env"]:
            cursor.queue(alert.to_dict())
    _deliver(cursor, log)
    domain = mesh.domain(provider)
    for port in domain.ports() if domain else []:
        if st.port_lifecycle(port).state == st.RETIRED and not mesh.consumers_of(port.address, declared=True):
            archived = archive_port(port.address)
            if archived is not None:
                log.info(f"{port.address} is retired: published snapshots archived to {archived}")
    return new


def _deliver(cursor: AlertCursor, log) -> None:
    """In order, each to its consumer's webhook (its URL a secret); an unset variable means log only."""
    sinks: dict[str | None, WebhookSink | None] = {}

    def sink_for(alert: Alert) -> WebhookSink | None:
        env = alert.details.get("webhook_env")
        if env not in sinks:
            register_secret_env(env)
            sinks[env] = WebhookSink.from_env(env)
        return sinks[env]

    try:
        deliver_pending(cursor, log, sink_for, what="lifecycle alert")
    finally:
        for sink in sinks.values():
            if sink is not None:
                sink.close()
