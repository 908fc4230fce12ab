"""`mesh new domain`: domain.yaml, definitions.py, a dbt project with dev (DuckDB) and prod
(BigQuery) profiles, and the domain's workspace.yaml entry."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mesh_platform import settings
from mesh_platform.lifecycle import yaml_edit
from mesh_platform.scaffold.files import NAME, Scaffold, ScaffoldError, render, write_file, write_yaml


def new_domain(
    name: str, team: str | None = None, owners: list[str] | None = None, description: str | None = None
) -> Scaffold:
    if not NAME.match(name):
        raise ScaffoldError(f"expected a lower_snake_case domain name, got {name!r}")
    domain_dir = settings.domains_dir() / name
    dbt_dir = settings.dbt_projects_dir() / name
    for path in (domain_dir, dbt_dir):
        if path.exists():
            raise ScaffoldError(f"{path} exists already")
    title = name.replace("_", " ").title()
    owners = owners or [f"team:{name}"]
    out = Scaffold()
    domain = CommentedMap()
    domain["name"] = name
    domain["description"] = description or f"The {title} domain (describe what it owns)."
    domain["team"] = CommentedMap(name=team or f"{title} Team", owners=CommentedSeq(owners))
    domain["alerts"] = CommentedMap(
        channel=f"#{name.replace('_', '-')}-data-alerts", webhook_env=f"{name.upper()}_ALERTS_WEBHOOK_URL"
    )
    domain.yaml_set_start_comment(f"The {name} domain: who owns it and where its alerts go.")
    out.files.append(write_yaml(domain_dir / "domain.yaml", domain))
    out.files.append(write_file(domain_dir / "definitions.py", render("definitions.py.jinja", name=name)))
    out.files.append(write_file(domain_dir / "products" / ".gitkeep", ""))
    out.files.append(write_file(dbt_dir / "dbt_project.yml", render("dbt_project.yml.jinja", name=name)))
    out.files.append(write_file(dbt_dir / "profiles.yml", render("profiles.yml.jinja", name=name)))
    for layer in ("staging", "intermediate", "marts"):
        out.files.append(write_file(dbt_dir / "models" / layer / ".gitkeep", ""))
    out.files.append(_add_location(name))
    return out


def _add_location(name: str) -> Path:
    workspace = settings.repo_root() / "workspace.yaml"
    data = yaml_edit.load(workspace)
    entries = data.setdefault("load_from", CommentedSeq())
    if any(e.get("python_file", {}).get("location_name") == name for e in entries):
        return workspace
    entry = CommentedMap()
    entry["python_file"] = CommentedMap(
        relative_path=f"domains/{name}/definitions.py", location_name=name, working_directory="."
    )
    entries.append(entry)
    yaml_edit.write(workspace, data)
    return workspace
