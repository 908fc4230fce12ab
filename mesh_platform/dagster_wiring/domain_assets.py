"""A domain's dbt project as one multi-asset: dbt build, then audit and publish each port.

The asset behind an output port is the *published* snapshot: its materialisation is
recorded only when the contract's blocking checks pass and the snapshot is live. Where the
models are built, audited and published (DuckDB files or BigQuery) is the run's target
(publishing/target.py, by MESH_TARGET); this module does not branch on it.
"""

from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    build_dbt_specs,
)

from mesh_platform import settings
from mesh_platform.contracts.model import CheckSpec
from mesh_platform.dagster_wiring.contract_checks import asset_check_spec, check_result
from mesh_platform.dagster_wiring.dbt_project import finish_run_folder, reuse_parse
from mesh_platform.dagster_wiring.freshness import data_time_metadata
from mesh_platform.dagster_wiring.input_ports import unpublished_inputs
from mesh_platform.dagster_wiring.partitions import partitions_def, run_range
from mesh_platform.dagster_wiring.policy_checks import CHECK_PREFIX, PortPolicies, blocked_ports, port_policies
from mesh_platform.dagster_wiring.translator import MeshTranslator
from mesh_platform.governance.model import LintReport
from mesh_platform.lifecycle.states import port_lifecycle
from mesh_platform.mesh.domain import Domain, Port
from mesh_platform.publishing import target as targets
from mesh_platform.redaction import redact

SELECT = "fqn:*"


def build_domain_assets(
    domain: Domain,
    project: DbtProject,
    manifest: dict[str, Any],
    translator: MeshTranslator,
    checks_by_port: dict[str, list[CheckSpec]],
    exclude: str = "",
    governance: LintReport | None = None,
) -> list[dg.AssetsDefinition]:
    """One multi-asset per partitioned product holding all that product's models, and one for
    the domain's other models. `exclude`: dbt models left out of the location (those of retired
    ports and products). `governance`: the domain's policy results; each port's policy checks
    ride on its multi-asset, so every run of the port records them (policy_checks.py).

    Every model of a partitioned product takes the product's partitions, the views its
    incremental models read too, as dagster-dbt's `@dbt_assets(partitions_def=...)` does. A view
    holds no data, but Dagster's backfills never run an unpartitioned parent and its
    partitioned child in one run: "Materialize all" in the UI would be two runs, a backfill
    daemon period (30 s) apart. The multi-asset runs the product in one step and one dbt
    invocation, as a bare `dbt build` does."""
    retired = set(exclude.split())
    groups = partitioned_groups(domain, manifest, translator, retired)
    out = []
    excluded = sorted(retired)
    for product in domain.products:
        group = groups.get(product.name)
        if group is None:
            continue
        excluded += group
        out.append(
            _group_assets(
                domain,
                project,
                manifest,
                translator,
                checks_by_port,
                governance,
                name=f"{domain.name}__{product.name}_dbt_models",
                select=" ".join(group),
                exclude="",
                ports=product.ports,
                partitions=partitions_def(product.partitioning),
            )
        )
    rest = [port for p in domain.products if p.name not in groups for port in p.ports]
    out.append(
        _group_assets(
            domain,
            project,
            manifest,
            translator,
            checks_by_port,
            governance,
            name=f"{domain.name}_dbt_models",
            select=SELECT,
            exclude=" ".join(excluded),
            ports=rest,
            partitions=None,
        )
    )
    return [a for a in out if a is not None]


def partitioned_groups(
    domain: Domain, manifest: dict[str, Any], translator: MeshTranslator, retired: set[str] = frozenset()
) -> dict[str, list[str]]:
    """product -> its models, for products that declare partitions and have an incremental
    model (models of retired ports and products left out)."""
    partitioned = {p.name for p in domain.products if p.partitioning is not None}
    models: dict[str, list[str]] = {}
    incremental: set[str] = set()
    for uid, product in translator.product_by_uid.items():
        node = manifest["nodes"][uid]
        if product not in partitioned or node["name"] in retired:
            continue
        models.setdefault(product, []).append(node["name"])
        if node.get("config", {}).get("materialized") == "incremental":
            incremental.add(product)
    return {product: sorted(models[product]) for product in incremental}


