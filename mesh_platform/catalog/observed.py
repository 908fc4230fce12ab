"""What the Dagster instance recorded about products: materialisations, check evaluations,
freshness state and runs. Read through the instance's public API (and its event log storage
for check evaluations over a time range), the same records the Dagster UI shows.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg

from mesh_platform.catalog.model import NOT_EVALUATED, CheckResult, Freshness, PolicyResult
from mesh_platform.dagster_wiring.freshness import DATA_TIME
from mesh_platform.specs.contract import Sla


def iso(timestamp: float | datetime | None) -> str | None:
    if timestamp is None:
        return None
    if isinstance(timestamp, datetime):
        return timestamp.astimezone(UTC).isoformat(timespec="seconds")
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def parse_time(value: str | float | datetime | None) -> float | None:
    """An ISO-8601 time (a date means its midnight UTC), epoch seconds, or a datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected an ISO-8601 time like 2026-11-21 or 2026-11-21T06:00:00Z, got {value!r}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _value(entry) -> object:
    return getattr(entry, "value", entry)


@dataclass
class Materialisation:
    timestamp: float
    run_id: str
    metadata: dict[str, object]


def latest_materialisation(instance: dg.DagsterInstance, key: tuple[str, ...]) -> Materialisation | None:
    event = instance.get_latest_materialization_event(dg.AssetKey(list(key)))
    if event is None or event.asset_materialization is None:
        return None
    meta = {k: _value(v) for k, v in (event.asset_materialization.metadata or {}).items()}
    return Materialisation(timestamp=event.timestamp, run_id=event.run_id, metadata=meta)


def check_results(
    instance: dg.DagsterInstance,
    key: tuple[str, ...],
    checks: tuple[str, ...],
    after: float | None = None,
    before: float | None = None,
) -> list[CheckResult]:
    """Every evaluation of these checks of the asset in [after, before), oldest first, from the
    instance's asset-check execution records (the history the Dagster UI's Checks tab shows)."""
    storage = instance.event_log_storage
    out = []
    for name in checks:
        check_key = dg.AssetCheckKey(dg.AssetKey(list(key)), name)
        cursor = None
        while True:
            page = storage.get_asset_check_execution_history(check_key, limit=500, cursor=cursor)
            for record in page:
                entry = record.event
                if (
                    entry is None
                    or entry.dagster_event is None
                    or entry.dagster_event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION
                ):
                    continue  # planned, not evaluated (yet)
                if before is not None and entry.timestamp >= before:
                    continue
                if after is not None and entry.timestamp < after:
                    break
                out.append(_result(entry))
            else:
                if len(page) == 500:
                    cursor = page[-1].id
                    continue
            break
    return sorted(out, key=lambda r: (r.timestamp, r.check))


def latest_check_results(
    instance: dg.DagsterInstance, key: tuple[str, ...], checks: tuple[str, ...]
) -> list[CheckResult]:
    """The latest evaluation of each check (checks never evaluated are left out)."""
    check_keys = [dg.AssetCheckKey(dg.AssetKey(list(key)), name) for name in checks]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    out = []
    for record in latest.values():
        entry = record.event
        if (
            entry is not None
            and entry.dagster_event is not None
            and entry.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ):
            out.append(_result(entry))
    return sorted(out, key=lambda r: r.check)


