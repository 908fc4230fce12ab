"""Headless materialisation through Dagster's own executor, recorded in DAGSTER_HOME."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from mesh_platform.cli.workspace import domain_dirs, load_definitions, prepare_domain


@dataclass
class Row:
    kind: str  # asset | check
    key: str
    outcome: str
    detail: str = ""


@dataclass
class RunOutcome:
    domain: str
    run_id: str
    success: bool
    rows: list[Row] = field(default_factory=list)
    error: str | None = None


def materialize_products(domain: str | None = None, product: str | None = None) -> list[RunOutcome]:
    instance = dg.DagsterInstance.get()
    outcomes = []
    dirs = domain_dirs(domain)
    matched = False
    for domain_dir in dirs:
        prepare_domain(domain_dir)
        defs = load_definitions(domain_dir)
        prefix = [domain_dir.name] + ([product] if product else [])
        assets = list(defs.assets or [])
        keys = [k for a in assets for k in a.keys if list(k.path[: len(prefix)]) == prefix]
        if not keys:
            continue
        matched = True
        result = dg.materialize(
            assets=assets,
            selection=dg.AssetSelection.keys(*keys),
            instance=instance,
            resources=dict(defs.resources or {}),
            raise_on_error=False,
            tags={"domain": domain_dir.name, **({"product": product} if product else {}),
                  "launched_by": "mesh-cli"},
        )
        outcomes.append(_summarise(domain_dir.name, result, keys))
    if not matched:
        raise LookupError(f"no product matches domain={domain!r} product={product!r}")
    return outcomes


def _summarise(domain: str, result: dg.ExecuteInProcessResult, keys) -> RunOutcome:
    rows = []
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    for key in keys:
        ev = next((e for e in result.get_asset_materialization_events() if e.asset_key == key), None)
        detail = ""
        if ev is not None:
            meta = ev.materialization.metadata
            if "dagster/row_count" in meta:
                detail = f"{meta['dagster/row_count'].value:,} rows"
            if "published_path" in meta:
                detail += f" published {meta['published_path'].value}"
        rows.append(Row("asset", key.to_user_string(), "materialized" if key in materialized else "not materialized", detail))
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            outcome = "passed"
        else:
            outcome = "failed" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warn"
        meta = evaluation.metadata
        detail = ""
        if not evaluation.passed and "failing_count" in meta:
            detail = f"{meta['failing_count'].value} failing rows"
        elif "measured" in meta:
            detail = f"measured {meta['measured'].value:g}"
        rows.append(Row("check", evaluation.check_name, outcome, detail))
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        if failures:
            data = failures[0].step_failure_data
            error = (data.user_failure_data.description if data.user_failure_data else None) or (
                data.error.message.strip() if data.error else "step failed")
    return RunOutcome(domain=domain, run_id=result.run_id, success=result.success, rows=rows, error=error)
