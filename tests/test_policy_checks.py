"""Governance policy checks are evaluated and recorded by the runs of their port: `mesh
materialize` (a partition range of checkout's partitioned port, one verdict per run), the
whole mesh, a run of the checks alone (the UI's "Execute all"), and an error-severity violation
fails its check and keeps the port unpublished. Read back through the Dagster instance's API."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest
from click.testing import CliRunner
from governance_fixtures import ROOT, column, copy_mesh, edit_yaml, schema_object

from mesh_platform.cli.main import cli
from mesh_platform.dagster_wiring.policy_checks import CHECK_PREFIX, check_name
from mesh_platform.governance.config import load_governance
from mesh_platform.lifecycle.states import port_lifecycle
from mesh_platform.mesh import Mesh, PortAddress

CHECKOUT_PORTS = [
    dg.AssetKey(["checkout", "web_orders_with_consent", "web_orders_with_consent"]),
    dg.AssetKey(["checkout", "web_orders_with_consent", "web_orders_with_consent_v2"]),
]


def _policy_checks(key: dg.AssetKey) -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(key, check_name(p)) for p in load_governance().names()]


def _latest_run(instance: dg.DagsterInstance) -> dg.DagsterRun:
    return instance.get_runs(limit=1)[0]


def _evaluations(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetCheckEvaluation]:
    return [
        e.dagster_event.event_specific_data
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]


def test_policy_checks_ride_on_their_ports_asset(locations):
    """What "Materialize all" in the UI (or any asset job) runs: the policy checks are check
    specs of the port's own multi-asset, so selecting the port selects them; no separate
    check definition exists that a run could leave out."""
    for name, defs in locations.items():
        assert not [c for c in defs.asset_checks or [] for k in c.check_keys if k.name.startswith(CHECK_PREFIX)]
        graph = defs.resolve_asset_graph()
        ports = [spec.key for assets in defs.assets for spec in assets.specs if "mesh/output_port" in spec.metadata]
        assert ports, name
        for key in ports:
            owner = next(a for a in defs.assets if key in a.keys)
            assert set(_policy_checks(key)) <= set(owner.check_keys), key
            assert set(_policy_checks(key)) <= dg.AssetSelection.assets(key).resolve_checks(graph), key
            spec = next(s for s in owner.check_specs if s.key == _policy_checks(key)[0])
            assert spec.metadata["source"] == "governance" and "status" not in spec.metadata  # no verdict before a run


def test_whole_mesh_run_recorded_every_policy_check_of_every_port(whole_mesh):
    instance = dg.DagsterInstance.get()
    ports = [port for port in Mesh.load().ports if port_lifecycle(port).state != "retired"]
    assert len(ports) >= 6
    for port in ports:
        keys = _policy_checks(PortAddress.parse(port.address).asset_key)
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
        missing = [
            k.name
            for k in keys
            if k not in latest
            or latest[k].event is None
            or latest[k].event.dagster_event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]
        assert not missing, (port.address, missing)


def test_checkout_partition_range_run_evaluates_each_policy_once(mesh_copy):
    """`mesh materialize --domain checkout` over three days of the partitioned port: every
    policy check of both ports has an evaluation from that run, one each (not one per day)."""
    result = CliRunner().invoke(
        cli, ["materialize", "--domain", "checkout", "--partition", "2025-12-01...2025-12-03"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    instance = dg.DagsterInstance.get()
    run = _latest_run(instance)
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags["domain"] == "checkout"
    assert run.tags["dagster/asset_partition_range_start"] == "2025-12-01"
    evaluations = _evaluations(instance, run.run_id)
    for key in CHECKOUT_PORTS:
        for check in _policy_checks(key):
            found = [e for e in evaluations if e.asset_check_key == check]
            assert len(found) == 1, (check, len(found))
            assert found[0].passed and found[0].metadata["status"].value == "pass"
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(_policy_checks(key))
        assert {record.run_id for record in latest.values()} == {run.run_id}


def test_executing_the_policy_checks_alone_records_them_without_dbt(isolated_data, dagster_home, locations):
    """The UI's "Execute all" on the checks: the verdicts are recorded, no model is built."""
    defs = locations["checkout"]
    checks = [c for key in CHECKOUT_PORTS for c in _policy_checks(key)]
    job = dg.Definitions(
        assets=list(defs.assets),
        resources=dict(defs.resources),
        jobs=[dg.define_asset_job("policies_only", selection=dg.AssetSelection.checks(*checks))],
    ).resolve_job_def("policies_only")
    instance = dg.DagsterInstance.get()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    evaluations = _evaluations(instance, result.run_id)
    assert sorted(e.asset_check_key.to_user_string() for e in evaluations) == sorted(c.to_user_string() for c in checks)
    assert not instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    assert not (isolated_data / "warehouse" / "checkout.duckdb").exists()  # dbt did not run


@pytest.fixture
def repo_and_run_copy(mesh_copy, tmp_path, monkeypatch):
    """A copy of the repository (to inject a violation) over a copy of the materialised mesh."""
    root = copy_mesh(tmp_path / "repo")
    # the platform's dbt macros, where each project's macro-paths finds them (../../mesh_platform)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", root / "mesh_platform" / "dbt_macros")
    monkeypatch.setenv("MESH_ROOT", str(root))
    return root


def test_failing_error_policy_is_recorded_and_blocks_publication(repo_and_run_copy):
    port = Mesh.load().port("checkout.web_orders_with_consent.web_orders_with_consent")
    edit_yaml(
        port.contract.file, lambda c: column(schema_object(c, port.model), "order_line_id").update(required=False)
    )
    instance = dg.DagsterInstance.get()
    key = CHECKOUT_PORTS[0]
    before = instance.get_latest_materialization_event(key)

    result = CliRunner().invoke(
        cli, ["materialize", "--domain", "checkout", "--partition", "2025-12-31"], catch_exceptions=False
    )
    assert result.exit_code != 0
    assert "policy__key_not_null" in result.output
    run = _latest_run(instance)
    assert run.status == dg.DagsterRunStatus.FAILURE
    verdicts = {
        e.check_name: e
        for e in _evaluations(instance, run.run_id)
        if e.asset_key == key and e.check_name.startswith(CHECK_PREFIX)
    }
    assert set(verdicts) == {c.name for c in _policy_checks(key)}
    failed = verdicts.pop(check_name("key-not-null"))
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["status"].value == "fail"
    violation = failed.metadata["violations"].value[0]
    assert violation["file"].startswith("domains/checkout/") and violation["line"]  # repo-relative file:line
    assert all(e.passed for e in verdicts.values())
    # not published: the port's latest materialisation is still the one before this run
    assert instance.get_latest_materialization_event(key).run_id == before.run_id

    from mesh_platform.catalog.build import build_catalog

    catalog_port = build_catalog(instance).port(port.address)[1]
    states = {r.policy: r.status for r in catalog_port.policies}
    assert states.pop("key-not-null") == "fail" and set(states.values()) == {"pass"}
