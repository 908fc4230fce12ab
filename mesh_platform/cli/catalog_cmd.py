"""`mesh catalog list | search | show | quality | serve | mcp | build`: the catalog from the terminal."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import click
import uvicorn
from rich.table import Table

from mesh_platform import settings
from mesh_platform.catalog.build import build_catalog, quality_over
from mesh_platform.catalog.cost import describe_totals, money
from mesh_platform.catalog.observed import parse_time
from mesh_platform.catalog.search import Filters, run_search
from mesh_platform.catalog.source import load_source
from mesh_platform.catalog.static_site import build_site
from mesh_platform.catalog.web import create_app
from mesh_platform.cli.output import facts, make_console, rows_table, styled
from mesh_platform.runtime.instance import open_instance
from mesh_platform.safe_paths import PathEscape
from mesh_platform.specs.errors import SpecError

console = make_console(None if sys.stdout.isatty() else 200)


def _filter_options(fn):
    for name, text in reversed(
        [
            ("domain", "Only this domain."),
            ("owner", "Owner team or owner (substring)."),
            ("tag", "A product tag."),
            ("status", "Product status (active, deprecated, ...)."),
            ("archetype", "source-aligned, aggregate, consumer-aligned."),
            ("classification", "A column classification (e.g. restricted)."),
            ("state", "Lifecycle state of the product or one of its ports (e.g. deprecated)."),
            ("tier", "Product tier."),
            ("quality", "Quality level (e.g. gold)."),
        ]
    ):
        fn = click.option(f"--{name}", default=None, help=text)(fn)
    fn = click.option("--pii/--no-pii", default=None, help="Products with (or without) PII columns.")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)(fn)
    return fn


def _catalog():
    os.environ.setdefault("DAGSTER_HOME", str(settings.repo_root() / ".dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    try:
        source = load_source()
        for problem in source.problems:  # a domain that does not load: the others are still listed
            # on stderr: stdout may be JSON (`--format json`) that a script reads
            make_console(stderr=True).print(styled(("error", "red"), f" {problem}"), soft_wrap=True)
        return build_catalog(source=source)
    except SpecError as exc:
        for problem in exc.problems:
            console.print(styled(("error", "red"), f" {problem}"), highlight=False, soft_wrap=True)
        sys.exit(2)


@click.group()
def catalog() -> None:
    """Find, understand and trust data products: search, product pages, mesh map, discovery API."""


def _list(query: str, fmt: str, **filters) -> None:
    result = run_search(_catalog(), query, Filters(**filters))
    found = result.products
    for word, terms in result.rewrites.items():  # on stderr: stdout may be JSON
        make_console(stderr=True).print(f"searched {word!r} as {' or '.join(terms)}", highlight=False)
    if fmt == "json":
        click.echo(json.dumps([p.to_dict() for p in found], indent=2))
        return
    table = Table(title=f"{len(found)} data product(s)")
    for column in ("product", "owner", "status", "archetype", "health", "ports", "PII", "monthly cost"):
        table.add_column(column, overflow="fold")
    for p in found:
        table.add_row(
            p.id,
            p.owner_team,
            p.status,
            p.archetype or "-",
            p.health.overall,
            ", ".join(port.name for port in p.ports),
            "yes" if p.pii else "",
            describe_totals(p.cost),
        )
    console.print(table)


@catalog.command("list")
@_filter_options
def list_(fmt: str, **filters) -> None:
    """Every product, with filters."""
    _list("", fmt, **filters)


@catalog.command()
@click.argument("query")
@_filter_options
def search(query: str, fmt: str, **filters) -> None:
    """Ranked full-text search over names, descriptions, tags, columns, badges and owners
    (every word must match, as a word or its start; a typo is read as the nearest indexed word)."""
    _list(query, fmt, **filters)


@catalog.command()
@click.argument("product_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(product_id: str, fmt: str) -> None:
    """One product: owner, lifecycle, terms, SLA and freshness, quality, schema, lineage, usage and cost."""
    catalog = _catalog()
    product = catalog.get(product_id)
    if product is None:
        console.print(
            styled(
                ("error", "red"), f" no product {product_id!r} (products: {', '.join(p.id for p in catalog.products)})"
            ),
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(product.to_dict(), indent=2))
        return
    cost = product.cost
    console.print(
        facts(
            [
                ("product", f"{product.title} ({product.id}) v{product.version}"),
                ("purpose", product.purpose),
                ("owner", f"{product.owner_team} ({', '.join(product.owners)})"),
                ("support", product.support or "-"),
                ("status", product.status),
                ("archetype", product.archetype or "-"),
                ("maturity", product.maturity or "-"),
                ("tags", ", ".join(product.tags)),
                ("schedule", product.schedule),
                ("usage", product.usage or "-"),
                ("limitations", product.limitations or "-"),
                (
                    "health",
                    f"contract {product.health.contract}, freshness {product.health.freshness}, "
                    f"policies {product.health.policies}",
                ),
                ("reads", ", ".join(product.inputs) or "-"),
                ("consumers", ", ".join(f"{c.consumer} ({c.runs_30d} runs/30d)" for c in product.consumers) or "-"),
                (
                    "cost/month",
                    f"{describe_totals(cost)}; declared "
                    f"{', '.join(money(v, c) for c, v in cost.declared_monthly.items()) or 'none'}, compute "
                    f"{money(cost.compute_monthly, cost.currency)} ({cost.runs_30d} runs, {cost.run_seconds_30d:.1f} s "
                    f"in 30 days), storage {money(cost.storage_monthly, cost.currency)} ({cost.published_bytes:,} B "
                    f"published, {cost.warehouse_bytes if cost.warehouse_bytes is not None else '-'} B warehouse)",
                ),
                ("dagster", product.dagster_url),
            ]
        )
    )
    for edge in product.agreements or []:
        life = edge.port_lifecycle
        if edge.consumer == product.id and life is not None and life.deprecated:
            replaced = f"; move to {life.replaced_by}" if life.replaced_by else ""
            console.print(
                styled(
                    ("deprecated port", "bold yellow"),
                    f" agreement on {edge.port} ({edge.agreement_status}): sunset "
                    f"{life.sunset_date or 'not set'} ({life.days_left or 'no date'}){replaced}",
                ),
                soft_wrap=True,
            )
    for port in product.ports:
        _show_port(port)


def _show_port(port) -> None:
    """A port: lifecycle, terms, quality by dimension and schema."""
    life = port.lifecycle
    lines = [
        ("output port", port.address),
        ("contract", f"{port.contract_id} v{port.contract_version} ({port.contract_state})"),
    ]
    if life is not None:
        lines.append(("state", life.state + (f" since {life.deprecation_date}" if life.deprecation_date else "")))
        if life.deprecated:
            lines.append(
                ("sunset", f"{life.sunset_date or 'not set'}" + (f" ({life.days_left})" if life.days_left else ""))
            )
            lines.append(("replaced by", life.replaced_by or "-"))
        lines.append(("access", life.access))
    lines += [
        ("usage", port.terms.usage or "-"),
        ("limitations", port.terms.limitations or "-"),
        ("billing", port.terms.billing or "-"),
        ("notice period", port.terms.notice_period or "-"),
        ("SLA", port.sla.text),
        ("freshness", port.freshness.state),
        ("rows", port.rows if port.rows is not None else "-"),
        ("dagster", port.dagster_url),
    ]
    console.print()
    console.print(facts(lines))
    if port.quality:
        console.print(
            rows_table(
                f"quality of {port.name} by dimension",
                ["dimension", "checks", "passed", "failed", "warned"],
                [[q.dimension, q.checks, q.passed, q.failed, q.warned] for q in port.quality],
            )
        )
    else:
        console.print(f"quality of {port.name}: no check results recorded yet")
    console.print(
        rows_table(
            f"schema of {port.name}",
            ["column", "type", "constraints", "classification", "description"],
            [
                [
                    c.name + (" (PK)" if c.primary_key else ""),
                    c.type,
                    _constraints(c),
                    (c.classification or "") + (" PII" if c.pii else ""),
                    c.description or "",
                ]
                for c in port.columns
            ],
        )
    )


def _constraints(column) -> str:
    return ", ".join(
        [*(["required"] if column.required else []), *(["unique"] if column.unique else []), *column.constraints]
    )


@catalog.command()
@click.argument("product_id")
@click.option("--start", default=None, help="ISO-8601 time or date (UTC), inclusive.")
@click.option("--end", default=None, help="ISO-8601 time or date (UTC), exclusive.")
def quality(product_id: str, start: str | None, end: str | None) -> None:
    """Every contract-check result recorded for a product in a time range, as JSON."""
    catalog = _catalog()
    try:
        after, before = parse_time(start), parse_time(end)
        results = quality_over(open_instance(), catalog, product_id, after, before)
    except (ValueError, LookupError) as exc:
        console.print(styled(("error", "red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(2)
    click.echo(
        json.dumps(
            [{"port": port.address, "checks": [asdict(r) for r in checks]} for port, checks in results], indent=2
        )
    )


@catalog.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=3001, show_default=True, type=int)
@click.option("--ttl", default=10.0, show_default=True, help="Seconds a computed catalog is reused.")
def serve(host: str, port: int, ttl: float) -> None:
    """Serve the catalog pages, the mesh map, GraphQL (/graphql) and JSON (/api/...)."""
    os.environ.setdefault("DAGSTER_HOME", str(settings.repo_root() / ".dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    console.print(f"mesh catalog on http://{host}:{port} (GraphQL: /graphql, JSON: /api/products)")
    uvicorn.run(create_app(ttl=ttl), host=host, port=port, log_level="warning")


@catalog.command()
@click.option("--http", "http", is_flag=True, help="Serve streamable HTTP (at /mcp) instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --http: the address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="With --http: the port to listen on.")
@click.option("--ttl", default=10.0, show_default=True, help="Seconds a computed catalog is reused.")
@click.pass_context
def mcp(ctx: click.Context, http: bool, host: str, port: int, ttl: float) -> None:
    """Serve the catalog, contracts and agreements to AI assistants over MCP (stdio unless --http)."""
    given = [f"--{name}" for name in ("host", "port") if ctx.get_parameter_source(name).name != "DEFAULT"]
    if given and not http:
        raise click.UsageError(f"{' and '.join(given)} apply to HTTP: add --http (without it the server speaks stdio)")
    from mesh_platform.catalog.mcp_server.server import serve  # the mcp SDK: loaded for this command only

    os.environ.setdefault("DAGSTER_HOME", str(settings.repo_root() / ".dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    if http:  # on stderr: with stdio, stdout is the protocol's
        make_console(stderr=True).print(f"mesh catalog MCP server on http://{host}:{port}/mcp", highlight=False)
    serve("streamable-http" if http else "stdio", host=host, port=port, ttl=ttl)


@catalog.command()
@click.argument("out_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write (the same as DIR).",
)
def build(out_dir: Path | None, out: Path | None) -> None:
    """Write the catalog as a static site (index.html, map.html, products/, api/*.json) to DIR."""
    if out_dir is not None and out is not None and out_dir != out:
        raise click.UsageError(f"two folders given: DIR {out_dir} and --out {out}; give one")
    out = out_dir or out
    if out is None:
        raise click.UsageError("where to write the site: mesh catalog build DIR (or --out DIR)")
    try:
        written = build_site(_catalog(), out)
    except PathEscape as exc:
        console.print(styled(("error", "red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(2)
    console.print(styled(("wrote", "green"), f" {len(written)} files to {out} (open {out / 'index.html'})"))
