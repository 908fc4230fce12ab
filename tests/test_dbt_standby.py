"""A run's dbt served by a standby that imported dbt beforehand (runtime/dbt_standby.py).

Each standby test runs a driver process that starts standbys as `mesh materialize` does, then
starts `mesh-dbt` as dagster-dbt does (a child naming the driver in MESH_DBT_PARENT), so the
test's own process keeps its environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

DRIVER = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    from pathlib import Path
    from mesh_platform.runtime import dbt_standby
    from mesh_platform.runtime.dbt_child import PARENT_ENV

    standbys, report, *argv = sys.argv[1:]
    os.environ.pop(dbt_standby.ENV, None)  # the test process's own standbys are not ours
    for _ in range(int(standbys)):
        dbt_standby.start()
    folder = Path(os.environ.get(dbt_standby.ENV, ":/nonexistent").partition(":")[2])
    deadline = time.monotonic() + 60
    while len(list(folder.glob("*.sock"))) < len(dbt_standby._started) and time.monotonic() < deadline:
        time.sleep(0.05)  # listening (a mesh-dbt that comes earlier waits for the import, as in a run)
    facts = {"ready": len(list(folder.glob("*.sock"))), "standbys": [p.pid for p, _ in dbt_standby._started]}
    with open(report + ".out", "wb") as out:
        dbt = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "mesh-dbt"), *argv],
                               env={**os.environ, PARENT_ENV: str(os.getpid())}, stdout=out, stderr=out)
        Path(report + ".started").write_text(json.dumps({**facts, "client": dbt.pid}))
        code = dbt.wait()
    left = sorted(p.name for p in folder.glob("*.sock"))
    out = Path(report + ".out").read_text()
    Path(report).write_text(json.dumps({**facts, "client": dbt.pid, "code": code, "out": out, "left": left}))
    time.sleep(float(os.environ.get("DRIVER_LINGER", "0")))  # a run that goes on after its dbt died
    """
)


