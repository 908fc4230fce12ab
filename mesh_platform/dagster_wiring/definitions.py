"""Build a domain's Dagster Definitions from its folder. Domains call only this."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from mesh_platform import settings
from mesh_platform.alerts.sensor import alert_sensor
from mesh_platform.contracts.check_specs import compile_contract
from mesh_platform.dagster_wiring.automation import automation_sensor
from mesh_platform.dagster_wiring.dbt_project import dbt_project, dbt_resource, load_manifest
from mesh_platform.dagster_wiring.domain_assets import build_domain_assets
from mesh_platform.dagster_wiring.input_ports import validate_input_ports
from mesh_platform.dagster_wiring.lineage import model_by_name, product_of_models
from mesh_platform.dagster_wiring.python_assets import build_python_assets, load_product_tables
from mesh_platform.dagster_wiring.schedules import product_job, product_schedule
from mesh_platform.dagster_wiring.translator import MeshTranslator
from mesh_platform.lifecycle.catalog import lifecycle_metadata
from mesh_platform.lifecycle.dates import today as lifecycle_today
from mesh_platform.lifecycle.location import dbt_exclude, live_domain, retired_models
from mesh_platform.lifecycle.notices import lifecycle_sensor
from mesh_platform.lifecycle.rules import check_domain
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.loader import Domain, load_domain


def build_domain_definitions(domain_dir: str | Path) -> dg.Definitions:
    settings.export_env()
    loaded = load_domain(Path(domain_dir))
    today = lifecycle_today()
    mesh = check_domain(loaded, today)  # lifecycle states and usage agreements, across the mesh
    project = dbt_project(loaded.dbt_project_dir, settings.target())
    project.prepare_if_dev()
    manifest = load_manifest(project)
    exclude = dbt_exclude(retired_models(loaded, manifest, project.name))
    domain = live_domain(loaded)  # retired products and ports leave the location
    _check_port_models(domain, manifest, project.name)
    python_assets = build_python_assets(domain, load_product_tables(domain))
    validate_input_ports(loaded, manifest, project.name, python_assets)

    port_by_model = {port.model: port for port in domain.ports()}
    product_by_uid = product_of_models(manifest, project.name,
                                       {p.model: p.product.name for p in domain.ports()})
    translator = MeshTranslator(domain, product_by_uid, port_by_model,
                                lifecycle_meta={p.address: lifecycle_metadata(p, mesh, today) for p in domain.ports()})
    checks_by_port = {port.address: compile_contract(port.contract, port.model) for port in domain.ports()}
    # A domain whose products are all retired (or that has none yet) keeps its sensors only.
    assets = [build_domain_assets(domain, project, manifest, translator, checks_by_port, exclude=exclude)
              ] if domain.ports() else []

    jobs, schedules = [], []
    for product in domain.products:
        job = product_job(domain.name, product)
        jobs.append(job)
        schedule = product_schedule(domain.name, product, job)
        if schedule:
            schedules.append(schedule)
    return dg.Definitions(
        assets=[*assets, *python_assets],
        jobs=jobs,
        schedules=schedules,
        sensors=[alert_sensor(domain), automation_sensor(domain), lifecycle_sensor(loaded)],
        resources={"dbt": dbt_resource(project)},
    )


def _check_port_models(domain: Domain, manifest: dict, project_name: str) -> None:
    models = model_by_name(manifest, project_name)
    problems = []
    for port in domain.ports():
        if port.model not in models:
            problems.append(port.product.doc.problem(
                ("outputPorts", port.index, "model"),
                f"dbt project {project_name!r} has no model {port.model!r} "
                f"(models: {', '.join(sorted(models)) or 'none'})"))
    if problems:
        raise SpecError(problems)
