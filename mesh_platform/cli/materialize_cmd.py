"""`mesh materialize`: build products with Dagster and print what each run did."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
from rich.table import Table

from mesh_platform import settings
from mesh_platform.cli.output import make_console, styled
from mesh_platform.redaction import redact
from mesh_platform.runtime import dbt_standby, startup_gc
from mesh_platform.specs.errors import SpecError

console = make_console()


@click.command()
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
    startup_gc.pause()  # until the definitions are loaded (runtime/startup_gc.py)
    dbt_standby.start()  # the run's dbt imports itself while Dagster does (runtime/dbt_standby.py)
    from mesh_platform.cli.materialize import materialize_products  # Dagster: ~2 s of imports

    home = Path(os.environ.get("DAGSTER_HOME") or settings.repo_root() / ".dagster_home").absolute()
    os.environ["DAGSTER_HOME"] = str(home)  # Dagster wants it absolute; a relative one is from here
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
            loaded=startup_gc.settle,
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
