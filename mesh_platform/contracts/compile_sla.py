"""The contract compiler's `slaProperties` rules (freshness and retention on a timestamp column):
methods of the compiler's context (compiler._Ctx)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from mesh_platform.contracts.compile_common import _shown
from mesh_platform.contracts.model import NO_FAILING_ROWS, CheckSpec, Threshold
from mesh_platform.specs.durations import UnitError, format_duration, parse_duration


class SlaRules:
    """SLA rules of one schema object; `self` is a compiler._Ctx."""

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
