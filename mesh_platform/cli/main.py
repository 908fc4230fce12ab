"""`mesh seed | prepare | validate | materialize | contract | product | agreement | new`."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
from rich.table import Table

from mesh_platform import settings
from mesh_platform.cli.catalog_cmd import catalog
from mesh_platform.cli.contract_cmd import contract
from mesh_platform.cli.governance_cmd import breaking, lint
from mesh_platform.cli.lifecycle_cmd import agreement, product
from mesh_platform.cli.new_cmd import new
from mesh_platform.cli.output import make_console, styled
from mesh_platform.redaction import redact
from mesh_platform.specs.errors import SpecError

console = make_console()


@click.group()
def cli() -> None:
    """Self-serve data mesh platform on Dagster."""


cli.add_command(contract)
cli.add_command(catalog)
cli.add_command(product)
cli.add_command(agreement)
cli.add_command(new)
cli.add_command(lint)
cli.add_command(breaking)


@cli.command()
@click.option(
    "--scale",
    type=float,
    default=0.01,
    show_default=True,
    help="1 is about a million order lines; domains scale their own data from it.",
)
@click.option("--seed", "seed_", type=int, default=42, show_default=True)
@click.option("--domain", default=None, help="Only this domain.")
@click.option("--if-missing", is_flag=True, help="Skip domains that already have landing data.")
def seed(scale: float, seed_: int, domain: str | None, if_missing: bool) -> None:
    """Generate operational (landing) data for each domain that ships a seed.py."""
    from mesh_platform.cli.workspace import domain_dirs, load_module

    for domain_dir in domain_dirs(domain):
        generator = domain_dir / "seed.py"
        if not generator.exists():
            continue
        out = settings.landing_dir(domain_dir.name)
        if if_missing and out.exists() and any(out.glob("*.parquet")):
            console.print(styled((f"{domain_dir.name}: landing data exists in {out}, kept", "dim")))
            continue
        module = load_module(generator, f"mesh_seed_{domain_dir.name}")
        counts = module.generate(out, scale=scale, seed=seed_)
        summary = ", ".join(f"{table} {rows:,}" for table, rows in counts.items())
        console.print(styled((f"{domain_dir.name}", "green"), f": {summary} -> {out}"))


@cli.command()
@click.option("--domain", default=None)
def prepare(domain: str | None) -> None:
    """Parse each domain's dbt project into a manifest (needed before Dagster loads it)."""
    from mesh_platform.cli.workspace import domain_dirs, prepare_domain

    for domain_dir in domain_dirs(domain):
        path = prepare_domain(domain_dir)
        console.print(styled((f"{domain_dir.name}", "green"), f": {path}"))


@cli.command()
@click.option("--domain", default=None, help="Only this domain (and its reads of other domains).")
@click.option(
    "--no-prepare", is_flag=True, help="Use the dbt manifests as they are; by default a stale one is re-parsed first."
)
def validate(domain: str | None, no_prepare: bool) -> None:
    """Run the checks every code location runs at load; print each problem as file:line: field: message."""
    from mesh_platform.cli.workspace import domain_dirs, prepare_domain
    from mesh_platform.mesh import Mesh
    from mesh_platform.specs.errors import Problem
    from mesh_platform.validation import validate_domain

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


@cli.command()
@click.option("--domain", default=None, help="Only this domain's products.")
@click.option("--product", default=None, help="Only this product (with --domain, or unique name).")
@click.option(
    "--partition",
    default=None,
    help="Partitioned products: one day (2025-12-31), a range (2025-12-01...2025-12-31) "
    "or 'all' (a full refresh), in one run; without it, the partitions not yet "
    "materialised through the newest (the newest alone when none is missing).",
)
@click.option("--verbose", is_flag=True, help="Print every Dagster event of the runs (DEBUG), not a progress bar.")
def materialize(domain: str | None, product: str | None, partition: str | None, verbose: bool) -> None:
    """Materialise products with Dagster, recorded in the DAGSTER_HOME instance the UI reads.

    A DAGSTER_HOME without a dagster.yaml gets the dev instance's (dagster_home/dagster.yaml),
    as `make dev` does."""
    from mesh_platform.cli.materialize import materialize_products

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.repo_root() / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(settings.repo_root() / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    try:
        outcomes = materialize_products(
            domain,
            product,
            partition,
            verbose=verbose,
            log=lambda m: console.print(styled(("recovered", "yellow"), f" {m}"), highlight=False),
        )
    except (SpecError, LookupError) as exc:
        console.print(styled(("error", "red"), f" {exc}"), highlight=False)
        sys.exit(2)
    ok = _print_outcomes(outcomes)
    sys.exit(0 if ok else 1)


def _print_outcomes(outcomes) -> bool:
    table = Table(title="mesh materialize")
    for column in ("domain", "kind", "key", "outcome", "detail"):
        table.add_column(column, overflow="fold")
    ok = True
    for run in outcomes:
        for row in run.rows:
            style = {
                "materialized": "green",
                "passed": "green",
                "failed": "red",
                "not materialized": "yellow",
                "warn": "yellow",
            }.get(row.outcome, "")
            table.add_row(run.domain, row.kind, row.key, styled((row.outcome, style)), row.detail)
        if not run.success:
            ok = False
            table.add_row(run.domain, "run", run.run_id, styled(("failed", "red")), redact(run.error or ""))
    console.print(table)
    return ok
