"""Shared set-up: one generated data set and one parsed dbt manifest per test session."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.005  # about 5,000 order lines: small enough for CI, large enough to mean something


@pytest.fixture(scope="session")
def mesh_data(tmp_path_factory) -> Path:
    """A data dir with generated landing files, exported as MESH_DATA_DIR for the session."""
    from click.testing import CliRunner

    from mesh_platform.cli.main import cli

    data = tmp_path_factory.mktemp("mesh") / "data"
    os.environ["MESH_DATA_DIR"] = str(data)
    result = CliRunner().invoke(cli, ["seed", "--scale", str(SCALE)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["prepare"])
    assert result.exit_code == 0, result.output
    return data


@pytest.fixture
def isolated_data(mesh_data, tmp_path, monkeypatch) -> Path:
    """A private copy of the landing data, for tests that corrupt it."""
    data = tmp_path / "data"
    shutil.copytree(mesh_data / "landing", data / "landing")
    monkeypatch.setenv("MESH_DATA_DIR", str(data))
    return data


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def locations(mesh_data):
    """Every code location in workspace.yaml, loaded as `dagster dev` would load it."""
    import yaml

    from mesh_platform.cli.workspace import load_module

    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    out = {}
    for entry in workspace["load_from"]:
        target = entry["python_file"]
        module = load_module(ROOT / target["relative_path"], f"loc_{target['location_name']}")
        out[target["location_name"]] = module.defs
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
