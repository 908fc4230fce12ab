"""What a contract must also be, beyond what the ODCS JSON schema checks: ids, versions and table
names that are identifiers, and schema objects a table can be (at most MAX_COLUMNS columns, no
column twice, a physical type some target has, bounds that are numbers some value can meet).
Each mistake is a Problem at its line; `load_contract` reports them all at once."""

from __future__ import annotations

import math

from mesh_platform.specs.column_types import known_physical_type
from mesh_platform.specs.identifiers import check_identifier
from mesh_platform.specs.yaml_source import YamlDocument


def identifier_problems(doc: YamlDocument) -> list:
    """The contract's id and version and its schema objects' names become file names, check keys
    and table names: each must be an identifier (specs/identifiers.py)."""
    paths: list[tuple] = [("id",), ("version",)]
    schema = doc.data.get("schema")
    for i, obj in enumerate(schema if isinstance(schema, list) else []):
        if isinstance(obj, dict):
            paths += [("schema", i, key) for key in ("name", "physicalName") if obj.get(key) is not None]
    problems = []
    for path in paths:
        value = doc.data
        for part in path:
            value = value[part]
        try:
            check_identifier(value)
        except ValueError as exc:
            problems.append(doc.problem(path, str(exc), rule="spec.identifier"))
    return problems


MAX_COLUMNS = 1000  # per schema object; a wider table is a generated file gone wrong
_BOUNDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
_LENGTHS = ("minLength", "maxLength", "minItems", "maxItems")


def schema_problems(doc: YamlDocument) -> list:
    """What the ODCS schema accepts but no table can be: too many columns, a column twice, two
    key columns at one position, a physical type no target has, bounds that are not numbers or
    that no value can meet."""
    problems = []
    schema = doc.data.get("schema")
    for i, obj in enumerate(schema if isinstance(schema, list) else []):
        props = obj.get("properties") if isinstance(obj, dict) else None
        if not isinstance(props, list):
            continue
        base = ("schema", i, "properties")
        if len(props) > MAX_COLUMNS:
            problems.append(
                doc.problem(
                    base,
                    f"{len(props)} properties; a schema object may have at most {MAX_COLUMNS} columns",
                    rule="spec.limit",
                )
            )
            continue
        names: dict[str, int] = {}
        positions: dict[object, int] = {}
        for j, prop in enumerate(props):
            if not isinstance(prop, dict):
                continue
            name = prop.get("physicalName") or prop.get("name")
            if isinstance(name, str):
                if name in names:
                    field_ = "physicalName" if prop.get("physicalName") else "name"
                    problems.append(
                        doc.problem(
                            (*base, j, field_),
                            f"duplicate column {name!r} (also properties[{names[name]}])",
                            rule="spec.duplicate",
                        )
                    )
                names.setdefault(name, j)
            position = prop.get("primaryKeyPosition")
            if prop.get("primaryKey") is True and isinstance(position, int) and position > 0:
                if position in positions:
                    problems.append(
                        doc.problem(
                            (*base, j, "primaryKeyPosition"),
                            f"primaryKeyPosition {position} is also properties[{positions[position]}]'s: "
                            "each primary-key column needs its own position",
                            rule="spec.duplicate",
                        )
                    )
                positions.setdefault(position, j)
            if prop.get("physicalType") is not None:
                why = known_physical_type(prop["physicalType"])
                if why:
                    problems.append(doc.problem((*base, j, "physicalType"), why, rule="spec.column_type"))
            problems += _option_problems(
                doc,
                (*base, j, "logicalTypeOptions"),
                prop.get("logicalTypeOptions"),
                str(prop.get("logicalType") or "").lower(),
            )
    return problems


def _option_problems(doc: YamlDocument, path: tuple, options: object, logical: str) -> list:
    if not isinstance(options, dict):
        return []
    problems = []
    numeric = logical in ("integer", "number")
    for key in _BOUNDS:
        value = options.get(key)
        if (
            numeric
            and value is not None
            and not isinstance(value, bool)
            and (not isinstance(value, (int, float)) or not math.isfinite(value))
        ):
            problems.append(doc.problem((*path, key), f"expected a finite number, got {value!r}", rule="spec.bounds"))
    for key in _LENGTHS:
        value = options.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            problems.append(
                doc.problem((*path, key), f"expected a whole number >= 0, got {value!r}", rule="spec.bounds")
            )
    if problems:
        return problems
    for low_key, high_key in (("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems")):
        low, high = options.get(low_key), options.get(high_key)
        if (
            isinstance(low, (int, float))
            and isinstance(high, (int, float))
            and not isinstance(low, bool)
            and not isinstance(high, bool)
            and low > high
        ):
            problems.append(
                doc.problem(
                    (*path, high_key),
                    f"{high_key} {high} is below {low_key} {low}: no value can meet both",
                    rule="spec.bounds",
                )
            )
    return problems
