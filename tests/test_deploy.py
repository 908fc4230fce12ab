"""The deployment recipe (deploy/) agrees with the repository: one code-location service per
domain everywhere, every reference resolves. Docker, a cluster and the compose-spec schema are
not available here, so this is what can be checked offline (README: *Deployment*)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOMAINS = sorted(p.name for p in (ROOT / "domains").iterdir() if (p / "domain.yaml").exists())


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())


def test_compose_has_postgres_webserver_daemon_and_one_code_location_per_domain():
    services = _compose()["services"]
    assert {"postgres", "webserver", "daemon"} <= set(services)
    locations = {name.removeprefix("code-") for name in services if name.startswith("code-")}
    assert locations == set(DOMAINS)
    for domain in DOMAINS:
        command = services[f"code-{domain}"]["command"]
        assert command[:3] == ["dagster", "code-server", "start"]
        assert (ROOT / command[command.index("-f") + 1]).exists()
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        env = service.get("environment", {})
        if name != "postgres":
            assert env.get("DAGSTER_PG_HOST") == "postgres" and env.get("MESH_TARGET") == "prod", name
            assert "DAGSTER_PG_PASSWORD" not in str(service.get("command", "")), name  # secrets via env only


def test_deployed_workspace_names_every_domain_by_its_compose_service():
    services = _compose()["services"]
    entries = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"]
    servers = [e["grpc_server"] for e in entries]
    assert sorted(s["location_name"] for s in servers) == DOMAINS
    for server in servers:
        assert server["host"] == f"code-{server['location_name']}" and server["host"] in services


def test_helm_values_have_one_user_deployment_per_domain():
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    deployments = values["dagster-user-deployments"]["deployments"]
    assert sorted(d["name"] for d in deployments) == DOMAINS
    for deployment in deployments:
        assert deployment["dagsterApiGrpcArgs"] == ["-f", f"domains/{deployment['name']}/definitions.py"]


def test_the_image_installs_the_production_instance_config():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "COPY dagster_home/dagster.prod.yaml ${DAGSTER_HOME}/dagster.yaml" in dockerfile
    for copied in ("mesh_platform", "domains", "dbt_projects", "pyproject.toml", "dagster_home/dagster.prod.yaml"):
        assert (ROOT / copied).exists(), copied