def policy_results(instance: dg.DagsterInstance, key: tuple[str, ...], checks: dict[str, str]) -> list[PolicyResult]:
    """`checks`: policy -> its asset check on the port. The verdict of each as the latest run
    that evaluated the check recorded it; `not_evaluated` where no run did (never "pass")."""
    keys = {name: dg.AssetCheckKey(dg.AssetKey(list(key)), name) for name in checks.values()}
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(keys.values()))
    out = []
    for policy, name in checks.items():
        record = latest.get(keys[name])
        entry = record.event if record is not None else None
        if (
            entry is None
            or entry.dagster_event is None
            or entry.dagster_event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ):
            out.append(PolicyResult(policy, NOT_EVALUATED, "no run has evaluated this policy yet", check=name))
            continue
        evaluation = entry.dagster_event.event_specific_data
        meta = {k: _value(v) for k, v in (evaluation.metadata or {}).items()}
        status = str(meta.get("status") or "")
        if status not in ("pass", "waived", "warn", "fail"):
            status = (
                "pass"
                if evaluation.passed
                else ("fail" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warn")
            )
        violations = meta.get("violations") if isinstance(meta.get("violations"), list) else []
        message = "; ".join(str(v.get("message", "")) for v in violations if isinstance(v, dict))
        out.append(
            PolicyResult(policy, status, message, check=name, evaluated_at=iso(entry.timestamp), run_id=entry.run_id)
        )
    return out


def _result(entry) -> CheckResult:
    evaluation = entry.dagster_event.event_specific_data
    meta = {k: _value(v) for k, v in (evaluation.metadata or {}).items()}
    failing = meta.get("failing_count", meta.get("dagster_dbt/failed_row_count"))
    measured = meta.get("measured")
    return CheckResult(
        check=evaluation.check_name,
        dimension=str(meta.get("dimension") or "other"),
        severity="warning" if evaluation.severity == dg.AssetCheckSeverity.WARN else "error",
        passed=bool(evaluation.passed),
        timestamp=iso(entry.timestamp),
        run_id=entry.run_id,
        failing_count=int(failing) if isinstance(failing, (int, float)) and failing >= 0 else None,
        measured=float(measured) if isinstance(measured, (int, float)) else None,
        threshold=str(meta["threshold"]) if "threshold" in meta else None,
        description=evaluation.description,
    )


def freshness(
    instance: dg.DagsterInstance,
    key: tuple[str, ...],
    published: Materialisation | None,
    sla: Sla | None = None,
    now: float | None = None,
) -> Freshness:
    """Judged on the data where the last run recorded its data time and the SLA is a time
    window: now (the catalog's build time) against the newest value of the contract's time
    column. Otherwise the freshness daemon's last state: 'unknown' until it evaluated the asset,
    and when it is a warn or fail recorded before the last publication."""
    published_at = iso(published.timestamp) if published else None
    recorded = published.metadata.get(DATA_TIME) if published else None
    if isinstance(recorded, (int, float)) and sla is not None and sla.freshness is not None:
        now = time.time() if now is None else now
        age = now - float(recorded)
        state = (
            "fail"
            if age >= sla.freshness.total_seconds()
            else "warn"
            if sla.freshness_warn is not None and age >= sla.freshness_warn.total_seconds()
            else "pass"
        )
        return Freshness(
            state=state,
            evaluated_at=iso(now),
            last_published_at=published_at,
            data_time=iso(float(recorded)),
            basis="data",
        )
    records = instance.get_freshness_state_records([dg.AssetKey(list(key))])
    record = records.get(dg.AssetKey(list(key)))
    state = record.freshness_state.value.lower() if record is not None else "unknown"
    if state not in ("pass", "warn", "fail"):
        state = "unknown"
    elif state != "pass" and published is not None and record.updated_at.timestamp() < published.timestamp:
        # the daemon records a state when it changes: a warn or fail from before the last
        # publication is about older data; the publication may have made it fresh
        state = "unknown"
    return Freshness(
        state=state, evaluated_at=iso(record.updated_at) if record else None, last_published_at=published_at
    )


@dataclass
class RunUsage:
    """Runs of the last window attributed to products: a run that materialised assets of
    several products is split evenly between them."""

    runs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # product id -> run ids
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    durations: dict[str, float] = field(default_factory=dict)  # run id -> seconds


def run_usage(instance: dg.DagsterInstance, products: dict[str, tuple[str, str]], since: float) -> RunUsage:
    """`products`: product id -> (domain, product). Runs finished since `since`, with the
    products whose assets they materialised (or named in their `product` tag)."""
    usage = RunUsage()
    records = instance.get_run_records(
        dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
            updated_after=datetime.fromtimestamp(since, UTC),
        )
    )
    finished = {
        r.dagster_run.run_id: r
        for r in records
        if r.start_time is not None and r.end_time is not None and r.end_time >= since
    }
    in_run: dict[str, set[str]] = defaultdict(set)
    by_pair = {pair: pid for pid, pair in products.items()}
    for pid, (domain, name) in products.items():
        for key in instance.get_asset_keys(prefix=[domain, name]):
            result = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, after_timestamp=since), limit=10_000
            )
            for record in result.records:
                if record.run_id in finished:
                    in_run[record.run_id].add(pid)
    for run_id, record in finished.items():
        tags = record.dagster_run.tags
        pid = by_pair.get((tags.get("domain"), tags.get("product")))
        if pid is not None:
            in_run[run_id].add(pid)
    for run_id, pids in in_run.items():
        record = finished[run_id]
        seconds = record.end_time - record.start_time
        usage.durations[run_id] = seconds
        for pid in pids:
            usage.runs[pid].add(run_id)
            usage.seconds[pid] += seconds / len(pids)
    return usage


def successful_runs(instance: dg.DagsterInstance, run_ids: set[str]) -> set[str]:
    if not run_ids:
        return set()
    records = instance.get_run_records(dg.RunsFilter(run_ids=list(run_ids), statuses=[dg.DagsterRunStatus.SUCCESS]))
    return {r.dagster_run.run_id for r in records}
