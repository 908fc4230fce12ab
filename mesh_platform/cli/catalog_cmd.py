"""`mesh catalog list | search | show | quality | serve | build`: the catalog from the terminal."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import click
from mesh_platform.cli.output import make_console, styled
from rich.table import Table

from mesh_platform import settings
from mesh_platform.specs.errors import SpecError

console = make_console(None if sys.stdout.isatty() else 200)


def _filter_options(fn):
    for name, text in reversed([
        ("domain", "Only this domain."), ("owner", "Owner team or owner (substring)."), ("tag", "A product tag."),
        ("status", "Product status (active, deprecated, ...)."), ("archetype", "source-aligned, aggregate, consumer-aligned."),
        ("classification", "A column classification (e.g. restricted)."),
        ("state", "Lifecycle state of the product or one of its ports (e.g. deprecated)."),
        ("tier", "Product tier."), ("quality", "Quality level (e.g. gold)."),
    ]):
        fn = click.option(f"--{name}", default=None, help=text)(fn)
    fn = click.option("--pii/--no-pii", default=None, help="Products with (or without) PII columns.")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)(fn)
    return fn


def _catalog():
    from mesh_platform.catalog.build import build_catalog

    os.environ.setdefault("DAGSTER_HOME", str(settings.repo_root() / ".dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    from mesh_platform.catalog.source import load_source

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
    from mesh_platform.catalog.search import Filters, run_search

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
        table.add_row(p.id, p.owner_team, p.status, p.archetype or "-", p.health.overall,
                      ", ".join(port.name for port in p.ports), "yes" if p.pii else "",
                      f"{p.cost.monthly_total:,.2f} {p.cost.currency}")
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
    """One product: owner, terms, SLA and freshness, quality, schema, lineage, usage and cost."""
    catalog = _catalog()
    product = catalog.get(product_id)
    if product is None:
        console.print(styled(("error", "red"), f" no product {product_id!r} (products: {', '.join(p.id for p in catalog.products)})"),
                      highlight=False, soft_wrap=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(product.to_dict(), indent=2))
        return
    facts = Table.grid(padding=(0, 2))
    for label, value in [
        ("product", f"{product.title} ({product.id}) v{product.version}"), ("purpose", product.purpose),
        ("owner", f"{product.owner_team} ({', '.join(product.owners)})"), ("support", product.support or "-"),
        ("status", product.status), ("archetype", product.archetype or "-"), ("maturity", product.maturity or "-"),
        ("tags", ", ".join(product.tags)), ("schedule", product.schedule),
        ("health", f"contract {product.health.contract}, freshness {product.health.freshness}, "
                   f"policies {product.health.policies}"),
        ("reads", ", ".join(product.inputs) or "-"),
        ("consumers", ", ".join(f"{c.consumer} ({c.runs_30d} runs/30d)" for c in product.consumers) or "-"),
        ("cost", f"{product.cost.monthly_total:,.2f} {product.cost.currency}/month: declared "
                 f"{product.cost.declared_monthly:,.2f}, compute {product.cost.compute_monthly:,.4f} "
                 f"({product.cost.runs_30d} runs, {product.cost.run_seconds_30d:.1f} s in 30 days), storage "
                 f"{product.cost.storage_monthly:,.6f} ({product.cost.published_bytes:,} B published, "
                 f"{product.cost.warehouse_bytes if product.cost.warehouse_bytes is not None else '-'} B warehouse)"),
        ("dagster", product.dagster_url),
    ]:
        facts.add_row(styled((label, "bold")), str(value))
    console.print(facts)
    for port in product.ports:
        table = Table(title=f"output port {port.address}: contract {port.contract_id} "
                            f"({port.contract_state}), freshness {port.freshness.state}, SLA {port.sla.text}, "
                            f"{port.rows if port.rows is not None else '-'} rows")
        for column in ("dimension", "checks", "passed", "failed", "warned"):
            table.add_column(column)
        for q in port.quality:
            table.add_row(q.dimension, str(q.checks), str(q.passed), str(q.failed), str(q.warned))
        console.print(table)


@catalog.command()
@click.argument("product_id")
@click.option("--start", default=None, help="ISO-8601 time or date (UTC), inclusive.")
@click.option("--end", default=None, help="ISO-8601 time or date (UTC), exclusive.")
def quality(product_id: str, start: str | None, end: str | None) -> None:
    """Every contract-check result recorded for a product in a time range, as JSON."""
    from mesh_platform.catalog.build import quality_over
    from mesh_platform.catalog.observed import parse_time
    from mesh_platform.runtime.instance import open_instance

    catalog = _catalog()
    try:
        after, before = parse_time(start), parse_time(end)
        results = quality_over(open_instance(), catalog, product_id, after, before)
    except (ValueError, LookupError) as exc:
        console.print(styled(("error", "red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(2)
    click.echo(json.dumps([{"port": port.address, "checks": [asdict(r) for r in checks]}
                           for port, checks in results], indent=2))


@catalog.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=3001, show_default=True, type=int)
@click.option("--ttl", default=10.0, show_default=True, help="Seconds a computed catalog is reused.")
def serve(host: str, port: int, ttl: float) -> None:
    """Serve the catalog pages, the mesh map, GraphQL (/graphql) and JSON (/api/...)."""
    import uvicorn

    from mesh_platform.catalog.web import create_app

    os.environ.setdefault("DAGSTER_HOME", str(settings.repo_root() / ".dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    console.print(f"mesh catalog on http://{host}:{port} (GraphQL: /graphql, JSON: /api/products)")
    uvicorn.run(create_app(ttl=ttl), host=host, port=port, log_level="warning")


@catalog.command()
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
def build(out: Path) -> None:
    """Write the catalog as a static site (index.html, map.html, products/, api/*.json)."""
    from mesh_platform.catalog.static_site import build_site

    from mesh_platform.safe_paths import PathEscape

    try:
        written = build_site(_catalog(), out)
    except PathEscape as exc:
        console.print(styled(("error", "red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(2)
    console.print(styled(("wrote", "green"), f" {len(written)} files to {out} (open {out / 'index.html'})"))
