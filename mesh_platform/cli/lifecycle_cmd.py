"""`mesh product deprecate|retire|activate` and `mesh agreement request|approve|terminate|list`."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import date

import click
from rich.table import Table

from mesh_platform.cli.output import make_console, styled
from mesh_platform.lifecycle import dates, transitions
from mesh_platform.lifecycle.agreement_files import AgreementError
from mesh_platform.lifecycle.agreement_files import approve as approve_
from mesh_platform.lifecycle.agreement_files import request as request_
from mesh_platform.lifecycle.agreement_files import terminate as terminate_
from mesh_platform.lifecycle.catalog import describe_port, port_facts
from mesh_platform.lifecycle.rules import agreement_status, team
from mesh_platform.lifecycle.states import DEPRECATED
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.specs.agreements import ENDED, TERMINATED
from mesh_platform.specs.lifecycle_fields import parse_date

console = make_console()


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _today() -> date:
    return dates.today()


def _view():
    return Mesh.load()


@click.group()
def product() -> None:
    """Move a product or port through its lifecycle (edits the YAML in place)."""


def _transition(address: str, target: str, sunset: date | None, replaced_by: str | None) -> None:
    today = _today()
    mesh = _view()
    try:
        plan = transitions.plan(mesh, address, target, today, sunset=sunset, replaced_by=replaced_by)
    except transitions.TransitionRefused as exc:
        console.print(styled(("refused", "red"), f" {address} -> {target}:"), highlight=False)
        for reason in exc.reasons:
            console.print(f"  - {reason}", highlight=False)
        sys.exit(1)
    done = transitions.apply(plan, today, sunset=sunset, replaced_by=replaced_by)
    console.print(styled((f"{address}", "green"), f": {done.previous} -> {done.target} ({done.file})"), highlight=False)
    for path in done.archived:
        console.print(f"  archived published snapshots: {path}", highlight=False)
    if done.affected:
        console.print("Affected consumers:")
        for line in done.affected:
            console.print(f"  - {line}", highlight=False)
    else:
        console.print("No consumers are affected.")


@product.command()
@click.argument("address")
@click.option("--sunset", required=True, callback=_date, help="YYYY-MM-DD: the day it will be retired.")
@click.option("--replaced-by", default=None, help="The port consumers should move to: <domain>.<product>.<port>.")
def deprecate(address: str, sunset: date, replaced_by: str | None) -> None:
    """Deprecate <domain>.<product>[.<port>]: still published; consumers are told and reminded."""
    _transition(address, "deprecated", sunset, replaced_by)


@product.command()
@click.argument("address")
def retire(address: str) -> None:
    """Retire <domain>.<product>[.<port>]: off the mesh, snapshots archived (refused while read)."""
    _transition(address, "retired", None, None)


@product.command()
@click.argument("address")
def activate(address: str) -> None:
    """Publish a proposed/draft product or port, or take back a deprecation."""
    _transition(address, "active", None, None)


@contextmanager
def _refusal_exits():
    """An agreement the files refuse is a message and exit code 1, never a traceback."""
    try:
        yield
    except AgreementError as exc:
        console.print(styled(("error", "red"), f" {exc}"), highlight=False)
        sys.exit(1)


@click.group()
def agreement() -> None:
    """Usage agreements between a consumer product and a provider's output port."""


@agreement.command()
@click.argument("consumer_product")
@click.argument("provider_port")
@click.option("--purpose", required=True, help="What the consumer uses the data for.")
@click.option("--input-port", default=None, help="The consumer's input port name (default: the port's name).")
@click.option("--start", callback=_date, default=None, help="YYYY-MM-DD (default: today).")
@click.option("--end", callback=_date, default=None, help="YYYY-MM-DD (optional).")
@click.option("--requested-by", default=None, help="Who asks (default: the consumer team's first owner).")
def request(consumer_product, provider_port, purpose, input_port, start, end, requested_by) -> None:
    """The consumer asks: writes domains/<consumer>/agreements/<product>__<input port>.yaml."""
    with _refusal_exits():
        file = request_(
            _view(), consumer_product, provider_port, purpose, start or _today(), end, input_port, requested_by
        )
    console.print(styled(("requested", "green"), f" {file}"), highlight=False)


@agreement.command()
@click.argument("agreement_id")
@click.option("--by", "approved_by", default=None, help="Who approves (default: the provider team's first owner).")
def approve(agreement_id: str, approved_by: str | None) -> None:
    """The provider answers: adds the approval to domains/<provider>/agreements/approvals.yaml."""
    with _refusal_exits():
        file = approve_(_view(), agreement_id, approved_by, _today())
    console.print(styled(("approved", "green"), f" {agreement_id} in {file}"), highlight=False)


@agreement.command()
@click.argument("agreement_id")
@click.option("--by", type=click.Choice(["provider", "consumer"]), required=True, help="Which side gives notice.")
@click.option("--on", "on", callback=_date, default=None, help="Notice date YYYY-MM-DD (default: today).")
@click.option("--reason", default=None)
def terminate(agreement_id: str, by: str, on: date | None, reason: str | None) -> None:
    """Give notice; the agreement holds until the provider contract's notice period has run."""
    with _refusal_exits():
        file, ends = terminate_(_view(), agreement_id, by, on or _today(), reason)
    console.print(styled(("terminated", "yellow"), f" {agreement_id} ({file}); in force until {ends}"), highlight=False)


@agreement.command(name="list")
@click.option("--domain", default=None, help="Only agreements this domain asked for or provides.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_(domain: str | None, fmt: str) -> None:
    """Every agreement with its status today, and the state of the port it reads: a consumer
    holding an agreement on a deprecated port is told the sunset, the days left and the replacement."""
    today = _today()
    mesh = _view()
    table = Table(title=f"usage agreements on {today}")
    for column in ("id", "consumer", "provider port", "port state", "status", "purpose"):
        table.add_column(column, overflow="fold")
    warnings, records = [], []
    for item in mesh.agreements:
        if domain and domain not in (item.domain, PortAddress.parse(item.provider_port).domain):
            continue
        port = mesh.port(item.provider_port)
        facts = port_facts(port, today) if port is not None else None
        status = agreement_status(mesh, item, today)
        table.add_row(
            item.id,
            item.consumer_product,
            item.provider_port,
            describe_port(facts) if facts else "not in the mesh",
            status,
            item.spec.purpose,
        )
        records.append(
            {
                "id": item.id,
                "consumer": item.consumer_product,
                "provider_port": item.provider_port,
                "status": status,
                "purpose": item.spec.purpose,
                "port": facts,
            }
        )
        if facts and facts["state"] == DEPRECATED and status not in (ENDED, TERMINATED):
            replaced = f"; move to {facts['replaced_by']}" if facts["replaced_by"] else ""
            warnings.append(
                f" {item.consumer_product} ({team(mesh, item.domain)}): agreement {item.id} reads "
                f"{item.provider_port}, deprecated, sunset {facts['sunset_date'] or '?'} "
                f"({facts['days_left'] or 'no date'}){replaced}"
            )
    if fmt == "json":
        click.echo(json.dumps(records, indent=2))
        return
    console.print(table)
    for warning in warnings:
        console.print(styled(("deprecated port", "bold yellow"), warning), soft_wrap=True)
