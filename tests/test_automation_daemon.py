"""Automation and the CLI agree, through Dagster's own asset daemon under the dev instance
(dagster_home/dagster.yaml: the run queue, pools, automation sensors): a run started the way
`mesh materialize` starts it is seen by the consumer's automation, which never launches a
duplicate of it, and waits while its producer's run is building the port it reads."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import dagster as dg
from automation_daemon import HOOKS, run_automation_sensors
from freshness_daemon import workspace

from mesh_platform.cli.materialize import JOB

ROOT = Path(__file__).resolve().parent.parent
DEFS = """
import types
import dagster as dg
from automation_daemon import hook
from mesh_platform.dagster_wiring.automation import automation_sensor, upstream_published

V1, V2 = dg.AssetKey(["shop", "orders", "orders"]), dg.AssetKey(["shop", "orders", "orders_v2"])
V1_MODEL = dg.AssetKey(["shop", "orders", "int_orders"])
STG, PORT = dg.AssetKey(["reco", "pairs", "stg_orders"]), dg.AssetKey(["reco", "pairs", "pairs"])
condition = upstream_published([V1], in_flight=[PORT, V1])  # what the platform gives `reco.pairs`

@dg.multi_asset(specs=[dg.AssetSpec(V1_MODEL), dg.AssetSpec(V1, deps=[V1_MODEL]), dg.AssetSpec(V2)],
                name="shop_models")
def shop():  # the producer builds, then publishes its ports
    yield dg.MaterializeResult(asset_key=V1_MODEL)
    hook("building")
    yield dg.MaterializeResult(asset_key=V1)
    yield dg.MaterializeResult(asset_key=V2)

@dg.multi_asset(specs=[dg.AssetSpec(STG, deps=[V1], automation_condition=condition),
                       dg.AssetSpec(PORT, deps=[STG], automation_condition=condition)], name="reco_models")
def reco():
    hook("consumer_running")
    yield dg.MaterializeResult(asset_key=STG)
    yield dg.MaterializeResult(asset_key=PORT)

defs = dg.Definitions(assets=[shop, reco],
                      sensors=[automation_sensor(types.SimpleNamespace(name="reco"), minimum_interval_seconds=1)])
"""


def test_a_cli_run_starts_no_automation_duplicate(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")  # the dev instance
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    defs_file = tmp_path / "defs.py"
    defs_file.write_text(DEFS)
    from mesh_platform.cli.workspace import load_module

    defs = load_module(defs_file, "automation_daemon_defs").defs
    instance = dg.DagsterInstance.get()
    assert instance.auto_materialize_use_sensors

    def cli(domain: str) -> None:
        """A run the way `mesh materialize` starts one: in process, in the instance's run storage."""
        assets = [a for a in defs.assets if a.keys and next(iter(a.keys)).path[0] == domain]
        job = dg.Definitions(
            assets=list(defs.assets),
            jobs=[dg.define_asset_job(JOB, selection=dg.AssetSelection.assets(*[k for a in assets for k in a.keys]))],
        ).resolve_job_def(JOB)
        assert job.execute_in_process(instance=instance, tags={"domain": domain, "launched_by": "mesh-cli"}).success

    def automation_runs() -> list[dg.DagsterRun]:
        return instance.get_runs(filters=dg.RunsFilter(tags={"launched_by": "automation"}))

    seen: list[int] = []
    with workspace(instance, defs_file, "mesh", tmp_path) as context:

        def tick() -> int:
            time.sleep(1.1)  # the sensor's minimum interval
            run_automation_sensors(context)
            return len(automation_runs())

        assert tick() == 0  # nothing published yet
        # `mesh materialize`: the producer, then (a moment later) the consumer
        HOOKS["building"] = lambda: seen.extend([tick(), tick()])  # the port the consumer reads is being built
        HOOKS["consumer_running"] = lambda: seen.append(tick())
        cli("shop")
        assert tick() == 0  # the moment between the two runs of the CLI
        cli("reco")
        assert tick() == 0 and tick() == 0  # the CLI's run handled the publication: no duplicate after it
        assert seen == [0, 0, 0]

        # the control: a publication the CLI does not follow up is run by automation, once
        HOOKS.clear()
        cli("shop")
        assert tick() == 0  # settles for a tick
        assert tick() == 1
        (run,) = automation_runs()
        assert run.asset_selection == {
            dg.AssetKey(["reco", "pairs", "stg_orders"]),
            dg.AssetKey(["reco", "pairs", "pairs"]),
        }
        assert run.tags["domain"] == "reco" and run.status == dg.DagsterRunStatus.QUEUED  # the dev run queue
        assert tick() == 1 and tick() == 1
    HOOKS.clear()
