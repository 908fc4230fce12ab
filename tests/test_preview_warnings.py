"""Loading a code location logs no Dagster preview or beta warning (`dagster dev` logged
dozens: one per location load for each preview API the platform calls)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

LOAD_EVERY_LOCATION = """
import sys, yaml
from pathlib import Path
from mesh_platform.cli.workspace import load_module
for entry in yaml.safe_load(Path("workspace.yaml").read_text())["load_from"]:
    target = entry["python_file"]
    defs = load_module(Path(target["relative_path"]), "loc_" + target["location_name"]).defs
    defs.get_repository_def().get_all_jobs()  # build everything, as a code server does
    print("loaded", target["location_name"], file=sys.stderr)
"""

# The control: the same API called directly does warn, so the check above can see a warning.
CONTROL = """
import dagster as dg
dg.Definitions(assets=[dg.AssetSpec("a")]).map_asset_specs(func=lambda spec: spec)
"""


def _stderr(code: str, env: dict) -> str:
    # a fresh interpreter with Python's default warning filters, like a code server's
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_loading_every_code_location_warns_of_no_preview_api(mesh_data, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"} | {"DAGSTER_HOME": str(tmp_path)}
    assert "PreviewWarning" in _stderr(CONTROL, env)
    stderr = _stderr(LOAD_EVERY_LOCATION, env)
    locations = [
        e["python_file"]["location_name"] for e in yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    ]
    assert [line.split()[1] for line in stderr.splitlines() if line.startswith("loaded ")] == locations
    assert "PreviewWarning" not in stderr and "BetaWarning" not in stderr, stderr
