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
from datetime import timedelta
from typing import Any

from open_data_contract_standard.model import DataQuality, SchemaObject, SchemaProperty

from mesh_platform.contracts.model import NO_FAILING_ROWS, CheckSpec, Threshold
from mesh_platform.contracts.registry import LIBRARY_METRICS, OPTION_RULES, RULES, STRING_FORMATS
from mesh_platform.contracts.sql_rules import ReadOnlyError, validate_read_only
from mesh_platform.specs.contract import Contract
from mesh_platform.specs.durations import UnitError, format_duration, parse_duration
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
        raise contract.doc.error(("schema",), f"expected a schema object named {table!r}")
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


def _name(obj: SchemaObject) -> str:
    return obj.physicalName or obj.name


def _col(prop: SchemaProperty) -> str:
    return prop.physicalName or prop.name


def _key(table: str, columns: tuple[str, ...] | None, rule: str) -> str:
    column = "_".join(columns) if columns else "table"
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{table}__{column}__{rule}")


class _Ctx:
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
        return SpecError([Problem(self.contract.file, self.line(path), _dotted(path), message)])

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

    # --- quality rules ----------------------------------------------------------------------

    def quality_rule(self, q: DataQuality, column: str | None, path: tuple) -> CheckSpec:
        kind = (q.type or "library").lower()
        if kind == "sql":
            return self.sql_rule(q, column, path)
        metric = q.metric or q.rule
        if kind != "library" or metric not in LIBRARY_METRICS:
            raise self.fail(
                path,
                f"unsupported quality rule (type {q.type!r}, metric {metric!r}); "
                f"expected type sql, or type library with metric one of {sorted(LIBRARY_METRICS)}",
            )
        rule = LIBRARY_METRICS[metric].name
        threshold = self.threshold(q, path, LIBRARY_METRICS[metric].default_threshold, counts=True)
        columns: tuple[str, ...] = (column,) if column else ()
        args = q.arguments or {}
        if not isinstance(args, dict):
            raise self.fail((*path, "arguments"), f"expected a mapping of arguments, got {_shown(args)}")
        if "properties" in args:
            listed = args["properties"]
            if not isinstance(listed, list) or not listed or not all(isinstance(c, str) and c for c in listed):
                raise self.fail(
                    (*path, "arguments", "properties"),
                    f"expected a non-empty list of column names, got {_shown(listed)}",
                )
            columns = tuple(listed)
        if rule != "row_count" and not columns:
            raise self.fail(
                path, f"metric {metric} needs a column: put it under a property's quality, or give arguments.properties"
            )
        if rule in ("null_values", "missing_values", "invalid_values") and len(columns) != 1:
            raise self.fail(path, f"metric {metric} checks one column, got {list(columns)}")
        self.known_columns(columns, path)
        params: dict[str, Any] = {}
        if rule == "missing_values":
            missing = args.get("missingValues", [None, ""])
            if not isinstance(missing, list):
                raise self.fail(
                    (*path, "arguments", "missingValues"), f"expected a list of values, got {_shown(missing)}"
                )
            params["missing"] = [v for v in missing if v is not None]
        if rule == "invalid_values":
            if "validValues" in args:
                if not isinstance(args["validValues"], list) or not args["validValues"]:
                    raise self.fail((*path, "arguments", "validValues"), "expected a non-empty list of values")
                params["valid"] = list(args["validValues"])
            elif "pattern" in args:
                try:
                    re.compile(args["pattern"])
                except (re.error, TypeError) as exc:
                    raise self.fail((*path, "arguments", "pattern"), f"invalid regular expression: {exc}") from None
                params["pattern"] = args["pattern"]
            else:
                raise self.fail(
                    (*path, "arguments"),
                    "metric invalidValues needs arguments.validValues "
                    "(a list) or arguments.pattern (a regular expression)",
                )
        return self.spec(
            columns,
            rule,
            q.description or q.name or f"{metric} {threshold.describe()}",
            path,
            key_rule=q.id or rule,
            severity=self.severity(q.severity, path),
            dimension=q.dimension,
            threshold=threshold,
            **params,
        )

    def sql_rule(self, q: DataQuality, column: str | None, path: tuple) -> CheckSpec:
        query = q.query or ""
        try:
            validate_read_only(query, self.table, column, columns=self.props)
        except ReadOnlyError as exc:
            raise self.fail((*path, "query"), str(exc)) from None
        threshold = self.threshold(q, path, None)
        columns = (column,) if column else ()
        return self.spec(
            columns,
            "sql",
            q.description or q.name or f"sql rule {threshold.describe()}",
            path,
            key_rule=q.id or "sql",
            severity=self.severity(q.severity, path),
            dimension=q.dimension,
            threshold=threshold,
            query=query,
            schema_columns=list(self.props),
        )

    def threshold(self, q: DataQuality, path: tuple, default: Threshold | None, counts: bool = False) -> Threshold:
        """`counts`: the rule measures a count of rows (or its percentage), never negative."""
        given = [(field_, op) for field_, op in COMPARATORS.items() if getattr(q, field_) is not None]
        if len(given) > 1:
            raise self.fail(path, f"expected one comparator, got {[f for f, _ in given]}")
        unit = (q.unit or "rows").lower()
        if unit not in ("rows", "percent"):
            raise self.fail((*path, "unit"), f"expected 'rows' or 'percent', got {q.unit!r}")
        if given:
            field_, op = given[0]
            value = getattr(q, field_)
            self._check_threshold(value, field_, unit, (*path, field_), counts)
            return Threshold(op, value, unit)
        if default is None:
            raise self.fail(path, f"expected a comparator, one of {list(COMPARATORS)}")
        return Threshold(default.op, default.value, unit)

    def _check_threshold(self, value: Any, field_: str, unit: str, path: tuple, counts: bool) -> None:
        """A threshold some measurement can meet: finite numbers, a count or percentage is never
        negative, a percentage is 0 to 100, a range goes from low to high."""
        between = field_ in ("mustBeBetween", "mustNotBeBetween")
        numbers = value if between else [value]
        if between and (not isinstance(value, list) or len(value) != 2):
            raise self.fail(path, f"expected two numbers [low, high], got {_shown(value)}")
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
                raise self.fail(path, f"expected a finite number, got {_shown(number)}")
            if number < 0 and (counts or unit == "percent"):
                raise self.fail(path, f"expected a number >= 0 (a count of {unit} is never negative), got {number}")
            if unit == "percent" and number > 100:
                raise self.fail(path, f"expected a percentage between 0 and 100, got {number}")
        if between and numbers[0] > numbers[1]:
            raise self.fail(
                path,
                f"expected [low, high] with low <= high, got {_shown(value)}: no value is "
                f"between {numbers[0]} and {numbers[1]}",
            )

    def severity(self, raw: str | None, path: tuple) -> str:
        severity = SEVERITIES.get((raw or "error").lower())
        if severity is None:
            raise self.fail((*path, "severity"), f"expected one of {sorted(SEVERITIES)}, got {raw!r}")
        return severity

    def known_columns(self, columns: tuple[str, ...], path: tuple) -> None:
        for c in columns:
            if self.props and c not in self.props:
                raise self.fail(path, f"column {c!r} is not a property of {self.table!r}")

    # --- relationships ----------------------------------------------------------------------

    def relationship_rules(self) -> list[CheckSpec]:
        specs = []
        for r_index, rel in enumerate(self.obj.relationships or []):
            path = (*self.base, "relationships", r_index)
            from_ = rel.from_ if isinstance(rel.from_, list) else [rel.from_]
            specs.append(self.relationship(rel, [self._from_column(f, (*path, "from")) for f in from_], path))
        for name, (i, prop) in self.props.items():
            for r_index, rel in enumerate(prop.relationships or []):
                specs.append(self.relationship(rel, [name], (*self.base, "properties", i, "relationships", r_index)))
        return specs

    def _from_column(self, ref: str, path: tuple) -> str:
        parts = ref.split(".")
        if len(parts) == 2 and parts[0] in (self.table, self.obj.name) and parts[1] in self.props:
            return parts[1]
        if len(parts) == 1 and parts[0] in self.props:
            return parts[0]
        raise self.fail(path, f"expected `{self.table}.<column>` naming a property of {self.table!r}, got {ref!r}")

    def relationship(self, rel, from_cols: list[str], path: tuple) -> CheckSpec:
        if (rel.type or "foreignKey") != "foreignKey":
            raise self.fail((*path, "type"), f"expected 'foreignKey', got {rel.type!r}")
        to = rel.to if isinstance(rel.to, list) else [rel.to]
        if len(to) != len(from_cols):
            raise self.fail((*path, "to"), f"expected {len(from_cols)} target column(s) to match {from_cols}, got {to}")
        targets = [self._target(t, (*path, "to")) for t in to]
        if len({t[0] for t in targets}) != 1:
            raise self.fail((*path, "to"), f"all target columns must be in one table, got {to}")
        target, _ = targets[0]
        to_cols = [c for _, c in targets]
        columns = tuple(from_cols)
        return self.spec(
            columns,
            "relationship",
            f"every ({', '.join(columns)}) exists in {target} ({', '.join(to_cols)})",
            path,
            key_rule=rel.id or "relationship",
            threshold=NO_FAILING_ROWS,
            target=target,
            to_columns=to_cols,
            external=target.count(".") == 2,
        )

    def _target(self, ref: str, path: tuple) -> tuple[str, str]:
        """(`<domain>.<product>.<port>` or a schema object of this contract, column)."""
        parts = (ref or "").split(".")
        if len(parts) == 4 and all(parts):
            return ".".join(parts[:3]), parts[3]
        if len(parts) == 2 and all(parts):
            obj = self.contract.schema_object(parts[0])
            if obj is None:
                raise self.fail(
                    path,
                    f"{parts[0]!r} is not a schema object of this contract; expected "
                    "`<table>.<column>` in this contract or `<domain>.<product>.<port>.<column>`",
                )
            if parts[1] not in {_col(p) for p in obj.properties or []}:
                raise self.fail(path, f"column {parts[1]!r} is not a property of {parts[0]!r}")
            return _name(obj), parts[1]
        raise self.fail(
            path,
            f"expected `<domain>.<product>.<port>.<column>` (another output port) or "
            f"`<table>.<column>` (this contract), got {ref!r}",
        )

    # --- SLA on a timestamp column ----------------------------------------------------------

    def sla_rules(self) -> list[CheckSpec]:
        model = self.contract.model
        specs = []
        for i, sla in enumerate(model.slaProperties or []):
            kind = (sla.property or "").lower()
            if kind not in ("freshness", "retention"):
                continue
            path = ("slaProperties", i)
            try:  # checked even when no column is named: a promise nobody can read is still wrong
                window = _sla_window(sla.value, sla.unit)
            except UnitError as exc:
                raise self.fail((*path, "unit"), str(exc)) from None
            except ValueError as exc:
                raise self.fail((*path, "value"), str(exc)) from None
            element = sla.element or model.slaDefaultElement
            if not element:
                continue  # freshness of the materialisation only (the Dagster freshness policy)
            column = self._element_column(element, (*path, "element") if sla.element else ("slaDefaultElement",))
            if column is None:
                continue  # the SLA names another schema object of this contract
            custom = {c.property: c.value for c in sla.customProperties or []}
            severity = self.severity(custom.get("severity", "warning"), (*path, "customProperties"))
            what = "the newest" if kind == "freshness" else "every"
            specs.append(
                self.spec(
                    (column,),
                    kind,
                    f"{what} {column} is at most {format_duration(window)} old",
                    path,
                    severity=severity,
                    threshold=Threshold("<=", window.total_seconds() / 3600.0)
                    if kind == "freshness"
                    else NO_FAILING_ROWS,
                    window_seconds=window.total_seconds(),
                )
            )
        return specs

    def _element_column(self, element: str, path: tuple) -> str | None:
        parts = element.split(".")
        if len(parts) == 2:
            if parts[0] not in (self.table, self.obj.name):
                return None
            name = parts[1]
        elif len(parts) == 1:
            name = parts[0]
        else:
            raise self.fail(path, f"expected `<table>.<column>`, got {element!r}")
        if name not in self.props:
            raise self.fail(path, f"column {name!r} is not a property of {self.table!r}")
        logical = (self.props[name][1].logicalType or "").lower()
        if logical not in ("timestamp", "date"):
            raise self.fail(
                path, f"freshness and retention need a timestamp or date column; {name!r} is {logical or 'untyped'}"
            )
        return name


_LONG_UNITS = {"y": 365, "yr": 365, "yrs": 365, "year": 365, "years": 365, "mo": 30, "month": 30, "months": 30}


MAX_RETENTION_DAYS = 36_600  # a hundred years: longer is a typo (and overflows timedelta soon after)


def _sla_window(value: Any, unit: str | None) -> timedelta:
    """An SLA duration; retention is usually written in years or months (365 / 30 days each)."""
    if (
        isinstance(unit, str)
        and unit.lower() in _LONG_UNITS
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        days = value * _LONG_UNITS[unit.lower()] if math.isfinite(value) else math.inf
        if not 0 < days <= MAX_RETENTION_DAYS:
            raise ValueError(
                f"expected a positive duration of at most {MAX_RETENTION_DAYS // 366} years, got {_shown(value)} {unit}"
            )
        return timedelta(days=days)
    return parse_duration(value, unit)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
                    )
                ]
            )
        seen[spec.key] = spec


def _dotted(path: tuple) -> str:
    return format_path(path)
