"""One guard for every writer that builds a path from names found in YAML: the path must stay
inside its root. Identifiers are already refused at load (specs/identifiers.py) when they
could leave a folder; this is the second layer, for a caller that skipped the first."""

from __future__ import annotations

import os
from pathlib import Path


class PathEscape(ValueError):
    """A path built from names would land outside the folder it is written in."""


def inside(root: str | os.PathLike, *parts: str | os.PathLike) -> Path:
    """``root / parts...``, or PathEscape when the parts (``..``, an absolute path, a NUL byte)
    lead outside ``root``. Checked on the normalised text, so a file that does not exist yet
    is checked too."""
    root = Path(root)
    path = root.joinpath(*parts)
    text = str(path)
    if "\0" in text or any("\0" in str(p) for p in parts):
        raise PathEscape(f"refusing to write {text!r}: a NUL byte in a file name")
    base = os.path.normpath(os.path.abspath(root))
    target = os.path.normpath(os.path.abspath(path))
    if target != base and not target.startswith(base.rstrip(os.sep) + os.sep):
        raise PathEscape(f"refusing to write {target}: it is outside {base}")
    return path
