"""Two commands started together on a fresh DAGSTER_HOME both get a working instance."""

import multiprocessing
import os

import dagster as dg
from conftest import write_instance_yaml

from mesh_platform.runtime.instance import open_instance


def _open_and_record(home: str, barrier, results) -> None:
    os.environ["DAGSTER_HOME"] = home
    barrier.wait()  # every process opens the fresh instance at the same moment
    try:
        with open_instance() as instance:
            run = instance.create_run_for_job(dg.JobDefinition(graph_def=dg.GraphDefinition(name="noop")))
            results.put(("ok", run.run_id))
    except Exception as exc:  # noqa: BLE001 - reported by the test
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def test_commands_started_together_on_a_fresh_instance_all_get_it(tmp_path, monkeypatch):
    context = multiprocessing.get_context("fork")
    for trial in range(3):
        home = write_instance_yaml(tmp_path / f"home{trial}")
        barrier, results = context.Barrier(4), context.Queue()
        procs = [context.Process(target=_open_and_record, args=(str(home), barrier, results)) for _ in range(4)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert [o for o in outcomes if o[0] != "ok"] == [], outcomes
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            assert len(instance.get_runs()) == 4


def test_a_relative_dagster_home_is_the_folder_from_here(tmp_path, monkeypatch):
    """Dagster refuses a relative DAGSTER_HOME with a traceback; the platform's commands take
    it from the current folder."""
    write_instance_yaml(tmp_path / "home")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", "home")
    with open_instance() as instance:
        assert instance.root_directory == str(tmp_path / "home")
    assert os.environ["DAGSTER_HOME"] == str(tmp_path / "home")
