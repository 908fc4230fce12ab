"""Benchmark: a newcomer's first click. `make dev`'s instance, then "Materialize all" on checkout.

    .venv/bin/python bench/first_click.py                 # scale 0.01, as `make dev` seeds
    .venv/bin/python bench/first_click.py --scale 1

What it does, as a person would: a fresh DAGSTER_HOME with the checked-in dev dagster.yaml, a
seeded data dir, `dagster dev` on the repository's workspace (webserver and daemon), then the
UI's own GraphQL mutation for "Materialize all" on checkout's assets over all their partitions
(a single-run backfill, as the UI launches it). The figure is the time from that request until
the backfill's last run succeeded (its end time), with when each run was queued, started and
ended, read back through the same GraphQL API the UI reads; and when the daemon then marked the
backfill complete.

Dagster's backfill daemon wakes every 30 s, so the figure depends on when in that period the
click comes: right after `dagster dev` serves the location is just after the daemon's first
wake-up, its worst case. A person takes a while to find the button; `--think 0 10 20` clicks
that many seconds after the location is served, one fresh `dagster dev` each, and prints the
median too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

ASSETS = """query { assetNodes(group: {groupName: "checkout", repositoryName: "__repository__",
  repositoryLocationName: "checkout"}) { assetKey { path } isPartitioned isExecutable } }"""
LAUNCH = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
  ... on PartitionBackfill { status runs(limit: 10) { runId status creationTime startTime endTime } } } }"""
SINGLE = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status startTime endTime } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gql(url: str, query: str, variables: dict | None = None) -> dict:
    body = requests.post(url, json={"query": query, "variables": variables or {}}, timeout=60).json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--think", type=float, nargs="+", default=[0], help="seconds from the location being served to the click"
    )
    args = parser.parse_args()
    figures = [first_click(args.scale, args.timeout, think) for think in args.think]
    if len(figures) > 1:
        print(f"median of {len(figures)} clicks: {statistics.median(figures):.1f} s")


def first_click(scale: float, timeout: float, think: float) -> float:
    """One fresh instance and `dagster dev`, one click `think` s after checkout is served; the
    seconds from the click to the last run's end."""
    tmp = Path(tempfile.mkdtemp(prefix="first_click_"))
    home, data = tmp / "home", tmp / "data"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MESH_DATA_DIR": str(data),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    subprocess.run(
        [str(BIN / "mesh"), "seed", "--domain", "checkout", "--scale", str(scale)],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run([str(BIN / "mesh"), "prepare", "--domain", "checkout"], env=env, check=True, capture_output=True)
    workspace = tmp / "workspace.yaml"
    workspace.write_text(
        f"load_from:\n  - python_file:\n      relative_path: {ROOT / 'domains/checkout/definitions.py'}\n"
        f"      location_name: checkout\n      working_directory: {ROOT}\n"
    )
    port = free_port()
    log = open(tmp / "dagster_dev.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 300
        nodes = None
        while time.monotonic() < deadline and nodes is None:
            try:
                nodes = gql(url, ASSETS)["assetNodes"] or None
            except (requests.RequestException, RuntimeError):
                time.sleep(1)
        if not nodes:
            raise SystemExit(f"dagster dev did not serve checkout:\n{(tmp / 'dagster_dev.log').read_text()[-3000:]}")
        keys = [{"path": n["assetKey"]["path"]} for n in nodes if n["isExecutable"]]
        time.sleep(think)
        clicked, clicked_at = time.monotonic(), time.time()
        launched = gql(url, LAUNCH, {"params": {"assetSelection": keys, "allPartitions": True}})[
            "launchPartitionBackfill"
        ]
        if launched["__typename"] != "LaunchBackfillSuccess":
            raise SystemExit(f"launch failed: {launched}")
        backfill_id = launched["backfillId"]
        status, runs = None, []
        while time.monotonic() - clicked < timeout:
            backfill = gql(url, BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
            status, runs = backfill["status"], backfill["runs"]
            if runs and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs) and status != "REQUESTED":
                break
            time.sleep(0.5)
        seconds = time.monotonic() - clicked
        ended = max((r["endTime"] or 0 for r in runs), default=0) - clicked_at
        print(
            f"scale {scale:g}, click {think:g} s after the location was served: backfill {status}, runs {[r['status'] for r in runs]}; "
            f"{ended:.1f} s from the click until the last run succeeded (its end time, as the UI shows "
            f"it), {seconds:.1f} s until the daemon marked the backfill {status}"
        )
        for run in sorted(runs, key=lambda r: r["creationTime"]):
            if run["startTime"] and run["endTime"]:
                print(
                    f"  run {run['runId'][:8]}: queued at +{run['creationTime'] - clicked_at:.1f} s, started "
                    f"+{run['startTime'] - clicked_at:.1f} s, ended +{run['endTime'] - clicked_at:.1f} s "
                    f"({run['endTime'] - run['startTime']:.1f} s)"
                )
        return ended
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