def _group_assets(
    domain: Domain,
    project: DbtProject,
    manifest: dict[str, Any],
    translator: MeshTranslator,
    checks_by_port: dict[str, list[CheckSpec]],
    governance: LintReport | None,
    *,
    name: str,
    select: str,
    exclude: str,
    ports: list[Port],
    partitions: dg.DailyPartitionsDefinition | None,
) -> dg.AssetsDefinition | None:
    specs, dbt_check_specs = build_dbt_specs(
        translator=translator,
        manifest=manifest,
        select=select,
        exclude=exclude,
        selector="",
        io_manager_key=None,
        project=project,
    )
    if not specs:
        return None
    if partitions is not None:
        specs = [s.replace_attributes(partitions_def=partitions) for s in specs]
    port_keys: dict[dg.AssetKey, Port] = {}
    contract_check_specs = []
    policies: dict[dg.AssetKey, PortPolicies] = {}
    for port in ports:
        key = dg.AssetKey([domain.name, port.product.name, port.name])
        port_keys[key] = port
        contract_check_specs += [asset_check_spec(s, key) for s in checks_by_port[port.address]]
        found = port_policies(governance, port.address)
        if found is not None:
            policies[key] = found
            contract_check_specs += found.check_specs()
    policy_blocked = blocked_ports(governance)

    @dg.multi_asset(
        name=name,
        specs=specs,
        check_specs=[*dbt_check_specs, *contract_check_specs],
        can_subset=True,
        op_tags={
            DAGSTER_DBT_SELECT_METADATA_KEY: select,
            DAGSTER_DBT_EXCLUDE_METADATA_KEY: exclude,
            DAGSTER_DBT_SELECTOR_METADATA_KEY: "",
        },
        allow_arbitrary_check_specs=True,
        pool=f"mesh_domain_{domain.name}",
        backfill_policy=dg.BackfillPolicy.single_run() if partitions else None,
    )
    def _assets(context: AssetExecutionContext, dbt: DbtCliResource):
        target = targets.current()
        # On DuckDB: one writer per domain file, with or without the dev instance's pools.
        with target.writer(domain.name, context.run.run_id, log=context.log.warning):
            yield from run_domain(
                context,
                dbt,
                port_keys,
                checks_by_port,
                manifest,
                policy_blocked,
                partitions,
                target=target,
                policies=policies,
            )

    return _assets


