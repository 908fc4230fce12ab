"""The lifecycle fields a descriptor or a contract declares, checked when the file is loaded.

ODPS 1.0.0 and ODCS 3 have no fields for a deprecation, a sunset, a notice period or an
access mode, so they are customProperties (see mesh_platform/lifecycle/states.py). Their
values are read across domains -- a consumer's agreement ends a notice period after the
provider's termination -- so a malformed value is refused with the domain's own files, at
load, where it is written; whatever reads another domain then only sees values that parse.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from mesh_platform.specs.errors import Problem
from mesh_platform.specs.identifiers import PORT_ADDRESS
from mesh_platform.specs.yaml_source import YamlDocument

PROPOSED, DRAFT, ACTIVE, DEPRECATED, RETIRED = "proposed", "draft", "active", "deprecated", "retired"
STATES = (PROPOSED, DRAFT, ACTIVE, DEPRECATED, RETIRED)
DEPRECATION_DATE, SUNSET_DATE, REPLACED_BY = "deprecatedOn", "sunsetDate", "replacedBy"
SUPERSEDED_BY = "supersededBy"
ACCESS, SUNSET_REMINDER, NOTICE_PERIOD = "access", "sunsetReminder", "noticePeriod"
OPEN, APPROVAL_REQUIRED = "open", "approval-required"

# Dates a lifecycle may name: before 1970 or after 2100 is a typo, not a plan.
MIN_DATE, MAX_DATE = date(1970, 1, 1), date(2100, 12, 31)
# The longest period a contract may promise (notice, reminder): ten years.
MAX_PERIOD_DAYS = 3660

_PERIOD = re.compile(
    r"^P(?:(?P<years>\d{1,4})Y)?(?:(?P<months>\d{1,5})M)?(?:(?P<weeks>\d{1,5})W)?"
    r"(?:(?P<days>\d{1,6})D)?$"
)
_ADDRESS = re.compile(PORT_ADDRESS)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_date(value: object) -> date:
    """A calendar date YYYY-MM-DD between 1970 and 2100; ValueError saying what was expected."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"expected a date YYYY-MM-DD, got {_shown(value)}") from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"expected a date between {MIN_DATE} and {MAX_DATE}, got {value}")
    return value


def parse_period(value: object) -> tuple[int, int, int]:
    """(years, months, days) of an ISO-8601 date period (P3M, P1Y6M, P30D, P2W), non-negative and at
    most ten years; ValueError saying what was expected."""
    match = _PERIOD.match(value.upper()) if isinstance(value, str) else None
    if not match or not any(match.groupdict().values()):
        raise ValueError(f"expected an ISO-8601 period like P3M, P1Y or P30D, got {_shown(value)}")
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    days = parts["days"] + 7 * parts["weeks"]
    if parts["years"] * 365 + parts["months"] * 30 + days > MAX_PERIOD_DAYS:
        raise ValueError(f"expected a period of at most ten years ({MAX_PERIOD_DAYS} days), got {_shown(value)}")
    return parts["years"], parts["months"], days


def _state(value: object) -> None:
    if value not in STATES:
        raise ValueError(f"expected a status among {list(STATES)}, got {_shown(value)}")


def _access(value: object) -> None:
    if value not in (OPEN, APPROVAL_REQUIRED):
        raise ValueError(f"expected {OPEN!r} or {APPROVAL_REQUIRED!r}, got {_shown(value)}")


def _address(value: object) -> None:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ValueError(f"expected '<domain>.<product>.<port>' (lower_snake_case parts), got {_shown(value)}")


_CHECKS = {
    DEPRECATION_DATE: parse_date,
    SUNSET_DATE: parse_date,
    NOTICE_PERIOD: parse_period,
    SUNSET_REMINDER: parse_period,
    ACCESS: _access,
    REPLACED_BY: _address,
}


def lifecycle_problems(doc: YamlDocument) -> list[Problem]:
    """Every malformed lifecycle field of one descriptor or contract, each at its line."""
    problems = []
    data: Any = doc.data
    if "status" in data:
        try:
            _state(data["status"])
        except ValueError as exc:
            problems.append(doc.problem(("status",), str(exc), "spec.lifecycle_field"))
    properties = data.get("customProperties")
    for i, prop in enumerate(properties if isinstance(properties, list) else []):
        if not isinstance(prop, dict):
            continue
        check = _CHECKS.get(prop.get("property"))  # type: ignore[arg-type]
        if check is None or prop.get("value") is None:
            continue
        try:
            check(prop["value"])
        except ValueError as exc:
            problems.append(doc.problem(("customProperties", i, "value"), str(exc), "spec.lifecycle_field"))
    return problems