def _clean_env(**extra: str) -> dict[str, str]:
    """This test process's environment without what an earlier in-process run left in it: dbt's
    own settings (DBT_TARGET_PATH would send the slow project's artifacts into a domain's target
    folder) and the process's standbys."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "MESH_DBT_"))}
    return {**keep, **extra}


def _drive(tmp_path: Path, *argv: str, standbys: int = 1, env: dict | None = None) -> dict:
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-c", DRIVER, str(standbys), str(report), *argv],
        env=_clean_env(**(env or {})),
        timeout=180,
        check=True,
    )
    return json.loads(report.read_text())


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_standby_runs_dbt_for_mesh_dbt_once_and_one_waits_at_most(tmp_path):
    done = _drive(tmp_path, "--version", standbys=2)
    assert len(done["standbys"]) == 1 and done["ready"] == 1, "a second start() while one still waits starts none"
    assert done["code"] == 0 and "installed" in done["out"], done["out"]
    assert done["left"] == [], "the standby served it and took its socket away"


def test_mesh_dbt_reports_dbt_s_own_exit_code_and_output_through_a_standby(tmp_path):
    served = _drive(tmp_path, "parse", "--project-dir", "/nonexistent")
    assert served["left"] == [], "the standby ran it"
    own = subprocess.run(
        [BIN / "mesh-dbt", "parse", "--project-dir", "/nonexistent"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served["code"] == own.returncode == 2
    assert "nonexistent" in served["out"] and "nonexistent" in own.stdout + own.stderr


def test_without_a_ready_standby_mesh_dbt_runs_dbt_itself(tmp_path):
    done = _drive(tmp_path, "--version", env={"MESH_DBT_NO_STANDBY": "1"})
    assert done["ready"] == 0 and done["standbys"] == []
    assert done["code"] == 0 and "installed" in done["out"]


SLOW_PROJECT = {
    "dbt_project.yml": "name: slow\nversion: '1.0.0'\nprofile: slow\nmodel-paths: [models]\n",
    "profiles.yml": "slow:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {db}\n",
    # a query DuckDB takes minutes over, and stops when dbt cancels it (an interrupt)
    "models/slow.sql": "{{{{ config(materialized='table') }}}}\nselect sum(hash(range)) as x from range(100000000000)\n",
}


def _slow_project(tmp_path: Path) -> Path:
    project = tmp_path / "slow"
    for name, text in SLOW_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text.format(db=tmp_path / "slow.duckdb"))
    return project


def _start_slow_build(tmp_path: Path, linger: float = 0):
    """A driver whose mesh-dbt runs the slow model in a standby, once the model has started."""
    project = _slow_project(tmp_path)
    report = tmp_path / "report.json"
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, "1", str(report), "build", "--project-dir", str(project),
         "--profiles-dir", str(project), "--target-path", str(tmp_path / "target")],
        env=_clean_env(DRIVER_LINGER=str(linger)),
    )  # fmt: skip
    out = Path(f"{report}.out")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and driver.poll() is None:
        if out.exists() and "START sql table model" in out.read_text():
            time.sleep(1)  # inside the model's minute
            return driver, json.loads(Path(f"{report}.started").read_text())
        time.sleep(0.2)
    driver.kill()
    pytest.fail("dbt never started the model: " + (out.read_text() if out.exists() else "no output"))


def test_a_killed_mesh_dbt_takes_the_standby_s_dbt_with_it(tmp_path):
    driver, started = _start_slow_build(tmp_path, linger=60)
    try:
        os.kill(started["client"], signal.SIGKILL)  # the run's dbt, as a kill -9 of the run leaves it
        deadline = time.monotonic() + 10
        while _alive(started["standbys"][0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(started["standbys"][0]), "dbt ran on in the standby after its mesh-dbt died"
        assert driver.poll() is None, "the run is still there: the standby did not merely die with it"
    finally:
        driver.kill()
        driver.wait(timeout=30)


def test_an_interrupt_of_mesh_dbt_reaches_the_standby_s_dbt(tmp_path):
    driver, started = _start_slow_build(tmp_path)
    try:
        began = time.monotonic()
        os.kill(started["client"], signal.SIGINT)  # what dagster-dbt sends when a run is terminated
        driver.wait(timeout=45)
        assert time.monotonic() - began < 30, "dbt finished its minute instead of stopping"
        done = json.loads((tmp_path / "report.json").read_text())
        # dbt's own handling of the interrupt (its code 2, its stack), not mesh-dbt dying of it
        assert done["code"] == 2 and done["left"] == [], done["out"]
        assert "dbt/task/runnable.py" in done["out"]
        assert not _alive(started["standbys"][0])
    finally:
        driver.kill()


WIRING = textwrap.dedent(
    """
    import gc, json, sys, types
    from click.testing import CliRunner
    from mesh_platform.runtime import dbt_standby

    seen = {}

    def products(*args, loaded, **kwargs):  # the command's loading and runs, as they see the collector
        seen["collecting while loading"] = gc.isenabled()
        loaded()
        seen["collecting after"], seen["frozen"] = gc.isenabled(), gc.get_freeze_count()
        return []

    class Materialize(types.ModuleType):  # mesh_platform.cli.materialize, which imports Dagster
        def __getattr__(self, name):
            seen.setdefault("standby started before the import", len(dbt_standby._started) == 1)
            return products

    sys.modules["mesh_platform.cli.materialize"] = Materialize("mesh_platform.cli.materialize")
    from mesh_platform.cli.main import cli

    result = CliRunner().invoke(cli, ["materialize", "--domain", "checkout"])
    print(json.dumps({**seen, "code": result.exit_code, "output": result.output}))
    """
)


def test_mesh_materialize_starts_a_standby_and_pauses_the_collector_before_importing_dagster():
    done = subprocess.run([sys.executable, "-c", WIRING], env=_clean_env(), capture_output=True, text=True, timeout=120)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["standby started before the import"] is True, done.stdout + done.stderr
    # runtime/startup_gc.py: no collections while the definitions load, then their objects frozen
    assert seen["collecting while loading"] is False
    assert seen["collecting after"] is True and seen["frozen"] > 10_000
    assert seen["code"] == 0