def run_domain(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    port_keys: dict[dg.AssetKey, Port],
    checks_by_port: dict[str, list[CheckSpec]],
    manifest: dict[str, Any],
    policy_blocked: dict[str, list[str]] | None = None,
    partitions: dg.DailyPartitionsDefinition | None = None,
    target: targets.Target | None = None,
    policies: dict[dg.AssetKey, PortPolicies] | None = None,
):
    """dbt build, then per port: its policy checks' verdicts (once per run, whatever the
    partitions), the audit, and publishing when nothing blocking failed."""
    target = target or targets.current()
    selected_checks = context.selected_asset_check_keys
    if (
        not context.selected_asset_keys
        and selected_checks
        and all(c.asset_key in (policies or {}) and c.name.startswith(CHECK_PREFIX) for c in selected_checks)
    ):
        # Only policy checks were asked for ("Execute" on them in the UI): no dbt, no data.
        for found in (policies or {}).values():
            yield from found.check_results(selected_checks)
        return
    held: dict[dg.AssetKey, list] = {}
    args, env = ["build"], {}
    window = None
    # A run without partitions (checks executed alone from the UI) has no range.
    if partitions is not None and context.has_partition_key_range:
        span = run_range(context, partitions)
        window = span.window
        args += span.dbt_args()
        env = span.dbt_env()
        context.log.info(f"partitions {span.describe()}" + (" (all: full refresh)" if span.everything else ""))
    # every domain a run's dbt group writes (a partitioned product's views run in a group without ports)
    for domain_name in {key.path[0] for key in context.assets_def.keys}:
        target.prepare(domain_name)
    # A consumer run before its producer published fails, naming the missing input port.
    unpublished = unpublished_inputs(port_keys.values(), {k.path[1] for k in context.selected_asset_keys}, target)
    for message in unpublished:
        context.log.error(redact(message))
    reuse_parse(dbt.project_dir, settings.target())
    invocation = dbt.cli(args, context=context, raise_on_error=False, env=env)
    if port_keys:  # a run of views alone audits nothing
        targets.warm_up(target.audit_modules)  # while dbt builds
    for event in invocation.stream():
        key = _event_key(context, event)
        if key in port_keys:
            held.setdefault(key, []).append(event)  # published after the audit, or never
            continue
        yield event
    finish_run_folder(invocation)

    failures: list[str] = list(unpublished)
    for key, port in port_keys.items():
        if key in (policies or {}):  # static lint: recorded whether or not dbt built the port
            yield from policies[key].check_results(selected_checks)
        events = held.get(key, [])
        outputs = [e for e in events if isinstance(e, dg.Output)]
        wanted = [s for s in checks_by_port[port.address] if dg.AssetCheckKey(key, s.key) in selected_checks]
        if not outputs:
            # Checks run on their own (e.g. "Execute" on a check in the UI): audit what is
            # built, publish nothing.
            if wanted and key not in context.selected_asset_keys:
                node = _model_node(manifest, port.model)
                result = target.audit_and_publish(
                    port,
                    wanted,
                    schema=node["schema"],
                    relation=node["alias"] or node["name"],
                    run_id=context.run.run_id,
                    publish=False,
                    window=window,
                )
                for outcome in result.outcomes:
                    yield check_result(outcome, key)
            yield from events
            continue
        if port.address in (policy_blocked or {}):  # error-severity governance policies gate publishing
            failures.append(
                f"{port.address}: violates governance policies, not published: "
                + "; ".join(policy_blocked[port.address])
            )
            context.log.error(failures[-1])
            yield from (e for e in events if not isinstance(e, dg.Output))
            continue
        node = _model_node(manifest, port.model)
        # Every blocking rule gates publishing, even when only some checks were selected.
        # A proposed/draft port is built and checked in its own domain, never published.
        lifecycle = port_lifecycle(port)
        result = target.audit_and_publish(
            port,
            checks_by_port[port.address],
            schema=node["schema"],
            relation=node["alias"] or node["name"],
            run_id=context.run.run_id,
            publish=lifecycle.published,
            window=window,
        )
        for outcome in result.outcomes:
            if dg.AssetCheckKey(key, outcome.spec.key) in selected_checks:
                yield check_result(outcome, key)
        if result.published is None and not result.blocked_by:
            context.log.info(f"{port.address} is {lifecycle.state}: built and checked, not published to the mesh")
            yield outputs[0].with_metadata(
                {**outputs[0].metadata, "lifecycle/state": lifecycle.state, "published_path": ""}
            )
            yield from (e for e in events if not isinstance(e, dg.Output))
            continue
        if result.published is None:
            names = ", ".join(
                f"{o.spec.key} ({o.failing_count if o.failing_count is not None else o.metric})"
                for o in result.blocked_by
            )
            failures.append(
                f"{port.address}: blocking contract checks failed: {names}; not published, "
                "the previous snapshot stays live"
            )
            context.log.error(redact(failures[-1]))
            yield from (e for e in events if not isinstance(e, dg.Output))
            continue
        published = result.published
        yield outputs[0].with_metadata(
            {
                **outputs[0].metadata,
                **target.publication_metadata(published),
                "dagster/row_count": published.row_count,
                **data_time_metadata(result.outcomes),  # the newest value of the SLA's time column
            }
        )
        yield from (e for e in events if not isinstance(e, dg.Output))

    if not invocation.is_successful():
        failures.append(f"dbt build failed: {redact(invocation.get_error())}")
    if failures:
        raise dg.Failure(description=redact("\n".join(failures)))


def _model_node(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] == name:
            return node
    raise KeyError(name)


def _event_key(context: AssetExecutionContext, event: Any) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return context.asset_key_for_output(event.output_name)
    if isinstance(event, dg.AssetCheckResult):
        return event.asset_key
    if isinstance(event, dg.AssetMaterialization):
        return event.asset_key
    return None
