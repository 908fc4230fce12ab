"""Shared set-up: one generated data set per test session and worker, dbt manifests parsed once."""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.005  # about 5,000 order lines: small enough for CI, large enough to mean something
# A test instance: the dev instance's run and event-log storages (dagster_home/dagster.yaml),
# without its run queue, pools and daemons, which in-process runs do not use.
_DEV_INSTANCE = yaml.safe_load((ROOT / "dagster_home" / "dagster.yaml").read_text())
INSTANCE_YAML = yaml.safe_dump({k: _DEV_INSTANCE[k] for k in ("run_storage", "event_log_storage")})


# Under `make test` (pytest-xdist, two workers) a module's tests stay together so its module
# fixtures are built once, and the modules that read the one materialised mesh share a worker so
# it is built once. The longest groups go first (measured with `--durations=0`), so the run does
# not end on one worker finishing a long group alone. (xdist's own `loadgroup` cannot do this
# under pytest 9: it renames nodeids through an attribute pytest 9 no longer reads.)
WHOLE_MESH = "whole_mesh"
MESH_FIXTURES = ("materialised_mesh", "mesh_copy", "whole_mesh")
LONGEST_FIRST = [
    WHOLE_MESH,
    "test_bigquery_emulator",
    "test_postgres_instance",
    "test_crash_recovery",
    "test_partitions",
    "test_catalog",
    "test_dagster_dev",
    "test_python_table_wap",
    "test_spec_memory",
]


def _group(module_path: str) -> str:
    """A test module's work unit: its name, or WHOLE_MESH if it asks for the materialised mesh."""
    return WHOLE_MESH if _on_the_mesh(module_path) else Path(module_path).stem


@functools.cache
def _on_the_mesh(module_path: str) -> bool:
    source = (ROOT / module_path).read_text()
    return any(re.search(rf"\b{name}\b", source) for name in MESH_FIXTURES)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item.nodeid.split("::")[0]), len(rank)))  # stable


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid.split("::")[0])

    config.option.loadscopereorder = False  # keep the collection's order: longest first
    return ByGroup(config, log)


def pytest_sessionstart(session):
    """The xdist controller parses every dbt project once before the workers start, so workers
    find fresh manifests instead of parsing the same projects at the same time."""
    if getattr(session.config.option, "numprocesses", None) and not hasattr(session.config, "workerinput"):
        prepare_all()


def prepare_all() -> None:
    from mesh_platform.cli.workspace import domain_dirs, prepare_domain

    before = dict(os.environ)
    try:
        for domain_dir in domain_dirs(None):
            prepare_domain(domain_dir, if_stale=True)
    finally:  # dbt's environment (settings.export_env) is not the workers' to inherit
        os.environ.clear()
        os.environ.update(before)


def write_instance_yaml(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    return home


@pytest.fixture(scope="session")
def mesh_data(tmp_path_factory) -> Path:
    """A data dir with generated landing files, exported as MESH_DATA_DIR for the session."""
    from click.testing import CliRunner

    from mesh_platform.cli.main import cli

    data = tmp_path_factory.mktemp("mesh") / "data"
    os.environ["MESH_DATA_DIR"] = str(data)
    result = CliRunner().invoke(cli, ["seed", "--scale", str(SCALE)])
    assert result.exit_code == 0, result.output
    prepare_all()  # a manifest the controller (or an earlier session) parsed is reused
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
    home = write_instance_yaml(tmp_path / "dagster_home")
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


@pytest.fixture(scope="session")
def ratings_url():
    """The risk domain's ratings provider, on a free port for the session."""
    from test_ratings_client import start_provider

    with start_provider() as url:
        yield url


@pytest.fixture(scope="session")
def materialised_mesh(mesh_data, ratings_url, tmp_path_factory) -> dict[str, str]:
    """A private data dir and Dagster instance with the whole mesh materialised once by
    `mesh materialize`; returns the environment that points at them."""
    from click.testing import CliRunner
    from test_ratings_client import KEY, admin

    from mesh_platform.cli.main import cli

    tmp = tmp_path_factory.mktemp("whole_mesh")
    shutil.copytree(mesh_data / "landing", tmp / "data" / "landing")
    write_instance_yaml(tmp / "home")
    env = {
        "MESH_DATA_DIR": str(tmp / "data"),
        "DAGSTER_HOME": str(tmp / "home"),
        "RATINGS_API_URL": ratings_url,
        "RATINGS_API_KEY": KEY,
        "RATINGS_RETRIES": "2",
        "RATINGS_BACKOFF": "0.01",
        "RATINGS_BATCH_SIZE": "25",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        admin(ratings_url, "reset")
        result = CliRunner().invoke(cli, ["materialize"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return env


@pytest.fixture
def mesh_copy(materialised_mesh, tmp_path, monkeypatch) -> Path:
    """A private copy of the materialised mesh (data dir and Dagster instance) for a test that
    changes what was published, so none pays for the first runs (checkout's full refresh of
    five years of daily partitions) again. Returns the copy's data dir."""
    copy = tmp_path / "mesh"
    shutil.copytree(materialised_mesh["MESH_DATA_DIR"], copy / "data", symlinks=True)
    shutil.copytree(materialised_mesh["DAGSTER_HOME"], copy / "home", symlinks=True)
    for name, value in {
        **materialised_mesh,
        "MESH_DATA_DIR": str(copy / "data"),
        "DAGSTER_HOME": str(copy / "home"),
    }.items():
        monkeypatch.setenv(name, value)
    return copy / "data"


@pytest.fixture
def whole_mesh(materialised_mesh, monkeypatch) -> Path:
    """The materialised mesh's data dir, with this test's environment pointing at it."""
    for name, value in materialised_mesh.items():
        monkeypatch.setenv(name, value)
    return Path(materialised_mesh["MESH_DATA_DIR"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
