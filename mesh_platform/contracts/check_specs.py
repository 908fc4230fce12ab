"""Compile an ODCS contract into check specs: one per rule, each with a stable key.

The key is `<table>__<column>__<rule>` (`table` stands for the column of table-level
rules; composite keys join their columns with `_`). Keys are the asset check names
in Dagster, so they must not change when a contract is reformatted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from open_data_contract_standard.model import DataQuality, SchemaObject

from mesh_platform.specs.contract import Contract
from mesh_platform.specs.errors import SpecError, SpecProblem

SEVERITIES = {"error": "error", "critical": "error", "blocking": "error",
              "warning": "warning", "warn": "warning", "info": "warning"}

COMPARATORS = {
    "mustBe": "==",
    "mustNotBe": "!=",
    "mustBeGreaterThan": ">",
    "mustBeGreaterOrEqualTo": ">=",
    "mustBeLessThan": "<",
    "mustBeLessOrEqualTo": "<=",
    "mustBeBetween": "between",
    "mustNotBeBetween": "not between",
}

# library metric -> (rule name, default threshold when the contract names none)
LIBRARY_METRICS = {
    "rowCount": ("row_count", None),
    "nullValues": ("null_values", ("==", 0)),
    "duplicateValues": ("duplicate_values", ("==", 0)),
}


@dataclass(frozen=True)
class Threshold:
    op: str
    value: Any
    unit: str = "rows"  # or "percent"

    def holds(self, metric: float) -> bool:
        v = self.value
        return {
            "==": lambda: metric == v,
            "!=": lambda: metric != v,
            ">": lambda: metric > v,
            ">=": lambda: metric >= v,
            "<": lambda: metric < v,
            "<=": lambda: metric <= v,
            "between": lambda: v[0] <= metric <= v[1],
            "not between": lambda: not (v[0] <= metric <= v[1]),
        }[self.op]()

    def describe(self) -> str:
        unit = "%" if self.unit == "percent" else ""
        if self.op in ("between", "not between"):
            return f"{self.op} {self.value[0]}{unit} and {self.value[1]}{unit}"
        return f"{self.op} {self.value}{unit}"


@dataclass(frozen=True)
class CheckSpec:
    key: str
    table: str
    columns: tuple[str, ...]
    rule: str
    dimension: str
    severity: str  # "error" blocks publishing; "warning" does not
    description: str
    threshold: Threshold | None = None
    source_line: int | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def blocking(self) -> bool:
        return self.severity == "error"


def compile_contract(contract: Contract, table: str) -> list[CheckSpec]:
    """Every rule of the schema object `table` in `contract`, as check specs."""
    index = contract.schema_index(table)
    if index is None:
        raise contract.doc.error(("schema",), f"expected a schema object named {table!r}")
    obj = contract.model.schema_[index]
    specs: list[CheckSpec] = []
    base = ("schema", index)
    specs.extend(_property_rules(contract, obj, base))
    for q_index, quality in enumerate(obj.quality or []):
        specs.append(_quality_rule(contract, obj, quality, None, (*base, "quality", q_index)))
    for p_index, prop in enumerate(obj.properties or []):
        for q_index, quality in enumerate(prop.quality or []):
            path = (*base, "properties", p_index, "quality", q_index)
            specs.append(_quality_rule(contract, obj, quality, prop.name, path))
    _ensure_unique_keys(contract, specs)
    return specs


def _name(obj: SchemaObject) -> str:
    return obj.physicalName or obj.name


def _key(table: str, columns: tuple[str, ...] | None, rule: str) -> str:
    column = "_".join(columns) if columns else "table"
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{table}__{column}__{rule}")


def _property_rules(contract: Contract, obj: SchemaObject, base: tuple) -> list[CheckSpec]:
    table = _name(obj)
    specs = []
    pk: list[tuple[int, str]] = []
    for i, prop in enumerate(obj.properties or []):
        column = prop.physicalName or prop.name
        line = contract.doc.line_of((*base, "properties", i))
        if prop.primaryKey:
            pk.append((prop.primaryKeyPosition or i + 1, column))
        if prop.required:
            specs.append(CheckSpec(_key(table, (column,), "not_null"), table, (column,), "not_null",
                                   "completeness", "error", f"{column} is required (no nulls)",
                                   source_line=line))
        if prop.unique:
            specs.append(CheckSpec(_key(table, (column,), "unique"), table, (column,), "unique",
                                   "uniqueness", "error", f"{column} is unique", source_line=line))
    if pk:
        columns = tuple(c for _, c in sorted(pk))
        specs.append(CheckSpec(_key(table, columns, "primary_key"), table, columns, "primary_key",
                               "uniqueness", "error",
                               f"primary key ({', '.join(columns)}) is non-null and unique",
                               source_line=contract.doc.line_of((*base, "properties"))))
    return specs


def _quality_rule(contract: Contract, obj: SchemaObject, q: DataQuality, column: str | None,
                  path: tuple) -> CheckSpec:
    table = _name(obj)
    line = contract.doc.line_of(path)
    metric = q.metric or q.rule
    if (q.type or "library") != "library" or metric not in LIBRARY_METRICS:
        raise SpecError([SpecProblem(contract.file, line, _dotted(path),
                                     f"unsupported quality rule (type {q.type!r}, metric {metric!r}); "
                                     f"expected type library with metric one of {sorted(LIBRARY_METRICS)}")])
    rule, default = LIBRARY_METRICS[metric]
    threshold = _threshold(contract, q, path, default)
    columns: tuple[str, ...] = (column,) if column else ()
    args = q.arguments or {}
    if "properties" in args:
        columns = tuple(args["properties"])
    if rule in ("null_values", "duplicate_values") and not columns:
        raise SpecError([SpecProblem(contract.file, line, _dotted(path),
                                     f"metric {metric} needs a column: put it under a property's quality, "
                                     "or give arguments.properties")])
    severity = SEVERITIES.get((q.severity or "error").lower())
    if severity is None:
        raise SpecError([SpecProblem(contract.file, contract.doc.line_of((*path, "severity")),
                                     _dotted((*path, "severity")),
                                     f"expected one of {sorted(SEVERITIES)}, got {q.severity!r}")])
    known = set(obj.properties and [p.physicalName or p.name for p in obj.properties] or [])
    for c in columns:
        if known and c not in known:
            raise SpecError([SpecProblem(contract.file, line, _dotted(path),
                                         f"column {c!r} is not a property of {table!r}")])
    return CheckSpec(
        key=_key(table, columns or None, q.id or rule),
        table=table, columns=columns, rule=rule,
        dimension=(q.dimension or _default_dimension(rule)).lower(),
        severity=severity,
        description=q.description or q.name or f"{metric} {threshold.describe()}",
        threshold=threshold, source_line=line,
    )


def _threshold(contract: Contract, q: DataQuality, path: tuple, default) -> Threshold:
    given = [(field_, op) for field_, op in COMPARATORS.items() if getattr(q, field_) is not None]
    if len(given) > 1:
        raise SpecError([SpecProblem(contract.file, contract.doc.line_of(path), _dotted(path),
                                     f"expected one comparator, got {[f for f, _ in given]}")])
    unit = (q.unit or "rows").lower()
    if unit not in ("rows", "percent"):
        raise SpecError([SpecProblem(contract.file, contract.doc.line_of((*path, "unit")),
                                     _dotted((*path, "unit")), f"expected 'rows' or 'percent', got {q.unit!r}")])
    if given:
        field_, op = given[0]
        return Threshold(op, getattr(q, field_), unit)
    if default is None:
        raise SpecError([SpecProblem(contract.file, contract.doc.line_of(path), _dotted(path),
                                     f"expected a comparator, one of {list(COMPARATORS)}")])
    return Threshold(default[0], default[1], unit)


def _default_dimension(rule: str) -> str:
    return {"row_count": "completeness", "null_values": "completeness",
            "duplicate_values": "uniqueness"}.get(rule, "conformity")


def _ensure_unique_keys(contract: Contract, specs: list[CheckSpec]) -> None:
    seen: dict[str, CheckSpec] = {}
    for spec in specs:
        if spec.key in seen:
            raise SpecError([SpecProblem(contract.file, spec.source_line, spec.key,
                                         f"two rules compile to the same check key (also line "
                                         f"{seen[spec.key].source_line}); give one an `id`")])
        seen[spec.key] = spec


def _dotted(path: tuple) -> str:
    from mesh_platform.specs.yaml_source import format_path

    return format_path(path)
