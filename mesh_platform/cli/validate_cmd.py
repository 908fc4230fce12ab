"""`mesh prepare` and `mesh validate`: parse the dbt projects, run the checks a code location
runs at load."""

from __future__ import annotations

import sys

import click

from mesh_platform.cli.output import make_console, styled
from mesh_platform.cli.workspace import domain_dirs, prepare_domain
from mesh_platform.mesh import Mesh
from mesh_platform.specs.errors import Problem
from mesh_platform.validation import validate_domain

console = make_console()


@click.command()
@click.option("--domain", default=None)
def prepare(domain: str | None) -> None:
    """Parse each domain's dbt project into a manifest (needed before Dagster loads it)."""
    for domain_dir in domain_dirs(domain):
        path = prepare_domain(domain_dir)
        console.print(styled((f"{domain_dir.name}", "green"), f": {path}"))


@click.command()
@click.option("--domain", default=None, help="Only this domain (and its reads of other domains).")
@click.option(
    "--no-prepare", is_flag=True, help="Use the dbt manifests as they are; by default a stale one is re-parsed first."
)
def validate(domain: str | None, no_prepare: bool) -> None:
    """Run the checks every code location runs at load; print each problem as file:line: field: message."""
    names = [d.name for d in domain_dirs(domain)]
    mesh = Mesh.load()
    failed = False
    for name in names:
        problems: list[Problem] = []
        loaded = mesh.domain(name)
        if not no_prepare and loaded is not None:
            try:
                prepare_domain(loaded.dir, if_stale=True, domain=loaded)
            except Exception as exc:  # noqa: BLE001 - dbt's own parse errors, reported, not raised
                problems.append(
                    Problem(
                        loaded.dbt_project_dir / "dbt_project.yml",
                        None,
                        "",
                        f"dbt parse failed: {exc}",
                        rule="mesh.dbt_parse",
                    )
                )
        problems = problems or validate_domain(mesh, name)
        if problems:
            failed = True
            for problem in problems:  # one line each (no wrapping): editors and CI parse file:line
                # An agreement waiting for the provider's approval is reported as such.
                label = ("pending", "yellow") if problem.rule == "agreement.pending" else ("error", "red")
                console.print(styled(label, f" {problem}"), soft_wrap=True)
        else:
            console.print(styled(("ok", "green"), f" {name}: {', '.join(p.address for p in loaded.ports())}"))
    sys.exit(1 if failed else 0)
