"""`mesh new product|domain`: scaffold what works, from existing output ports."""

from __future__ import annotations

import sys

import click

from mesh_platform.cli.output import make_console, styled
from mesh_platform.lifecycle.dates import today
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.address import ProductAddress
from mesh_platform.scaffold import ScaffoldError, new_domain, new_product

console = make_console()


@click.group()
def new() -> None:
    """Scaffold a new product (from existing output ports) or a new domain."""


@new.command()
@click.argument("address")
@click.option(
    "--from",
    "sources",
    multiple=True,
    required=True,
    help="An output port to build on: <domain>.<product>.<port> (repeat for several).",
)
@click.option(
    "--template",
    type=click.Choice(["filter", "aggregate", "join"]),
    default=None,
    help="The mart: filter (one port), aggregate (one port), join (several). "
    "Default: filter for one port, join for several.",
)
@click.option("--group-by", default=None, help="aggregate: comma-separated columns (default: the first date column).")
@click.option(
    "--join-on", default=None, help="join: comma-separated col or first_col=other_col (default: shared column names)."
)
@click.option("--purpose", required=True, help="What the product is for; also the agreement requests' purpose.")
def product(
    address: str,
    sources: tuple[str, ...],
    template: str | None,
    group_by: str | None,
    join_on: str | None,
    purpose: str,
) -> None:
    """Scaffold <domain>.<name>: descriptor, derived contract, dbt models, agreement requests."""
    try:
        made = new_product(
            Mesh.load(),
            address,
            list(sources),
            template,
            purpose,
            today(),
            group_by=[c.strip() for c in group_by.split(",")] if group_by else None,
            join_on=[c.strip() for c in join_on.split(",")] if join_on else None,
        )
    except (ScaffoldError, ValueError) as exc:
        console.print(styled(("error", "red"), f" {exc}"), highlight=False)
        sys.exit(1)
    for path in made.files:
        console.print(styled(("created", "green"), f" {path}"), highlight=False)
    for path in made.agreements:
        console.print(styled(("agreement requested", "yellow"), f" {path}"), highlight=False)
    made_address = ProductAddress.parse(address)  # new_product refused any other shape
    console.print(
        "Next: the providers approve the agreements (mesh agreement approve <id>), then "
        f"`mesh validate` and `mesh materialize --domain {made_address.domain} "
        f"--product {made_address.product}`."
    )


@new.command()
@click.argument("name")
@click.option("--team", default=None, help="The owning team's name.")
@click.option("--owner", "owners", multiple=True, help="An owner: email or team:<name> (repeatable).")
@click.option("--description", default=None)
def domain(name: str, team: str | None, owners: tuple[str, ...], description: str | None) -> None:
    """Scaffold a domain: domain.yaml, definitions.py, a dbt project (dev + prod), its code location."""
    try:
        made = new_domain(name, team, list(owners) or None, description)
    except ScaffoldError as exc:
        console.print(styled(("error", "red"), f" {exc}"), highlight=False)
        sys.exit(1)
    for path in made.files:
        console.print(styled(("written", "green"), f" {path}"), highlight=False)
