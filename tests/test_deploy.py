"""The deployment recipe (deploy/) agrees with the repository: one code-location service per
domain everywhere, every reference resolves, and Docker Compose itself accepts the compose file
(`docker-compose config`, Debian's docker-compose 1.29, which needs no Docker daemon; `.ci/run`
installs it). Docker and a cluster are not available here, so nothing is started
(docs/production.md: *Deployment*)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
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


# What an operator sets before `docker compose up` (the file refuses to start without them).
COMPOSE_ENV = {
    "DAGSTER_PG_PASSWORD": "not-a-real-password",
    "MESH_BQ_PROJECT": "example-project",
    "RATINGS_API_URL": "https://ratings.example",
    "RATINGS_API_KEY": "not-a-real-key",
}
needs_compose = pytest.mark.skipif(
    not shutil.which("docker-compose") and not os.environ.get("CI"),
    reason="docker-compose not installed (.ci/run installs Debian's package)",
)


def _compose_config(path: Path, tmp: Path, drop: str | None = None) -> subprocess.CompletedProcess:
    """`docker-compose config`: interpolates, resolves anchors and validates against the compose
    schema, without a daemon. Prints the resolved file."""
    assert shutil.which("docker-compose"), "CI must have docker-compose: .ci/run installs it"
    key = tmp / "service-account.json"
    key.write_text("{}")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "MESH_BQ_KEYFILE": str(key), **COMPOSE_ENV}
    env.pop(drop or "", None)
    return subprocess.run(
        ["docker-compose", "--project-directory", str(path.parent), "-f", str(path), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=120,
    )


@needs_compose
def test_docker_compose_accepts_the_compose_file(tmp_path):
    result = _compose_config(DEPLOY / "docker-compose.yaml", tmp_path)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    services = resolved["services"]
    assert {f"code-{d}" for d in DOMAINS} | {"postgres", "webserver", "daemon", "init-pools"} == set(services)
    # anchors and variables resolved the way the deployment needs them
    assert services["code-risk"]["environment"]["RATINGS_API_URL"] == COMPOSE_ENV["RATINGS_API_URL"]
    assert services["daemon"]["environment"]["MESH_TARGET"] == "prod"
    assert services["code-checkout"]["build"]["context"] == str(ROOT)
    assert Path(resolved["secrets"]["bigquery_service_account"]["file"]).name == "service-account.json"


@needs_compose
@pytest.mark.parametrize(
    "edit, error",
    [
        (
            ("    command: [dagster-webserver", "    comand: [dagster-webserver"),
            "Unsupported config option for services.webserver: 'comand'",
        ),
        (
            ("      code-risk: {condition: service_started}", "      code-risks: {condition: service_started}"),
            "depends on service 'code-risks' which is undefined",
        ),
        (("      retries: 20", "      retries: many"), "retries"),
    ],
    ids=["misspelt option", "unknown dependency", "wrong type"],
)
def test_docker_compose_refuses_a_broken_compose_file(tmp_path, edit, error):
    text = (DEPLOY / "docker-compose.yaml").read_text()
    assert edit[0] in text
    broken = tmp_path / "deploy" / "docker-compose.yaml"
    broken.parent.mkdir()
    broken.write_text(text.replace(edit[0], edit[1], 1))
    result = _compose_config(broken, tmp_path)
    assert result.returncode != 0 and error in result.stderr, result.stderr


@needs_compose
def test_docker_compose_refuses_to_run_without_the_database_password(tmp_path):
    result = _compose_config(DEPLOY / "docker-compose.yaml", tmp_path, drop="DAGSTER_PG_PASSWORD")
    assert result.returncode != 0 and "set DAGSTER_PG_PASSWORD" in result.stderr, result.stderr
