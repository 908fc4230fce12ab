"""`mesh seed | prepare | validate | materialize | contract | product | agreement | new | lint |
breaking | catalog`: each command's module is imported only when it runs (cli/lazy_group.py)."""

from __future__ import annotations

import click

from mesh_platform.cli.lazy_group import LazyGroup
from mesh_platform.runtime import fast_exit

# name -> (module:command, the one line `mesh --help` shows; tests/test_cli_lazy.py keeps it the command's own)
COMMANDS = {
    "agreement": (
        "mesh_platform.cli.lifecycle_cmd:agreement",
        "Usage agreements between a consumer product and a provider's output port.",
    ),
    "breaking": (
        "mesh_platform.cli.governance_cmd:breaking",
        "Compare every contract with the base ref; exit 1 when a breaking change would reach consumers, "
        "2 when the consumers of a breaking change cannot be determined.",
    ),
    "catalog": (
        "mesh_platform.cli.catalog_cmd:catalog",
        "Find, understand and trust data products: search, product pages, mesh map, discovery API.",
    ),
    "contract": ("mesh_platform.cli.contract_cmd:contract", "Work with ODCS data contracts."),
    "lint": (
        "mesh_platform.cli.governance_cmd:lint",
        "Every policy in force over the mesh. Exit 1 on an error-severity violation, 0 otherwise.",
    ),
    "materialize": (
        "mesh_platform.cli.materialize_cmd:materialize",
        "Materialise products with Dagster, recorded in the DAGSTER_HOME instance the UI reads.",
    ),
    "new": (
        "mesh_platform.cli.new_cmd:new",
        "Scaffold a new product (from existing output ports) or a new domain.",
    ),
    "prepare": (
        "mesh_platform.cli.validate_cmd:prepare",
        "Parse each domain's dbt project into a manifest (needed before Dagster loads it).",
    ),
    "product": (
        "mesh_platform.cli.lifecycle_cmd:product",
        "Move a product or port through its lifecycle (edits the YAML in place).",
    ),
    "seed": (
        "mesh_platform.cli.seed_cmd:seed",
        "Generate operational (landing) data for each domain that ships a seed.py.",
    ),
    "validate": (
        "mesh_platform.cli.validate_cmd:validate",
        "Run the checks every code location runs at load; print each problem as file:line: field: message.",
    ),
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
def cli() -> None:
    """Self-serve data mesh platform on Dagster."""


def main() -> None:
    """The `mesh` executable: the commands above, leaving without the interpreter's teardown
    (runtime/fast_exit.py: ~1.1 s of a one-day `mesh materialize`)."""
    fast_exit.run(cli)


if __name__ == "__main__":
    main()
