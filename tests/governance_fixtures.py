"""A private copy of the repository's mesh (domains, dbt projects with their parsed manifests,
governance/) to inject violations into, edited through the loaded objects' files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def copy_mesh(dest: Path, with_targets: bool = True) -> Path:
    ignore = shutil.ignore_patterns("logs", "__pycache__", *(() if with_targets else ("target",)))
    for folder in ("domains", "dbt_projects", "governance"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    return dest


def edit_yaml(file: Path, change: Callable[[Any], Any]) -> None:
    """Load, change in place (the callable's return value is ignored), write back."""
    data = yaml.safe_load(file.read_text())
    change(data)
    file.write_text(yaml.safe_dump(data, sort_keys=False))


def column(schema_object: dict, name: str) -> dict:
    return next(p for p in schema_object["properties"] if p["name"] == name)


def schema_object(contract: dict, name: str) -> dict:
    return next(o for o in contract["schema"] if o["name"] == name)
