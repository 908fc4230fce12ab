"""Compile an ODCS contract into check specs: one per rule, each with a stable key.

The key is `<table>__<column>__<rule>` (`table` stands for the column of table-level
rules; composite keys join their columns with `_`). Keys are the asset check names
in Dagster, so they must not change when a contract is reformatted.

Which ODCS construct compiles to which rule is listed in `registry.RULES` (each entry's
`odcs`): the schema's property list (`schema`), types (`type`), `required`, `unique`,
`primaryKey`, `enum`, `logicalTypeOptions` (one rule per option), library metrics,
`type: sql` rules, `relationships` and `slaProperties` freshness / retention.

Everything that can be wrong with a rule is reported here, at load time, with the
file and line: an unknown metric, a write statement in a sql rule, a relationship
to a column that does not exist.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from open_data_contract_standard.model import SchemaObject, SchemaProperty

from mesh_platform.contracts.compile_common import _col, _name
from mesh_platform.contracts.compile_quality import QualityRules
from mesh_platform.contracts.compile_relationships import RelationshipRules
from mesh_platform.contracts.compile_sla import SlaRules
from mesh_platform.contracts.model import NO_FAILING_ROWS, CheckSpec, Threshold
from mesh_platform.contracts.registry import OPTION_RULES, RULES, STRING_FORMATS
from mesh_platform.specs.contract import Contract
from mesh_platform.specs.errors import Problem, SpecError
from mesh_platform.specs.yaml_source import format_path

SEVERITIES = {
    "error": "error",
    "critical": "error",
    "blocking": "error",
    "warning": "warning",
    "warn": "warning",
    "info": "warning",
}

LOGICAL_TYPES = {
    "string",
    "date",
    "timestamp",
    "time",
    "number",
    "integer",
    "object",
    "array",
    "boolean",
    "map",
    "vector",
}


TYPE_CHECKS = "typeChecks"  # contract customProperty: "per-column" adds a `type` check per column


def compile_contract(contract: Contract, table: str) -> list[CheckSpec]:
    """Every rule of the schema object `table` in `contract`, as check specs."""
    index = contract.schema_index(table)
    if index is None:
        raise contract.doc.error(
            ("schema",), f"expected a schema object named {table!r}", rule="spec.schema_object_missing"
        )
    obj = contract.model.schema_[index]
    ctx = _Ctx(contract, obj, ("schema", index))
    specs: list[CheckSpec] = []
    specs.extend(ctx.schema_rules())
    specs.extend(ctx.type_rules())
    specs.extend(ctx.property_rules())
    for q_index, quality in enumerate(obj.quality or []):
        if (quality.type or "").lower() != "text":  # prose for humans, nothing to run
            specs.append(ctx.quality_rule(quality, None, (*ctx.base, "quality", q_index)))
    for p_index, prop in enumerate(obj.properties or []):
        for q_index, quality in enumerate(prop.quality or []):
            if (quality.type or "").lower() == "text":
                continue
            path = (*ctx.base, "properties", p_index, "quality", q_index)
            specs.append(ctx.quality_rule(quality, _col(prop), path))
    specs.extend(ctx.relationship_rules())
    specs.extend(ctx.sla_rules())
    _ensure_unique_keys(contract, specs)
    return specs


def _key(table: str, columns: tuple[str, ...] | None, rule: str) -> str:
    column = "_".join(columns) if columns else "table"
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{table}__{column}__{rule}")


class _Ctx(QualityRules, RelationshipRules, SlaRules):
    """One schema object being compiled: where things are, for errors that name a line."""

    def __init__(self, contract: Contract, obj: SchemaObject, base: tuple):
        self.contract = contract
        self.obj = obj
        self.base = base
        self.table = _name(obj)
        self.props = {_col(p): (i, p) for i, p in enumerate(obj.properties or [])}

    def line(self, path: tuple) -> int | None:
        return self.contract.doc.line_of(path)

    def fail(self, path: tuple, message: str) -> SpecError:
        return SpecError([Problem(self.contract.file, self.line(path), _dotted(path), message, rule="contract.rule")])

    def spec(
        self,
        columns: tuple[str, ...],
        rule: str,
        description: str,
        path: tuple,
        *,
        key_rule: str | None = None,
        severity: str = "error",
        dimension: str | None = None,
        threshold: Threshold | None = None,
        **params: Any,
    ) -> CheckSpec:
        RULES[rule].check_params(params)
        return CheckSpec(
            _key(self.table, columns or None, key_rule or rule),
            self.table,
            columns,
            rule,
            (dimension or RULES[rule].dimension).lower(),
            severity,
            description,
            threshold,
            self.line(path),
            params,
        )

    # --- the schema itself ----------------------------------------------------------------

    def schema_rules(self) -> list[CheckSpec]:
        """One `schema` check: the columns, in name and type, are exactly the contract's
        (a type drift names each retyped column)."""
        expected = {
            name: {"logicalType": prop.logicalType, "physicalType": prop.physicalType}
            for name, (_, prop) in self.props.items()
        }
        if not expected:
            return []
        return [
            self.spec(
                (),
                "schema",
                f"columns are exactly {', '.join(expected)} (no drift)",
                (*self.base, "properties"),
                threshold=NO_FAILING_ROWS,
                expected=expected,
            )
        ]

    def type_rules(self) -> list[CheckSpec]:
        """One `type` check per typed column (see the `type` entry in `registry`), only when
        the contract asks: customProperties `typeChecks: per-column`. Otherwise the `schema`
        check already judges every column's type, and a check per column would only add a
        Dagster check and an event per column to every run."""
        if str(self.contract.custom(TYPE_CHECKS) or "").lower() != "per-column":
            return []
        specs = []
        for name, (i, prop) in self.props.items():
            if prop.logicalType or prop.physicalType:
                wanted = " / ".join(t for t in (prop.logicalType, prop.physicalType) if t)
                specs.append(
                    self.spec(
                        (name,),
                        "type",
                        f"{name} has type {wanted}",
                        (*self.base, "properties", i),
                        threshold=NO_FAILING_ROWS,
                        logical_type=prop.logicalType,
                        physical_type=prop.physicalType,
                    )
                )
        return specs

    # --- rules written on properties --------------------------------------------------------

    def property_rules(self) -> list[CheckSpec]:
        specs = []
        pk: list[tuple[int, str]] = []
        for name, (i, prop) in self.props.items():
            path = (*self.base, "properties", i)
            if prop.primaryKey:
                pk.append((prop.primaryKeyPosition if (prop.primaryKeyPosition or -1) > 0 else i + 1, name))
            if prop.required:
                specs.append(
                    self.spec((name,), "not_null", f"{name} is required (no nulls)", path, threshold=NO_FAILING_ROWS)
                )
            if prop.unique:
                specs.append(self.spec((name,), "unique", f"{name} is unique", path, threshold=NO_FAILING_ROWS))
            specs.extend(self.option_rules(name, prop, path))
            if prop.enum:
                values = [e.value for e in prop.enum]
                specs.append(
                    self.spec(
                        (name,),
                        "enum",
                        f"{name} is one of {values}",
                        (*path, "enum"),
                        threshold=NO_FAILING_ROWS,
                        values=values,
                    )
                )
        if pk:
            columns = tuple(c for _, c in sorted(pk))
            specs.append(
                self.spec(
                    columns,
                    "primary_key",
                    f"primary key ({', '.join(columns)}) is non-null and unique",
                    (*self.base, "properties"),
                    threshold=NO_FAILING_ROWS,
                )
            )
        return specs

    def option_rules(self, name: str, prop: SchemaProperty, path: tuple) -> list[CheckSpec]:
        options = prop.logicalTypeOptions or {}
        logical = (prop.logicalType or "").lower()
        specs = []
        for option, value in options.items():
            opath = (*path, "logicalTypeOptions", option)
            kind = OPTION_RULES.get(option)
            if kind is None:
                continue  # descriptive options (timezone, defaultTimezone, integer/number format)
            if option == "format":
                if logical != "string":
                    continue  # a date/timestamp format describes text renderings, not stored values
                if value not in STRING_FORMATS:
                    raise self.fail(
                        opath,
                        f"cannot check string format {value!r}; expected one of "
                        f"{sorted(STRING_FORMATS)} (or use `pattern`)",
                    )
            if option == "pattern":
                try:
                    re.compile(value)
                except re.error as exc:
                    raise self.fail(opath, f"invalid regular expression {value!r}: {exc}") from None
            if option in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                if logical in ("date", "timestamp", "time"):
                    value = self._temporal_literal(logical, value, opath)
                elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise self.fail(opath, f"expected a finite number, got {value!r}")
            specs.append(
                self.spec(
                    (name,),
                    kind.name,
                    f"{name} {kind.option_words} {value}",
                    opath,
                    threshold=NO_FAILING_ROWS,
                    value=value,
                    logical_type=logical,
                )
            )
        return specs

    def _temporal_literal(self, logical: str, value: Any, path: tuple) -> Any:
        try:
            if logical == "date":
                return dt.date.fromisoformat(str(value))
            if logical == "time":
                return dt.time.fromisoformat(str(value))
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise self.fail(path, f"expected an ISO-8601 {logical}, got {value!r}") from None

    def severity(self, raw: str | None, path: tuple) -> str:
        severity = SEVERITIES.get((raw or "error").lower())
        if severity is None:
            raise self.fail((*path, "severity"), f"expected one of {sorted(SEVERITIES)}, got {raw!r}")
        return severity

    def known_columns(self, columns: tuple[str, ...], path: tuple) -> None:
        for c in columns:
            if self.props and c not in self.props:
                raise self.fail(path, f"column {c!r} is not a property of {self.table!r}")


def _ensure_unique_keys(contract: Contract, specs: list[CheckSpec]) -> None:
    seen: dict[str, CheckSpec] = {}
    for spec in specs:
        if spec.key in seen:
            raise SpecError(
                [
                    Problem(
                        contract.file,
                        spec.source_line,
                        spec.key,
                        f"two rules compile to the same check key (also line "
                        f"{seen[spec.key].source_line}); give one an `id`",
                        rule="contract.duplicate_key",
                    )
                ]
            )
        seen[spec.key] = spec


def _dotted(path: tuple) -> str:
    return format_path(path)
