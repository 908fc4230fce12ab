"""What every scaffold writes with: its error, its result, the template files (templates/,
rendered with Jinja2) and the guarded writers.

Templates use `[[ ]]` and `[% %]` for their own placeholders, so that the `{{ }}` of the dbt
files they produce stay as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from mesh_platform import settings
from mesh_platform.lifecycle import yaml_edit
from mesh_platform.safe_paths import inside

NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("mesh_platform.scaffold", "templates"),
    variable_start_string="[[",
    variable_end_string="]]",
    block_start_string="[%",
    block_end_string="%]",
    comment_start_string="[#",
    comment_end_string="#]",
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # SQL, YAML and Python, not HTML
)


class ScaffoldError(ValueError):
    pass


@dataclass
class Scaffold:
    files: list[Path] = field(default_factory=list)
    agreements: list[Path] = field(default_factory=list)


def render(template: str, **values: Any) -> str:
    """A file of templates/ filled in (a missing value is an error, not an empty string)."""
    return _TEMPLATES.get_template(template).render(**values)


def write_file(path: Path, text: str) -> Path:
    inside(settings.repo_root(), path)  # names come from the command line and the mesh
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_yaml(path: Path, data: Any) -> Path:
    inside(settings.repo_root(), path)
    yaml_edit.write(path, data)
    return path
