"""`mesh` imports a command's module only when the command runs (cli/lazy_group.py): the
group's help is the one click would print with every command loaded, and costs no import."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from conftest import ROOT

from mesh_platform.cli.main import COMMANDS, cli


def test_every_lazy_command_loads_under_its_name():
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name, name


def test_help_is_what_click_prints_with_every_command_loaded():
    ctx = click.Context(cli)
    eager = click.Group("mesh", help=cli.help, commands={name: cli.get_command(ctx, name) for name in COMMANDS})
    lazy_help = CliRunner().invoke(cli, ["--help"], prog_name="mesh").output
    assert lazy_help == CliRunner().invoke(eager, ["--help"], prog_name="mesh").output
    assert "validate" in lazy_help and "materialize" in lazy_help


def test_help_imports_no_command_module_and_no_dagster():
    code = (
        "import sys\n"
        "from mesh_platform.cli.main import cli\n"
        "try:\n"
        "    cli(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('mesh_platform', 'dagster')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = out.split("\n")[-2].split()
    assert loaded == [
        "mesh_platform",
        "mesh_platform.cli",
        "mesh_platform.cli.lazy_group",
        "mesh_platform.cli.main",
        "mesh_platform.runtime",
        "mesh_platform.runtime.fast_exit",
    ]


def test_a_lazy_command_that_is_not_a_command_is_refused():
    group = type(cli)("g", lazy_commands={"x": ("mesh_platform.cli.main:COMMANDS", "not a command")})
    with pytest.raises(TypeError, match="is not a click command"):
        group.get_command(click.Context(group), "x")


def test_mesh_seed_loads_neither_dagster_nor_dbt():
    code = "import sys, mesh_platform.cli.seed_cmd\nprint(sorted(m for m in ('dagster', 'dagster_dbt', 'ibis') if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[-2] == "[]"


def test_a_code_location_loads_without_the_check_runner(mesh_data):
    """Dagster's code server and every run worker load each location: the check runner (pandera,
    pandas, pyarrow, DuckDB: ~70 MB) is imported by a run that audits, not by the load."""
    code = (
        "import sys\n"
        "from mesh_platform.importing import import_file\n"
        "import_file(sys.argv[1], 'location').defs.get_repository_def()\n"
        "print(sorted(m for m in ('pandera', 'pandas', 'pyarrow', 'duckdb') if m in sys.modules))\n"
    )
    location = ROOT / "domains" / "checkout" / "definitions.py"
    out = subprocess.run([sys.executable, "-c", code, str(location)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == "[]"
