"""The contract compiler's quality rules (`quality:` library metrics and `type: sql` rules), their
thresholds and severities: methods of the compiler's context (compiler._Ctx)."""

from __future__ import annotations

import math
import re
from typing import Any

from open_data_contract_standard.model import DataQuality

from mesh_platform.contracts.compile_common import _shown
from mesh_platform.contracts.model import CheckSpec, Threshold
from mesh_platform.contracts.registry import LIBRARY_METRICS
from mesh_platform.contracts.sql_rules import ReadOnlyError, validate_read_only

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


class QualityRules:
    """Quality rules of one schema object; `self` is a compiler._Ctx."""

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
