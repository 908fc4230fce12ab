"""`dagster dev` (webserver and daemon) serves the product's catalog entry over GraphQL,
and a broken domain fails only its own code location."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import free_port, write_instance_yaml

ROOT = Path(__file__).resolve().parent.parent

LOCATIONS = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name
    locationOrLoadError { __typename ... on PythonError { message causes { message } } }
} } } }
"""

ASSETS = """
{ assetNodes {
    assetKey { path }
    groupName
    owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
    metadataEntries { label ... on TextMetadataEntry { text } }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
} }
"""


@pytest.fixture(scope="module")
def dagster_dev(mesh_data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dev")
    broken = tmp / "domains" / "broken"
    shutil.copytree(ROOT / "domains" / "checkout", broken)
    (broken / "domain.yaml").write_text((broken / "domain.yaml").read_text().replace("name: checkout", "name: broken"))
    descriptor = broken / "products" / "web_orders_with_consent" / "dataproduct.yaml"
    descriptor.write_text(descriptor.read_text().replace('cron: "0 5 * * *"', 'cron: "every morning"'))
    workspace = tmp / "workspace.yaml"
    workspace.write_text(f"""
load_from:
  - python_file:
      relative_path: {ROOT / "domains/checkout/definitions.py"}
      location_name: checkout
      working_directory: {ROOT}
  - python_file:
      relative_path: {broken / "definitions.py"}
      location_name: broken
      working_directory: {ROOT}
""")
    home = write_instance_yaml(tmp / "dagster_home")
    data = tmp / "data"  # its own: a test here materialises checkout through the UI's backfill
    shutil.copytree(mesh_data / "landing", data / "landing")
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MESH_DATA_DIR": str(data),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    log = open(tmp / "dagster_dev.log", "w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        _wait_for_locations(url, proc, tmp / "dagster_dev.log")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _query(url: str, query: str, variables: dict | None = None) -> dict:
    response = requests.post(url, json={"query": query, "variables": variables or {}}, timeout=30)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _wait_for_locations(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dagster dev exited early:\n{log.read_text()[-3000:]}")
        try:
            entries = _query(url, LOCATIONS)["workspaceOrError"]["locationEntries"]
            if len(entries) == 2 and all(e["locationOrLoadError"] for e in entries):
                return
        except (requests.RequestException, KeyError, TypeError):
            pass
        time.sleep(2)
    raise AssertionError(f"dagster dev did not load the workspace in {timeout}s:\n{log.read_text()[-3000:]}")


def test_product_listed_with_owner_and_contract_metadata(dagster_dev):
    nodes = {tuple(n["assetKey"]["path"]): n for n in _query(dagster_dev, ASSETS)["assetNodes"]}
    port = nodes[("checkout", "web_orders_with_consent", "web_orders_with_consent")]
    assert port["groupName"] == "checkout"
    owners = {o.get("team") or o.get("email") for o in port["owners"]}
    assert owners == {"checkout", "checkout-data@example.com"}
    meta = {m["label"]: m.get("text") for m in port["metadataEntries"]}
    assert meta["contract/id"] == "web-orders-with-consent-v1"
    assert meta["contract/owner"] == "Checkout Team"
    assert meta["contract/notice_period"] == "P3M"
    assert meta["sla/freshness"] == "24h"
    checks = {c["name"]: c["blocking"] for c in port["assetChecksOrError"]["checks"]}
    assert checks["web_orders_with_consent__order_line_id__primary_key"] is True


def test_every_port_shows_policy_checks_and_summary(dagster_dev):
    """Governance in the catalog: each policy in force is an asset check on every output port,
    and the port's metadata carries the summary ('policies: n/m') and the failing names."""
    from mesh_platform.dagster_wiring.policy_checks import check_name
    from mesh_platform.governance.config import load_governance

    in_force = load_governance().names()
    ports = [
        n
        for n in _query(dagster_dev, ASSETS)["assetNodes"]
        if any(m["label"] == "mesh/output_port" for m in n["metadataEntries"])
    ]
    assert {tuple(n["assetKey"]["path"]) for n in ports} >= {
        ("checkout", "web_orders_with_consent", "web_orders_with_consent")
    }
    for node in ports:
        meta = {m["label"]: m.get("text") for m in node["metadataEntries"]}
        assert meta["policies"] == f"{len(in_force)}/{len(in_force)}", node["assetKey"]
        assert meta["policies/failing"] == "none"
        checks = {c["name"] for c in node["assetChecksOrError"]["checks"]}
        assert {check_name(p) for p in in_force} <= checks, node["assetKey"]


PORT_METADATA = """
{ assetNodes { assetKey { path }
    metadataEntries { label ... on TextMetadataEntry { text } ... on PathMetadataEntry { path } }
    assetChecksOrError { ... on AssetChecks { checks { name description } } } } }
"""


def test_asset_pages_show_no_unserializable_metadata_and_relative_paths(dagster_dev):
    """What the asset page shows (the webserver's GraphQL): no `[DbtProject] (unserializable)`,
    the contract's file repo-relative, and policy checks that claim no verdict before a run."""
    nodes = _query(dagster_dev, PORT_METADATA)["assetNodes"]
    for node in nodes:
        for entry in node["metadataEntries"]:
            assert "unserializable" not in (entry.get("text") or ""), (node["assetKey"], entry)
            assert not (entry.get("path") or "").startswith("/"), (node["assetKey"], entry)
        for check in (node["assetChecksOrError"] or {}).get("checks") or []:
            if check["name"].startswith("policy__"):
                assert "Passes" not in (check["description"] or ""), check
    port = next(
        n for n in nodes if n["assetKey"]["path"] == ["checkout", "web_orders_with_consent", "web_orders_with_consent"]
    )
    meta = {m["label"]: m.get("path") or m.get("text") for m in port["metadataEntries"]}
    assert (
        meta["contract/file"]
        == "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
    )
    assert meta["dagster_dbt/project"] == "dbt_projects/checkout"


def test_broken_domain_fails_only_its_own_location(dagster_dev):
    entries = {
        e["name"]: e["locationOrLoadError"]
        for e in _query(dagster_dev, LOCATIONS)["workspaceOrError"]["locationEntries"]
    }
    assert entries["checkout"]["__typename"] == "RepositoryLocation"
    assert entries["broken"]["__typename"] == "PythonError"
    error = entries["broken"]
    message = "\n".join([error["message"], *(c["message"] for c in error["causes"])])
    assert "dataproduct.yaml:" in message and "customProperties[1].value.cron" in message  # the schedule
    assert "invalid cron expression" in message


GROUP = """query { assetNodes(group: {groupName: "checkout", repositoryName: "__repository__",
  repositoryLocationName: "checkout"}) { assetKey { path } isPartitioned isExecutable } }"""
LAUNCH_BACKFILL = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
BACKFILL_RUNS = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status runs(limit: 10) { runId status assetSelection { path } } } } }"""
ENDED = {"SUCCESS", "FAILURE", "CANCELED"}


def test_materialize_all_on_a_partitioned_product_is_one_run(dagster_dev):
    """ "Materialize all" on checkout over all its partitions, as the UI launches it (a backfill
    the daemon runs): one run holding the product's views and daily models. Dagster's daemon
    never runs an unpartitioned parent with its partitioned child, so unpartitioned views made
    it two runs, the second on the daemon's next wake-up 30 s later."""
    nodes = _query(dagster_dev, GROUP)["assetNodes"]
    keys = [n["assetKey"] for n in nodes if n["isExecutable"]]
    assert any(n["isPartitioned"] for n in nodes) and len(keys) > 2
    launched = _query(dagster_dev, LAUNCH_BACKFILL, {"params": {"assetSelection": keys, "allPartitions": True}})
    backfill = launched["launchPartitionBackfill"]
    assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
    deadline = time.monotonic() + 180  # the daemon wakes every 30 s; the run takes ~15 s
    runs = []
    while time.monotonic() < deadline:
        found = _query(dagster_dev, BACKFILL_RUNS, {"id": backfill["backfillId"]})["partitionBackfillOrError"]
        runs = found["runs"]
        if runs and all(r["status"] in ENDED for r in runs):
            break
        time.sleep(2)
    assert len(runs) == 1, runs
    (run,) = runs
    assert run["status"] == "SUCCESS", run
    assert sorted(k["path"] for k in run["assetSelection"]) == sorted(k["path"] for k in keys)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"), reason="headless Chromium not installed (.ci/run installs it)"
)
def test_ui_renders_product_page_in_headless_chromium(dagster_dev, tmp_path):
    """What a person sees: the asset page lists owner, contract terms and the schedule."""
    assert _chromium(), "CI must have Chromium: .ci/run installs Debian's chromium package"
    base = dagster_dev.removesuffix("/graphql")
    url = f"{base}/assets/checkout/web_orders_with_consent/web_orders_with_consent"
    dom = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--window-size=1500,1000",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for text in (
        "web_orders_with_consent",
        "checkout-data@example.com",
        "Freshness policy",
        "order_line_id",
        "classification: restricted",
        "checkout__web_orders_with_consent",
    ):
        assert text in dom, f"{text!r} not on the rendered page"
