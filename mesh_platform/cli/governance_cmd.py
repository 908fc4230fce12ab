"""`mesh lint` (the policies in force over the mesh) and `mesh breaking --base <ref>` (the
breaking-change gate). Thin: the work is in mesh_platform/governance/."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from mesh_platform.cli.workspace import domain_dirs, prepare_domain
from mesh_platform.governance.breaking import gate
from mesh_platform.governance.config import load_governance
from mesh_platform.governance.engine import evaluate
from mesh_platform.governance.report import gate_json, gate_markdown, gate_table, lint_json, lint_junit, lint_table
from mesh_platform.mesh import Mesh
from mesh_platform.specs.errors import SpecError


@click.command()
@click.option("--domain", default=None, help="Only this domain.")
@click.option("--format", "format_", type=click.Choice(["table", "json", "junit"]), default="table", show_default=True)
@click.option(
    "--policies",
    "policies_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Policies file (default: governance/policies.yaml).",
)
@click.option("--no-prepare", is_flag=True, help="Do not run `dbt parse` for domains whose manifest is stale.")
def lint(domain: str | None, format_: str, policies_file: Path | None, no_prepare: bool) -> None:
    """Every policy in force over the mesh. Exit 1 on an error-severity violation, 0 otherwise."""
    try:
        governance = load_governance(policies_file)
        names = [d.name for d in domain_dirs(domain)]
    except (SpecError, LookupError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    mesh = Mesh.load()
    if not no_prepare:
        for name in mesh.names:  # consumers' checks read producers' manifests too
            loaded = mesh.domain(name)
            if loaded is not None:
                try:
                    prepare_domain(loaded.dir, if_stale=True)
                except Exception as exc:  # noqa: BLE001 - dbt parse errors are reported by validation
                    click.echo(f"warning: dbt parse failed for {name}: {exc}", err=True)
    report = evaluate(mesh, governance, names)
    click.echo({"table": lint_table, "json": lint_json, "junit": lint_junit}[format_](report))
    sys.exit(1 if report.errors else 0)


@click.command()
@click.option("--base", "base", required=True, help="The git ref to compare with (e.g. origin/main, HEAD~1).")
@click.option(
    "--format", "format_", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True
)
@click.option("--no-snapshots", is_flag=True, help="Do not compare with the ports' live published snapshots.")
@click.option(
    "--no-prepare",
    is_flag=True,
    help="Do not run `dbt parse` for domains whose manifest is missing or stale (then a missing one is an error).",
)
def breaking(base: str, format_: str, no_snapshots: bool, no_prepare: bool) -> None:
    """Compare every contract with the base ref; exit 1 when a breaking change would reach consumers,
    2 when the consumers of a breaking change cannot be determined."""
    try:
        report = gate(base, snapshots=not no_snapshots, prepare=None if no_prepare else _prepare)
    except (SpecError, LookupError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo({"table": gate_table, "json": gate_json, "markdown": gate_markdown}[format_](report))
    sys.exit(0 if report.passed else 1)


def _prepare(mesh, name: str) -> None:
    """`dbt parse` the domain when its manifest is missing or older than its dbt files; dbt's
    output goes to stderr so `--format json` stays parseable."""
    with contextlib.redirect_stdout(sys.stderr):
        prepare_domain(mesh.domain(name).dir, if_stale=True, domain=mesh.domain(name))
