"""YAML with line numbers: every value remembers where it was written.

PyYAML's composed node tree carries marks; we keep a map from field path to line so
validation errors from jsonschema or pydantic can name the line a human must edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mesh_platform.specs.errors import SpecError, SpecProblem

Path_ = tuple[str | int, ...]


@dataclass
class YamlDocument:
    file: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of the nearest enclosing field that exists in the file."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Path_, message: str) -> SpecProblem:
        return SpecProblem(self.file, self.line_of(path), format_path(path), message)

    def error(self, path: Path_, message: str) -> SpecError:
        return SpecError([self.problem(path, message)])


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(file: Path) -> YamlDocument:
    file = Path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError.single(file, None, "", "file not found") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"invalid YAML: {exc.problem or exc}"
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            # An unclosed bracket or quote fails lines later; say where it was opened.
            message += f" ({exc.context} opened on line {exc.context_mark.line + 1})"
        raise SpecError.single(file, line, "", message) from None
    if node is None:
        raise SpecError.single(file, 1, "", "empty document; expected a mapping")
    lines: dict[Path_, int] = {}
    data = _construct(node, (), lines, file)
    if not isinstance(data, dict):
        raise SpecError.single(file, node.start_mark.line + 1, "", "expected a mapping at the top level")
    return YamlDocument(file=file, data=data, lines=lines)


_SCALARS = yaml.SafeLoader("")
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def _scalar(node: yaml.Node) -> Any:
    # Dates stay strings: contracts and descriptors validate them as ISO text.
    if node.tag == _TIMESTAMP_TAG:
        return node.value
    return _SCALARS.construct_object(node)


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: Path) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            child = (*path, key)
            if key in out:
                raise SpecError.single(file, key_node.start_mark.line + 1, format_path(child),
                                       "duplicate key")
            lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node)
