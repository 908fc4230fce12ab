"""`mesh seed`: landing data from each domain's own generator."""

from __future__ import annotations

import click

from mesh_platform import settings
from mesh_platform.cli.output import make_console, styled
from mesh_platform.cli.workspace import domain_dirs, load_module

console = make_console()


@click.command()
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
