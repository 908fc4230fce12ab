"""The check model every part shares: a compiled check (`CheckSpec`), its threshold, and
its outcome (`CheckOutcome` with a `Status`). The CLI, the Dagster check results,
`mesh materialize` and the alert sensor all read these; none re-derives a status."""

from __future__ import annotations

import datetime as dt
import enum
import operator
from dataclasses import dataclass, field
from typing import Any

from mesh_platform.specs.contract import SENSITIVE_CLASSIFICATIONS

_OPERATORS = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
OPS = (*_OPERATORS, "between", "not between")  # every Threshold.op


@dataclass(frozen=True)
class Threshold:
    op: str
    value: Any
    unit: str = "rows"  # or "percent"

    def apply(self, measured: Any) -> Any:
        """The comparison on a Python number or an ibis expression alike (& and | work on both)."""
        v = self.value
        if self.op == "between":
            return (measured >= v[0]) & (measured <= v[1])
        if self.op == "not between":
            return (measured < v[0]) | (measured > v[1])
        return _OPERATORS[self.op](measured, v)

    def describe(self) -> str:
        unit = "%" if self.unit == "percent" else ""
        if self.op in ("between", "not between"):
            return f"{self.op} {self.value[0]}{unit} and {self.value[1]}{unit}"
        return f"{self.op} {self.value}{unit}"


NO_FAILING_ROWS = Threshold("==", 0)


@dataclass(frozen=True)
class CheckSpec:
    key: str
    table: str
    columns: tuple[str, ...]
    rule: str  # a name in `registry.RULES`
    dimension: str
    severity: str  # "error" blocks publishing; "warning" does not
    description: str
    threshold: Threshold | None = None
    source_line: int | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    @property
    def kind(self):
        """The rule's registry entry (`registry.RuleKind`)."""
        from mesh_platform.contracts.registry import RULES  # lazy: registry builds its rules from this module

        return RULES[self.rule]

    @property
    def counts_rows(self) -> bool:
        """Whether failing means offending rows (with a count and a sample)."""
        return self.kind.counts_rows


class Status(str, enum.Enum):
    """What a check came to: the one vocabulary of the CLI, Dagster, materialize and alerts."""

    PASSED = "passed"
    FAILED = "failed"  # an error-severity check failed: publishing is blocked
    WARN = "warn"  # a warning-severity check failed: reported, publishing goes on

    @classmethod
    def of(cls, passed: bool, blocking: bool) -> Status:
        if passed:
            return cls.PASSED
        return cls.FAILED if blocking else cls.WARN

    def __str__(self) -> str:
        return self.value


@dataclass
class CheckOutcome:
    """One check's result. `failing_count` / `failing_ratio` / `metric` are None when the
    rule has no such figure (never a sentinel)."""

    spec: CheckSpec
    status: Status
    message: str
    failing_count: int | None = None
    failing_ratio: float | None = None
    metric: float | None = None
    total_rows: int | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    newest: Any = None  # freshness: the newest value of the SLA's column (a date or timestamp)

    @classmethod
    def judged(cls, spec: CheckSpec, passed: bool, message: str, **figures: Any) -> CheckOutcome:
        return cls(spec, Status.of(passed, spec.blocking), message, **figures)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def blocks(self) -> bool:
        """Whether this outcome stops publishing."""
        return self.status is Status.FAILED


def data_time(newest: dt.date | dt.datetime, end: bool = True) -> dt.datetime:
    """When the data is current up to, from the newest value of its time column (UTC when the
    value has no zone): a timestamp is itself; a date covers its whole day, so its data is
    complete at the next midnight (`end=False`: the day's start, to spot a future value)."""
    if isinstance(newest, dt.datetime):
        return newest if newest.tzinfo else newest.replace(tzinfo=dt.UTC)
    day = dt.datetime.combine(newest, dt.time.min, tzinfo=dt.UTC)
    return day + dt.timedelta(days=1) if end else day


def masked_columns(schema_object) -> set[str]:
    """Columns whose classification or tags mark them as personal or restricted."""
    out = set()
    for prop in schema_object.properties or []:
        tags = {t.lower() for t in prop.tags or []}
        if (prop.classification or "").lower() in SENSITIVE_CLASSIFICATIONS or tags & SENSITIVE_CLASSIFICATIONS:
            out.add(prop.physicalName or prop.name)
    return out
