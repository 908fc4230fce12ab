"""A deprecated output port announces its end: a sunset date at least the contract's notice
period after it was deprecated, and the contract that supersedes it, published beside it."""

from __future__ import annotations

from datetime import date

from mesh_platform.governance.naming_scheme import sunset_of
from mesh_platform.governance.policies.where import port_problem
from mesh_platform.governance.registry import Policy, register
from mesh_platform.specs.periods import add_period  # the one calendar for notice periods


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

    # The lifecycle rules in the one validation check the same dates: report them here.
    claims = frozenset({"lifecycle.deprecation_dates", "lifecycle.replacement"})

    def check_port(self, ctx, port):
        contract = port.contract
        if (contract.model.status or "").lower() != "deprecated":
            return
        deprecated_on, sunset = _date(contract.custom("deprecatedOn")), sunset_of(port)
        if deprecated_on is None or sunset is None:
            yield port_problem(
                port,
                f"contract {contract.id!r} is deprecated but lacks customProperties "
                "deprecatedOn and sunsetDate (ISO dates)",
                "customProperties",
                rule="policy.deprecation_dates",
            )
            return
        notice = contract.notice_period or "P0D"
        try:
            earliest = add_period(deprecated_on, notice)
        except ValueError as exc:
            yield port_problem(port, f"noticePeriod: {exc}", "customProperties", rule="policy.notice_period")
            return
        if sunset < earliest:
            yield port_problem(
                port,
                f"sunsetDate {sunset.isoformat()} is less than the notice period {notice} "
                f"after deprecatedOn {deprecated_on.isoformat()} (earliest {earliest.isoformat()})",
                "customProperties",
                rule="policy.notice_period",
            )
        successor = contract.custom("supersededBy")
        beside = {p.contract.id for p in port.product.ports if p is not port}
        if successor not in beside:
            yield port_problem(
                port,
                f"supersededBy {successor!r} is not the contract of another output port of "
                f"{port.product.address} (ports' contracts: "
                f"{', '.join(sorted(beside)) or 'none'})",
                "customProperties",
                rule="policy.superseded_by",
            )
