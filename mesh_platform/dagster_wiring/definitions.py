"""Build a domain's Dagster Definitions from its folder. Domains call only this."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from mesh_platform import settings
from mesh_platform.alerts.sensor import alert_sensor
from mesh_platform.contracts.check_specs import compile_contract
from mesh_platform.dagster_wiring.automation import automation_sensor
from mesh_platform.dagster_wiring.dead_run_sensor import dead_run_sensor
from mesh_platform.dagster_wiring.dbt_project import dbt_project, dbt_resource, load_manifest
from mesh_platform.dagster_wiring.domain_assets import build_domain_assets
from mesh_platform.dagster_wiring.input_ports import validate_input_ports
from mesh_platform.dagster_wiring.lineage import model_by_name, product_of_models
from mesh_platform.dagster_wiring.python_assets import build_python_assets, load_product_tables
from mesh_platform.dagster_wiring.schedules import product_job, product_schedule
from mesh_platform.dagster_wiring.translator import MeshTranslator
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.loader import Domain, load_domain


def build_domain_definitions(domain_dir: str | Path) -> dg.Definitions:
    settings.export_env()
    domain = load_domain(Path(domain_dir))
    project = dbt_project(domain.dbt_project_dir, settings.target())
    project.prepare_if_dev()
    manifest = load_manifest(project)
    _check_port_models(domain, manifest, project.name)
    python_assets = build_python_assets(domain, load_product_tables(domain))
    validate_input_ports(domain, manifest, project.name, python_assets)

    port_by_model = {port.model: port for port in domain.ports()}
    product_by_uid = product_of_models(manifest, project.name,
                                       {p.model: p.product.name for p in domain.ports()})
    translator = MeshTranslator(domain, product_by_uid, port_by_model)
    checks_by_port = {port.address: compile_contract(port.contract, port.model) for port in domain.ports()}
    assets = build_domain_assets(domain, project, manifest, translator, checks_by_port)

    jobs, schedules = [], []
    for product in domain.products:
        job = product_job(domain.name, product)
        jobs.append(job)
        schedule = product_schedule(domain.name, product, job)
        if schedule:
            schedules.append(schedule)
    return dg.Definitions(
        assets=[assets, *python_assets],
        jobs=jobs,
        schedules=schedules,
        sensors=[alert_sensor(domain), automation_sensor(domain), dead_run_sensor(domain.name)],
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
