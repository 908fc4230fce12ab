"""Build a domain's Dagster Definitions from the Mesh. Domains call only this."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from mesh_platform import settings
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.dagster_wiring.alert_sensor import alert_sensor
from mesh_platform.dagster_wiring.automation import automation_sensor
from mesh_platform.dagster_wiring.dbt_parse import prepare_if_dev
from mesh_platform.dagster_wiring.dbt_project import dbt_project, dbt_resource
from mesh_platform.dagster_wiring.dead_run_sensor import dead_run_sensor
from mesh_platform.dagster_wiring.domain_assets import build_domain_assets
from mesh_platform.dagster_wiring.landing import landing_assets
from mesh_platform.dagster_wiring.lifecycle_metadata import lifecycle_metadata
from mesh_platform.dagster_wiring.lifecycle_sensor import lifecycle_sensor
from mesh_platform.dagster_wiring.lineage import column_lineage, product_of_models
from mesh_platform.dagster_wiring.policies import apply_policies
from mesh_platform.dagster_wiring.policy_checks import governance_report, with_policy_summary
from mesh_platform.dagster_wiring.python_assets import build_python_assets
from mesh_platform.dagster_wiring.schedules import product_job, product_schedule
from mesh_platform.dagster_wiring.translator import MeshTranslator
from mesh_platform.lifecycle.dates import today as lifecycle_today
from mesh_platform.lifecycle.location import dbt_exclude, live_domain, retired_models
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.domain import Domain
from mesh_platform.specs.errors import SpecError
from mesh_platform.validation import check_domain


def build_domain_definitions(domain_dir: str | Path, mesh: Mesh | None = None) -> dg.Definitions:
    """The code location of one domain: its own specs from the Mesh, checked by the one
    validation `mesh validate` runs (so a location refuses exactly what `mesh validate` reports)."""
    settings.export_env()
    domain_dir = Path(domain_dir).resolve()
    name = domain_dir.name
    if not (domain_dir / settings.DOMAIN_FILE).exists():
        raise SpecError.single(domain_dir / settings.DOMAIN_FILE, None, "", "file not found", rule="spec.file")
    mesh = mesh or Mesh.load(folders={name: domain_dir})
    if mesh.problems_of(name):
        raise SpecError(mesh.problems_of(name))
    loaded = mesh.domain(name)
    project = dbt_project(loaded.dbt_project_dir, settings.target())
    prepare_if_dev(project, loaded)  # before the Mesh reads the manifest: it reads it lazily
    check_domain(mesh, name)  # includes lifecycle states and usage agreements
    manifest = mesh.manifest(name)
    today = lifecycle_today()
    exclude = dbt_exclude(retired_models(loaded, manifest, project.name))
    domain = live_domain(loaded)  # retired products and ports leave the location
    python_assets = build_python_assets(domain, mesh.python_tables(name))

    port_by_model = {port.model: port for port in domain.ports()}
    product_by_uid = product_of_models(manifest, project.name, {p.model: p.product.name for p in domain.ports()})
    translator = MeshTranslator(
        domain,
        product_by_uid,
        port_by_model,
        lifecycle_meta={p.address: lifecycle_metadata(p, mesh, today) for p in domain.ports()},
        column_lineage=column_lineage(mesh, name),
    )
    checks_by_port = {port.address: compile_contract(port.contract, port.model) for port in domain.ports()}
    governance = governance_report(mesh, domain)
    # A domain whose products are all retired (or that has none yet) keeps its sensors only.
    assets = (
        build_domain_assets(
            domain, project, manifest, translator, checks_by_port, exclude=exclude, governance=governance
        )
        if domain.ports()
        else []
    )

    partitioned_keys: dict[str, list[dg.AssetKey]] = {}
    for group in assets:
        for spec in group.specs:
            if spec.partitions_def is not None:
                partitioned_keys.setdefault(spec.key.path[1], []).append(spec.key)
    _check_partitioned_ports(domain, partitioned_keys)
    jobs, schedules = [], []
    for product in domain.products:
        job = product_job(domain.name, product)
        jobs.append(job)
        schedule = product_schedule(domain.name, product, job)
        if schedule:
            schedules.append(schedule)
    defs = dg.Definitions(
        assets=[*assets, *python_assets, *landing_assets(mesh, domain)],
        jobs=jobs,
        schedules=schedules,
        sensors=[
            alert_sensor(domain),
            automation_sensor(domain),
            dead_run_sensor(domain.name),
            lifecycle_sensor(loaded),
        ],
        resources={"dbt": dbt_resource(project)},
    )
    return with_policy_summary(apply_policies(defs, mesh, domain), governance)


def _check_partitioned_ports(domain: Domain, partitioned_keys: dict[str, list[dg.AssetKey]]) -> None:
    problems = []
    for product in domain.products:
        if product.partitioning is None:
            continue
        keys = set(partitioned_keys.get(product.name, []))
        for port in product.ports:
            if dg.AssetKey([domain.name, product.name, port.name]) not in keys:
                problems.append(
                    product.doc.problem(
                        ("customProperties",),
                        f"product {product.name!r} declares partitioning, but the model {port.model!r} of output "
                        f"port {port.name!r} is not incremental: configure it with "
                        f"{{{{ config(**mesh_partitioned('{product.partitioning.column}')) }}}}",
                        rule="spec.partitioning",
                    )
                )
    if problems:
        raise SpecError(problems)
