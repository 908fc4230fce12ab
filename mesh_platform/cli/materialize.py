"""Headless materialisation through Dagster's own executor, recorded in DAGSTER_HOME."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from mesh_platform.cli.run_progress import ProgressDisplay, loggers, planned_total
from mesh_platform.cli.workspace import domain_dirs, load_definitions, prepare_domain
from mesh_platform.dagster_wiring.contract_checks import status_of
from mesh_platform.dagster_wiring.partitions import ALL, all_partitions_range, catch_up_range, parse_partition_arg
from mesh_platform.mesh.address import ProductAddress
from mesh_platform.runtime import dbt_standby
from mesh_platform.runtime.dead_runs import liveness_tags, reap_dead_runs
from mesh_platform.runtime.instance import open_instance


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


def materialize_products(
    domain: str | None = None,
    product: str | None = None,
    partition: str | None = None,
    log=None,
    instance: dg.DagsterInstance | None = None,
    verbose: bool = False,
    display: ProgressDisplay | None = None,
    loaded: Callable[[], object] | None = None,
) -> list[RunOutcome]:
    """Materialise the selected products in dependency order; one Dagster run per batch.

    With no arguments: the whole mesh. Products are ordered by their dependencies (input
    ports across domains, and one product ref()-ing another's output port inside a domain).
    Products of one domain that need no other domain in between run together in one run
    (dbt orders them); a domain that both feeds and reads another domain (A -> B -> A)
    runs once per side. A product whose upstream run failed is skipped.

    A partitioned product runs `partition` (`2025-12-31`, `2025-12-01...2025-12-31`, or `all`:
    a full refresh) in one run. Without it the product is brought up to date: from its first
    partition this instance has not materialised through the newest one (every partition on a
    fresh instance), or only the newest when none is missing. Unpartitioned products ignore it.

    Dagster's console log shows warnings and errors only, unless `verbose`; `display` draws the
    runs' progress (run_progress.py); `loaded` is called once the definitions are loaded.
    """
    instance = instance or open_instance()
    # A run whose process died would keep its domain's pool slot for ever: fail it first.
    reap_dead_runs(instance, log=log)
    defs_by_domain: dict[str, dg.Definitions] = {}
    for domain_dir in domain_dirs(domain):
        prepare_domain(domain_dir, if_stale=True)
        defs_by_domain[domain_dir.name] = load_definitions(domain_dir)
    if loaded is not None:  # the command's start-up is over (runtime/startup_gc.py)
        loaded()
    plan = plan_batches(defs_by_domain, product)
    if not plan:
        raise LookupError(f"no product matches domain={domain!r} product={product!r}")

    outcomes: list[RunOutcome] = []
    failed: set[Unit] = set()
    for number, batch in enumerate(plan, 1):
        if number < len(plan):  # the next batch's dbt imports itself while this batch runs
            dbt_standby.start()
        blocked = sorted({u for unit in batch.units for u in batch.upstream[unit] if u in failed})
        if blocked:
            failed.update(batch.units)
            outcomes.append(
                RunOutcome(
                    domain=batch.domain,
                    run_id="-",
                    success=False,
                    error=f"skipped {', '.join('.'.join(u) for u in batch.units)}: upstream "
                    f"{', '.join('.'.join(u) for u in blocked)} failed",
                )
            )
            continue
        defs = defs_by_domain[batch.domain]
        products = sorted({unit[1] for unit in batch.units})
        selected = batch.keys  # a partitioned product's views run too, over the same range
        definition, partitioned = _partitions_of(defs, selected)
        keys = _partition_range(definition, partitioned, partition, instance)
        display = display or ProgressDisplay()
        days = len(definition.get_partition_keys_in_range(keys)) if keys else 1
        counter = display.start(
            f"{batch.domain}: {', '.join(products)}" + (f" {keys.start}..{keys.end}" if keys else ""),
            planned=planned_total(defs, selected, days),
        )
        run_loggers, run_config = loggers(counter, verbose)
        job = dg.Definitions(
            assets=list(defs.assets or []),
            resources=dict(defs.resources or {}),
            loggers=run_loggers,
            jobs=[dg.define_asset_job(JOB, selection=dg.AssetSelection.assets(*selected))],
        ).resolve_job_def(JOB)
        try:
            result = job.execute_in_process(
                run_config=run_config,
                instance=instance,
                raise_on_error=False,
                tags={
                    "domain": batch.domain,
                    "launched_by": "mesh-cli",
                    **liveness_tags(instance),
                    **({"product": products[0]} if len(products) == 1 else {}),
                    **({RANGE_START: keys.start, RANGE_END: keys.end} if keys else {}),
                },
            )
        finally:
            display.stop()
        outcome = _summarise(batch.domain, result, selected)
        outcomes.append(outcome)
        if not outcome.success:
            failed.update(batch.units)
    return outcomes


Unit = tuple[str, str]  # (domain, product)
JOB = "mesh_materialize"  # the job name runs of `mesh materialize` carry in the UI
# Dagster's run tags for a partition range (what a single-run backfill from the UI sets).
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _partition_range(
    definition: dg.PartitionsDefinition | None,
    partitioned: list[dg.AssetSpec],
    partition: str | None,
    instance: dg.DagsterInstance,
) -> dg.PartitionKeyRange | None:
    """The partition range a batch runs: None for unpartitioned assets."""
    if definition is None:
        return None
    if partition == ALL:
        return all_partitions_range(definition)
    if partition:
        return parse_partition_arg(partition, definition)
    materialised = [instance.get_materialized_partitions(spec.key) for spec in partitioned]
    return catch_up_range(definition, materialised)


def _partitions_of(
    defs: dg.Definitions, keys: list[dg.AssetKey]
) -> tuple[dg.PartitionsDefinition | None, list[dg.AssetSpec]]:
    """The one partitions definition of `keys` that have any, and their specs."""
    wanted = set(keys)
    # per spec: a batch may hold a partitioned product's models and the domain's unpartitioned ones
    partitioned = [
        spec
        for a in defs.assets or []
        for spec in getattr(a, "specs", [])
        if spec.partitions_def is not None and spec.key in wanted
    ]
    definitions = {id(s.partitions_def): s.partitions_def for s in partitioned}
    if len(definitions) > 1:
        raise LookupError("one run cannot cover products with different partitions; use --product")
    return next(iter(definitions.values()), None), partitioned


@dataclass
class Batch:
    domain: str
    stage: int
    units: list[Unit]
    keys: list[dg.AssetKey]
    upstream: dict[Unit, set[Unit]]  # each unit's direct upstream units, across batches


def plan_batches(defs_by_domain: dict[str, dg.Definitions], product: str | None = None) -> list[Batch]:
    """Order (domain, product) units topologically; batch a domain's units of the same stage.

    stage(u) = max over upstream d of stage(d) + (1 if d is in another domain else 0): a
    same-domain dependency stays in one run, a cross-domain one waits for the producer's run.
    """
    keys: dict[Unit, list[dg.AssetKey]] = {}
    deps: dict[Unit, set[Unit]] = {}
    for defs in defs_by_domain.values():
        for assets in defs.assets or []:
            if not getattr(assets, "is_executable", True):
                continue
            for spec in assets.specs:
                unit = (spec.key.path[0], spec.key.path[1])
                keys.setdefault(unit, []).append(spec.key)
                deps.setdefault(unit, set()).update((d.asset_key.path[0], d.asset_key.path[1]) for d in spec.deps)
    if product:
        keys = {u: k for u, k in keys.items() if u[1] == product}
    deps = {u: {d for d in deps[u] if d in keys and d != u} for u in keys}

    stage: dict[Unit, int] = {}
    visiting: list[Unit] = []

    def visit(unit: Unit) -> int:
        if unit in stage:
            return stage[unit]
        if unit in visiting:
            cycle = visiting[visiting.index(unit) :] + [unit]
            raise LookupError(
                "products depend on each other in a cycle: " + " -> ".join(str(ProductAddress(*u)) for u in cycle)
            )
        visiting.append(unit)
        stage[unit] = max((visit(d) + (d[0] != unit[0]) for d in deps[unit]), default=0)
        visiting.pop()
        return stage[unit]

    for unit in sorted(keys):
        visit(unit)
    batches: dict[tuple[int, str], Batch] = {}
    for unit in sorted(keys, key=lambda u: (stage[u], u)):
        batch = batches.setdefault(
            (stage[unit], unit[0]), Batch(domain=unit[0], stage=stage[unit], units=[], keys=[], upstream={})
        )
        batch.units.append(unit)
        batch.keys.extend(keys[unit])
        batch.upstream[unit] = {d for d in deps[unit]}
    return [batches[k] for k in sorted(batches)]


def _summarise(domain: str, result: dg.ExecuteInProcessResult, keys) -> RunOutcome:
    rows = []
    materialized = {e.asset_key: e for e in result.get_asset_materialization_events()}
    for key in keys:
        ev = materialized.get(key)
        detail = ""
        if ev is not None:
            meta = ev.materialization.metadata
            if "dagster/row_count" in meta:
                detail = f"{meta['dagster/row_count'].value:,} rows"
            if "published_path" in meta:
                detail += f" published {meta['published_path'].value}"
        rows.append(
            Row("asset", key.to_user_string(), "materialized" if key in materialized else "not materialized", detail)
        )
    for evaluation in result.get_asset_check_evaluations():
        outcome = status_of(evaluation).value
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
                _root_cause(data.error) if data.error else "step failed"
            )
    return RunOutcome(domain=domain, run_id=result.run_id, success=result.success, rows=rows, error=error)


def _root_cause(error) -> str:
    """The innermost error's message: the domain's own exception, not Dagster's wrapper."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error.message.strip()
