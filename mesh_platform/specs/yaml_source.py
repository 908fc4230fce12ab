"""YAML with line numbers, loaded safely: every value remembers where it was written.

PyYAML's composed node tree carries marks; we keep a map from field path to line so
validation errors from jsonschema or pydantic can name the line a human must edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mesh_platform.specs.errors import DEFAULT_RULE, Problem, SpecError

Path_ = tuple[str | int, ...]


@dataclass
class YamlDocument:
    file: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    # A model attribute read from elsewhere in the file (an ODPS customProperty lifted into a
    # field) -> where it is written, so problems about it name the line and field to edit.
    aliases: dict[Path_, Path_] = field(default_factory=dict)

    def written_at(self, path: Path_) -> Path_:
        path = tuple(path)
        for n in range(len(path), 0, -1):
            if path[:n] in self.aliases:
                return (*self.aliases[path[:n]], *path[n:])
        return path

    def line_of(self, path: Path_) -> int | None:
        """The line of the nearest enclosing field that exists in the file."""
        path = self.written_at(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Path_, message: str, rule: str = DEFAULT_RULE) -> Problem:
        path = self.written_at(path)
        return Problem(self.file, self.line_of(path), format_path(path), message, rule)

    def error(self, path: Path_, message: str, rule: str = DEFAULT_RULE) -> SpecError:
        return SpecError([self.problem(path, message, rule)])


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# Limits a domain file never needs to reach; past them a document is refused, not loaded.
MAX_BYTES = 1_000_000
MAX_DEPTH = 50
MAX_NODES = 50_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
# libyaml's parser when PyYAML was built with it (the wheels are): same events, ten times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(file: Path) -> YamlDocument:
    """Parse one YAML document safely: UTF-8 only, bounded size, depth and node count, no tags,
    anchors, aliases, merge keys or complex keys. Every refusal names the file and line."""
    file = Path(file)
    text = _read_text(file)
    _check_events(text, file)  # event-level limits first: composing is recursive and expands aliases
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(file, exc) from None
    except yaml.YAMLError as exc:  # pragma: no cover - ReaderErrors are raised by the event pass
        raise SpecError.single(file, None, "", f"invalid YAML: {exc}", rule="spec.yaml") from None
    if node is None:
        raise SpecError.single(file, 1, "", "empty document; expected a mapping", rule="spec.yaml")
    lines: dict[Path_, int] = {}
    data = _construct(node, (), lines, file, _Scalars())
    if not isinstance(data, dict):
        raise SpecError.single(
            file, node.start_mark.line + 1, "", "expected a mapping at the top level", rule="spec.yaml"
        )
    return YamlDocument(file=file, data=data, lines=lines)


def _read_text(file: Path) -> str:
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise SpecError.single(
                file,
                None,
                "",
                f"file is {size} bytes; a domain file may have at most {MAX_BYTES} bytes",
                rule="spec.file",
            )
        raw = file.read_bytes()
    except FileNotFoundError:
        raise SpecError.single(file, None, "", "file not found", rule="spec.file") from None
    except OSError as exc:
        raise SpecError.single(
            file, None, "", f"cannot read the file: {exc.strerror or exc}", rule="spec.file"
        ) from None
    if len(raw) > MAX_BYTES:  # the file grew after stat
        raise SpecError.single(file, None, "", f"a domain file may have at most {MAX_BYTES} bytes", rule="spec.file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError.single(
            file,
            line,
            "",
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {column}; save the file as UTF-8",
            rule="spec.file",
        ) from None


def _check_events(text: str, file: Path) -> None:
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent):
                raise SpecError.single(
                    file,
                    line,
                    "",
                    f"YAML aliases (*{event.anchor}) are not supported; write the value out",
                    rule="spec.yaml",
                )
            if isinstance(event, yaml.NodeEvent):
                if event.anchor is not None:
                    raise SpecError.single(
                        file,
                        line,
                        "",
                        f"YAML anchors (&{event.anchor}) are not supported; write the value out where it is used",
                        rule="spec.yaml",
                    )
                if getattr(event, "tag", None) is not None:
                    tag = event.tag.replace("tag:yaml.org,2002:", "!!")[:60]
                    raise SpecError.single(
                        file,
                        line,
                        "",
                        f"YAML tags ({tag}) are not supported; remove the tag (quote the value if it is text)",
                        rule="spec.yaml",
                    )
                nodes += 1
                if nodes > MAX_NODES:
                    raise SpecError.single(
                        file,
                        line,
                        "",
                        f"more than {MAX_NODES} YAML values; a domain file never needs that many",
                        rule="spec.yaml",
                    )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise SpecError.single(
                        file, line, "", f"nested more than {MAX_DEPTH} levels deep", rule="spec.yaml"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(file, exc) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        raise SpecError.single(
            file,
            line,
            "",
            f"invalid YAML: the control character U+{code:04X} is not allowed in a YAML file",
            rule="spec.yaml",
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError.single(file, None, "", f"invalid YAML: {exc}", rule="spec.yaml") from None


def _marked_error(file: Path, exc: yaml.MarkedYAMLError) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    message = f"invalid YAML: {exc.problem or exc}"
    if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        # An unclosed bracket or quote fails lines later; say where it was opened.
        message += f" ({exc.context} opened on line {exc.context_mark.line + 1})"
    return SpecError.single(file, line, "", message, rule="spec.yaml")


_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Scalars(yaml.constructor.SafeConstructor):
    """Reads one document's scalars (ints, floats, booleans, nulls as YAML 1.1 does).

    One per document, dropped with it: a constructor remembers every node it has built
    (`constructed_objects`), so a module-level one kept every document ever loaded alive
    (`mesh catalog serve` reloading the mesh grew by hundreds of MB)."""

    def scalar(self, node: yaml.Node) -> Any:
        # Dates stay strings: contracts and descriptors validate them as ISO text.
        if node.tag == _TIMESTAMP_TAG:
            return node.value
        try:
            return self.construct_object(node)
        finally:
            self.constructed_objects.pop(node, None)


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: Path, scalars: _Scalars) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError.single(
                    file,
                    line,
                    format_path(path),
                    "complex keys ('? [a, b]' or '? {a: b}') are not supported; keys are text",
                    rule="spec.yaml",
                )
            if key_node.tag == _MERGE_TAG:
                raise SpecError.single(
                    file,
                    line,
                    format_path(path),
                    "merge keys (<<) are not supported; write the fields out",
                    rule="spec.yaml",
                )
            key = scalars.scalar(key_node)
            if not isinstance(key, str):
                raise SpecError.single(
                    file,
                    line,
                    format_path(path),
                    f"expected a text key, got {type(key).__name__} {key_node.value!r} "
                    "(quote it: YAML reads yes/no/on/off as booleans)",
                    rule="spec.yaml",
                )
            child = (*path, key)
            if key in out:
                raise SpecError.single(file, line, format_path(child), "duplicate key", rule="spec.yaml")
            lines[child] = line
            out[key] = _construct(value_node, child, lines, file, scalars)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines, file, scalars) for i, item in enumerate(node.value)]
    return scalars.scalar(node)
