"""A day's run partial-parses. The run's partition range reaches dbt in env vars, so dbt
re-parses only the models that read it; it used to be `--vars`, and dbt throws the whole
partial parse away when the command line's vars change (a full parse in every day's run). A
successful run's parse is the next run's starting point, so a data dir other than `mesh
prepare`'s costs one full parse, not one per run."""

from __future__ import annotations

import shutil

from governance_fixtures import ROOT, copy_mesh

from mesh_platform import settings
from mesh_platform.dagster_wiring.dbt_parse import prepare
from mesh_platform.dagster_wiring.dbt_project import (
    PARTIAL_PARSE,
    dbt_project,
    dbt_resource,
    finish_run_folder,
    reuse_parse,
)
from mesh_platform.dagster_wiring.partitions import RunRange

MODEL = "web_orders_with_consent"


def _compile(project, day: str) -> tuple[list[str], str]:
    """dbt compile of the port's model for one day, as a run starts it: dbt's reasons for a
    full parse, and the model's compiled SQL."""
    import datetime as dt

    start = dt.date.fromisoformat(day)
    span = RunRange(start=start, end=start + dt.timedelta(days=1), everything=False)
    reuse_parse(project.project_dir, project.target)
    invocation = dbt_resource(project).cli(["compile", "--select", MODEL], env=span.dbt_env())
    reasons = [
        e.raw_event["info"]["msg"]
        for e in invocation.stream_raw_events()
        if e.raw_event["info"]["name"] == "UnableToPartialParse"
    ]
    assert invocation.is_successful()
    folder = invocation.project_dir / invocation.target_path
    sql = next(folder.glob(f"compiled/**/{MODEL}.sql")).read_text()
    finish_run_folder(invocation)
    assert not folder.exists()  # the run's folder went
    return reasons, sql


def test_a_days_run_parses_only_what_reads_its_range(tmp_path, monkeypatch):
    copy_mesh(tmp_path)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", tmp_path / "mesh_platform" / "dbt_macros")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    data = tmp_path / "data"  # compile reads no data, but opens the domain's warehouse
    (data / "warehouse").mkdir(parents=True)
    monkeypatch.setenv("MESH_DATA_DIR", str(data))
    monkeypatch.setenv("DBT_TARGET_PATH", "")  # reuse_parse sets it; restored after the test
    project = dbt_project(tmp_path / "dbt_projects" / "checkout", settings.target())
    prepare(project)  # `mesh prepare`: no range

    for day in ("2025-06-01", "2025-06-02"):
        reasons, sql = _compile(project, day)
        assert reasons == [], reasons  # partial parse: the marts re-parsed, not the project
        assert f"cast('{day}' as date)" in sql  # and built for this run's range

    # Another data dir than the parse's (the profile's DuckDB path): one full parse, then none.
    other = tmp_path / "other"
    (other / "warehouse").mkdir(parents=True)
    monkeypatch.setenv("MESH_DATA_DIR", str(other))
    parsed = project.project_dir / project.target_path / PARTIAL_PARSE
    before = parsed.stat().st_ino
    reasons, _ = _compile(project, "2025-06-03")
    assert any("profile" in r for r in reasons), reasons
    assert parsed.stat().st_ino != before  # the run's parse replaced the prepared one
    reasons, sql = _compile(project, "2025-06-04")
    assert reasons == [] and "cast('2025-06-04' as date)" in sql


def test_failed_runs_keep_their_dbt_folders_the_newest_twenty(tmp_path):
    import os

    from mesh_platform.dagster_wiring.dbt_project import KEEP_FAILED, prune_run_folders

    target = tmp_path / "target" / "dev"
    runs = []
    for i in range(KEEP_FAILED + 5):
        folder = target / f"checkout__web_orders_dbt_models-{i:07d}-abcdef0"
        (folder / "compiled").mkdir(parents=True)
        (folder / "dbt.log").write_text("failed")
        os.utime(folder, (1_000_000 + i, 1_000_000 + i))  # oldest first
        runs.append(folder)
    (target / ".parse-123").mkdir()  # a parse at work
    (target / "manifest.json").write_text("{}")

    removed = prune_run_folders(target)
    assert sorted(removed) == sorted(runs[:5])
    assert all(f.exists() for f in runs[5:]) and not any(f.exists() for f in runs[:5])
    assert (target / ".parse-123").exists() and (target / "manifest.json").exists()
