"""A deprecated output port announces its end: a sunset date at least the contract's notice
period after it was deprecated, and the contract that supersedes it, published beside it."""

from __future__ import annotations

import calendar
import re
from datetime import date

from mesh_platform.governance.naming_scheme import sunset_of
from mesh_platform.governance.policies.where import port_finding
from mesh_platform.governance.registry import Policy, register

_ISO_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def add_period(start: date, period: str) -> date:
    """start + an ISO-8601 date period (P3M, P1Y6M, P90D); months are calendar months."""
    match = _ISO_PERIOD.match(str(period).strip().upper())
    if not match or not any(match.groups()):
        raise ValueError(f"expected an ISO-8601 period like P3M or P90D, got {period!r}")
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    month_index = start.month - 1 + months + 12 * years
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date.fromordinal(date(year, month, day).toordinal() + 7 * weeks + days)


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@register
class DeprecationNotice(Policy):
    name = "deprecation-notice"
    description = (
        "a deprecated port's contract has deprecatedOn, a sunsetDate at least its noticePeriod later, "
        "and supersededBy naming a contract of a port published beside it"
    )

    def claims(self, problem) -> bool:
        """The lifecycle rules in the one validation check the same dates: report them here."""
        text = f"{problem.field} {problem.message}"
        return any(
            word in text for word in ("deprecatedOn", "sunsetDate", "replacedBy", "supersededBy", "a deprecated port")
        )

    def check_port(self, ctx, port):
        contract = port.contract
        if (contract.model.status or "").lower() != "deprecated":
            return
        deprecated_on, sunset = _date(contract.custom("deprecatedOn")), sunset_of(port)
        if deprecated_on is None or sunset is None:
            yield port_finding(
                port,
                f"contract {contract.id!r} is deprecated but lacks customProperties "
                "deprecatedOn and sunsetDate (ISO dates)",
                "customProperties",
            )
            return
        notice = contract.notice_period or "P0D"
        try:
            earliest = add_period(deprecated_on, notice)
        except ValueError as exc:
            yield port_finding(port, f"noticePeriod: {exc}", "customProperties")
            return
        if sunset < earliest:
            yield port_finding(
                port,
                f"sunsetDate {sunset.isoformat()} is less than the notice period {notice} "
                f"after deprecatedOn {deprecated_on.isoformat()} (earliest {earliest.isoformat()})",
                "customProperties",
            )
        successor = contract.custom("supersededBy")
        beside = {p.contract.id for p in port.product.ports if p is not port}
        if successor not in beside:
            yield port_finding(
                port,
                f"supersededBy {successor!r} is not the contract of another output port of "
                f"{port.product.address} (ports' contracts: "
                f"{', '.join(sorted(beside)) or 'none'})",
                "customProperties",
            )
