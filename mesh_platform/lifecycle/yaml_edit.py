"""Edit a team's YAML in place, keeping its comments, key order, quoting and layout.

The CLI changes a status or a date the way a person would in a pull request: one line or
two, nothing else moves. ruamel.yaml's round-trip mode keeps what PyYAML would drop.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mesh_platform.mesh.address import PortAddress, ProductAddress


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long description
    yaml.indent(mapping=2, sequence=4, offset=2)  # the house style: "  - name: ..."
    for address in (PortAddress, ProductAddress):  # an address is written as its text
        yaml.representer.add_representer(address, lambda r, value: r.represent_str(str(value)))
    return yaml


def load(file: Path) -> CommentedMap:
    with Path(file).open(encoding="utf-8") as f:
        return _yaml().load(f)


def dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def write(file: Path, data: Any) -> None:
    """All or nothing: a reader sees the old file or the new one."""
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    tmp.write_text(dump(data), encoding="utf-8")
    os.replace(tmp, file)


@contextmanager
def editing(file: Path) -> Iterator[CommentedMap]:
    """`with editing(path) as data: data["status"] = "deprecated"` rewrites the file on success."""
    data = load(file)
    yield data
    write(file, data)


def set_custom(data: CommentedMap, name: str, value: Any) -> None:
    """Set a customProperties entry's value (adding the entry, and the list, if missing)."""
    props = data.get("customProperties")
    if props is None:
        props = CommentedSeq()
        data["customProperties"] = props
    for entry in props:
        if isinstance(entry, dict) and entry.get("property") == name:
            entry["value"] = value
            return
    entry = CommentedMap()
    entry["property"] = name
    entry["value"] = value
    trailing = _take_trailing_comment(props[-1]) if len(props) else None
    props.append(entry)
    if trailing is not None:  # a comment below the list stays below it
        entry.ca.items["value"] = trailing


def _take_trailing_comment(item: Any):
    """ruamel hangs a comment that follows a list on the list's last scalar: detach it."""
    if not isinstance(item, CommentedMap) or not len(item):
        return None
    last = list(item.keys())[-1]
    return item.ca.items.pop(last, None)


def remove_custom(data: CommentedMap, *names: str) -> None:
    props = data.get("customProperties")
    if not props:
        return
    for i in reversed(range(len(props))):
        if isinstance(props[i], dict) and props[i].get("property") in names:
            trailing = _take_trailing_comment(props[i]) if i == len(props) - 1 else None
            del props[i]
            if trailing is not None and len(props):
                last = props[-1]
                if isinstance(last, CommentedMap) and len(last):
                    last.ca.items[list(last.keys())[-1]] = trailing
