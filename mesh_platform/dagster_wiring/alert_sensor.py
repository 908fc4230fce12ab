"""One alert sensor per domain: event log -> state changes -> alerts for the owning team.

Each tick reads, after the cursor's timestamps,
- FRESHNESS_STATE_CHANGE events, which Dagster's freshness daemon writes when an asset's
  FreshnessPolicy state changes (PASS / WARN / FAIL / UNKNOWN);
- ASSET_CHECK_EVALUATION events of the domain's assets (contract and dbt checks);
- finished runs of the domain (the `domain` run tag, or an asset selection in the domain);
turns each subject's state change into at most one alert (WARN/FAIL once, PASS after
WARN/FAIL = recovery), writes it to the JSON-lines alert log and the Dagster log, and
delivers it to the team's webhook -- keeping what could not be delivered in the cursor to
retry on the next tick.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
from dagster import DagsterEventType, EventLogEntry, EventRecordsFilter

from mesh_platform.alerts.model import ALERT_STATES, FAIL, PASS, WARN, Alert, Route, asset_link, run_link
from mesh_platform.alerts.sinks import WebhookSink, alert_log_path, append_jsonl, deliver_pending
from mesh_platform.alerts.state import AlertCursor
from mesh_platform.dagster_wiring.contract_checks import status_of
from mesh_platform.mesh.address import ProductAddress
from mesh_platform.mesh.domain import Domain
from mesh_platform.redaction import RedactingLog, redact_value, register_secret_env

FRESHNESS, CHECKS, RUNS = "freshness", "checks", "runs"
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]


def alert_sensor(domain: Domain, minimum_interval_seconds: int = 30) -> dg.SensorDefinition:
    route = Route(domain)
    register_secret_env(route.webhook_env)  # the webhook URL is the secret of Slack-style hooks

    @dg.sensor(
        name=f"{domain.name}__alerts",
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Failed contract checks, failed runs and freshness WARN/FAIL of {domain.name} "
        f"-> {route.channel or 'the alert log'} (one alert per state change, and on recovery)",
    )
    def _alerts(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = AlertCursor.load(context.cursor)
        sent = run_tick(context.instance, route, cursor, context.log)
        return dg.SensorResult(skip_reason=f"{sent} new alert(s), {len(cursor.pending)} pending", cursor=cursor.dump())

    return _alerts


def run_tick(instance: dg.DagsterInstance, route: Route, cursor: AlertCursor, log) -> int:
    """Detect new alerts, record them, and deliver what is pending. Returns the number of new alerts."""
    new = [
        *_freshness_alerts(instance, route, cursor),
        *_check_alerts(instance, route, cursor),
        *_run_alerts(instance, route, cursor),
    ]
    new.sort(key=lambda a: a.timestamp)
    # Alerts quote run errors and check messages: nothing secret goes to the log, cursor or hook.
    new = [Alert.from_dict(redact_value(a.to_dict())) for a in new]
    log = RedactingLog(log)
    webhook = WebhookSink.from_env(route.webhook_env)
    for alert in new:
        append_jsonl(alert_log_path(route.domain.name), alert)
        (log.warning if alert.state != PASS else log.info)(alert.summary())
        if webhook is not None:
            for dropped in cursor.queue(alert.to_dict()):
                log.error(f"alert outbox full; dropped (still in the alert log): {dropped['id']}")
    if webhook is None and new and route.webhook_env:
        log.warning(
            f"{route.webhook_env} is not set: alerts go to {alert_log_path(route.domain.name)} and this log only"
        )
    if webhook is not None:
        deliver_pending(cursor, log, lambda alert: webhook)
        webhook.close()
    cursor.prune()
    return len(new)


def _records(instance: dg.DagsterInstance, event_type: DagsterEventType, after: float | None):
    records = instance.event_log_storage.get_event_records(
        EventRecordsFilter(event_type=event_type, after_timestamp=after), ascending=True
    )
    # Run-sharded SQLite returns runs one after another: order by time across them.
    return sorted(records, key=lambda r: (r.event_log_entry.timestamp, r.storage_id))


def _event_id(entry: EventLogEntry, storage_id: int) -> str:
    return f"{entry.run_id or '-'}/{storage_id}"


def _freshness_alerts(instance, route: Route, cursor: AlertCursor) -> Iterator[Alert]:
    for record in _records(instance, DagsterEventType.FRESHNESS_STATE_CHANGE, cursor.read_from(FRESHNESS)):
        entry = record.event_log_entry
        change = entry.dagster_event.event_specific_data  # a freshness state change (key, states, time)
        if not route.owns(change.key):
            continue
        if not cursor.first_sight(FRESHNESS, _event_id(entry, record.storage_id), entry.timestamp):
            continue
        # FreshnessState is not exported by `dagster`; its values are the state names.
        state = {"PASS": PASS, "WARN": WARN, "FAIL": FAIL}.get(change.new_state.value, change.new_state.value)
        subject = f"freshness:{change.key.to_user_string()}"
        to_send = cursor.transition(subject, state)
        if to_send is None:
            continue
        yield _freshness_alert(instance, route, change, to_send, subject, entry.timestamp)


def _freshness_alert(instance, route: Route, change, state: str, subject: str, timestamp: float) -> Alert:
    key = change.key
    product = route.product_of(key)
    owner, owners = route.team(product)
    window = route.window(key)
    last = instance.get_latest_materialization_event(key)
    if last is not None:
        age_h = (change.state_change_timestamp - last.timestamp) / 3600
        published = (
            f"last published {datetime.fromtimestamp(last.timestamp, UTC):%Y-%m-%d %H:%M} UTC "
            f"({age_h:.1f}h before this evaluation)"
        )
    else:
        published = "never published"
    what = {FAIL: "missed its freshness SLA", WARN: "is close to missing its freshness SLA", PASS: "is fresh again"}[
        state
    ]
    return Alert(
        id=f"{subject}:{state}:{int(timestamp * 1000)}",
        kind="freshness",
        subject=subject,
        state=state,
        domain=route.domain.name,
        product=product.name if product else key.path[1],
        owner=owner,
        owners=owners,
        channel=route.channel,
        title=f"freshness of {'.'.join(key.path)}",
        text=f"{'.'.join(key.path)} {what} ({window}); {published}. Owner: {owner} ({', '.join(owners)}).",
        link=asset_link(key),
        timestamp=timestamp,
        details={
            "asset_key": key.to_user_string(),
            "window": window,
            "previous_state": change.previous_state.value,
            "new_state": change.new_state.value,
        },
    )


def _check_alerts(instance, route: Route, cursor: AlertCursor) -> Iterator[Alert]:
    for record in _records(instance, DagsterEventType.ASSET_CHECK_EVALUATION, cursor.read_from(CHECKS)):
        entry = record.event_log_entry
        evaluation = entry.dagster_event.event_specific_data
        if not route.owns(evaluation.asset_key):
            continue
        if not cursor.first_sight(CHECKS, _event_id(entry, record.storage_id), entry.timestamp):
            continue
        check_key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        subject = f"check:{check_key}"
        to_send = cursor.transition(subject, ALERT_STATES[status_of(evaluation)])
        if to_send is None:
            continue
        yield _check_alert(route, evaluation, check_key, subject, to_send, entry)


def failing_count_of(meta: dict) -> int | None:
    """Failing rows: our contract checks' `failing_count`, or dagster-dbt's for dbt tests."""
    for key in ("failing_count", "dagster_dbt/failed_row_count"):
        if meta.get(key) is not None:
            return int(meta[key])
    return None


def _check_alert(route: Route, evaluation, check_key: str, subject: str, state: str, entry: EventLogEntry) -> Alert:
    key = evaluation.asset_key
    product = route.product_of(key)
    owner, owners = route.team(product)
    meta = {k: getattr(v, "value", v) for k, v in (evaluation.metadata or {}).items()}
    failing_count = failing_count_of(meta)
    if state == PASS:
        text = f"check {check_key} passes again."
    else:
        count = f"{failing_count} failing row(s)" if failing_count is not None else "failed"
        ratio = meta.get("failing_ratio")
        if isinstance(ratio, float):
            count += f" ({ratio:.2%})"
        threshold = f", expected {meta['threshold']}" if "threshold" in meta else ""
        blocked = " Publishing is blocked; the previous snapshot stays live." if state == FAIL else ""
        text = (
            f"check {check_key}: {count}{threshold} (severity {meta.get('severity', state.lower())}, "
            f"run {entry.run_id}).{blocked}"
        )
    return Alert(
        id=f"{subject}:{state}:{entry.run_id}",
        kind="check",
        subject=subject,
        state=state,
        domain=route.domain.name,
        product=product.name if product else key.path[1],
        owner=owner,
        owners=owners,
        channel=route.channel,
        title=f"{'contract check' if 'failing_count' in meta or 'dimension' in meta else 'check'} "
        f"{evaluation.check_name}",
        text=f"{text} Owner: {owner} ({', '.join(owners)}).",
        link=asset_link(key, view="checks"),
        timestamp=entry.timestamp,
        details={
            "check_key": check_key,
            "asset_key": key.to_user_string(),
            "failing_count": failing_count,
            "run_id": entry.run_id,
            "description": evaluation.description,
        },
    )


def _run_alerts(instance, route: Route, cursor: AlertCursor) -> Iterator[Alert]:
    after = cursor.read_from(RUNS)
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=FINISHED, updated_after=datetime.fromtimestamp(after, UTC) if after else None),
        order_by="update_timestamp",
        ascending=True,
    )
    for record in records:
        run = record.dagster_run
        products = _run_products(route, run)
        if not products:
            continue
        timestamp = record.update_timestamp.timestamp()
        if not cursor.first_sight(RUNS, run.run_id, timestamp):
            continue
        for product in products:
            subject = f"run:{ProductAddress(route.domain.name, product)}"
            state = FAIL if run.status == dg.DagsterRunStatus.FAILURE else PASS
            to_send = cursor.transition(subject, state)
            if to_send is not None:
                yield _run_alert(instance, route, run, product, subject, to_send, timestamp)


def _run_products(route: Route, run: dg.DagsterRun) -> list[str]:
    """The products of this domain a run built (all of them for a domain-wide run); [] if none."""
    keys = [k for k in (run.asset_selection or []) if route.owns(k)]
    keys += [c.asset_key for c in (run.asset_check_selection or []) if route.owns(c.asset_key)]
    if run.tags.get("domain") != route.domain.name and not keys:
        return []
    if run.tags.get("product"):
        return [run.tags["product"]]
    names = {p.name for p in route.domain.products}
    products = sorted({k.path[1] for k in keys if len(k.path) >= 3 and k.path[1] in names})
    return products or sorted(names)


def _run_alert(
    instance, route: Route, run: dg.DagsterRun, product: str, subject: str, state: str, timestamp: float
) -> Alert:
    owner, owners = route.team(route.product(product))
    if state == PASS:
        text = f"run {run.run_id} of {run.job_name} succeeded again."
    else:
        text = f"run {run.run_id} of {run.job_name} failed: {_failure_reason(instance, run.run_id)}"
    return Alert(
        id=f"{subject}:{state}:{run.run_id}",
        kind="run",
        subject=subject,
        state=state,
        domain=route.domain.name,
        product=product,
        owner=owner,
        owners=owners,
        channel=route.channel,
        title=f"run for {ProductAddress(route.domain.name, product)}",
        text=f"{text} Owner: {owner} ({', '.join(owners)}).",
        link=run_link(run.run_id),
        timestamp=timestamp,
        details={"run_id": run.run_id, "job": run.job_name},
    )


def _failure_reason(instance, run_id: str) -> str:
    records = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE}
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event.is_step_failure:
            data = event.step_failure_data
            reason = (data.user_failure_data.description if data.user_failure_data else None) or (
                data.error.message.strip() if data.error else None
            )
            if reason:
                return reason[:500]
    return records[-1].event_log_entry.dagster_event.message or "see the run" if records else "see the run"
