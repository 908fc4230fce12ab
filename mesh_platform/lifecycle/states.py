"""Lifecycle states and what each one does.

A product's state is its descriptor's `status`; an output port's state is its contract's
`status`, and the port is never further along than its product (a deprecated product
deprecates every port). Deprecation and retirement carry their dates as customProperties
(ODPS 1.0.0 and ODCS 3 have no fields for them):

    status: deprecated
    customProperties:
      - {property: deprecatedOn, value: 2026-11-21}
      - {property: sunsetDate, value: 2027-03-01}      # >= deprecatedOn + the contract's noticePeriod
      - {property: replacedBy, value: <domain>.<product>.<port>}   # optional

    proposed, draft -> built and checked in the own domain; nothing published; no other
                       domain may declare it as an input
    active          -> published
    deprecated      -> still published; consumers are told once, and reminded before sunset
    retired         -> removed from the mesh: no assets, snapshots archived; nobody may read it
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from mesh_platform.specs.contract import SENSITIVE_CLASSIFICATIONS
from mesh_platform.specs.errors import DEFAULT_RULE, Problem
from mesh_platform.specs.lifecycle_fields import (  # noqa: F401 - the names, declared where files are checked
    ACCESS,
    ACTIVE,
    APPROVAL_REQUIRED,
    DEPRECATED,
    DEPRECATION_DATE,
    DRAFT,
    NOTICE_PERIOD,
    OPEN,
    PROPOSED,
    REPLACED_BY,
    RETIRED,
    STATES,
    SUNSET_DATE,
    SUNSET_REMINDER,
    SUPERSEDED_BY,
    lifecycle_problems,
    parse_date,
)
from mesh_platform.specs.periods import add_period
from mesh_platform.specs.yaml_source import YamlDocument

UNPUBLISHED = (PROPOSED, DRAFT)
PUBLISHED = (ACTIVE, DEPRECATED)

LIFECYCLE_PROPERTIES = (DEPRECATION_DATE, SUNSET_DATE, REPLACED_BY, SUPERSEDED_BY)
DEFAULT_SUNSET_REMINDER = "P30D"

# Which commands may move a state where (mesh product deprecate|retire|activate).
TRANSITIONS = {
    PROPOSED: {ACTIVE, DRAFT, RETIRED},
    DRAFT: {ACTIVE, RETIRED},
    ACTIVE: {DEPRECATED},
    DEPRECATED: {ACTIVE, RETIRED},
    RETIRED: set(),
}


@dataclass(frozen=True)
class Declared:
    """A lifecycle declaration (status + dates) in one YAML file: a descriptor or a contract."""

    doc: YamlDocument
    status: str
    properties: tuple[tuple[str, Any], ...]  # customProperties, in file order

    @classmethod
    def of(cls, doc: YamlDocument) -> Declared:
        props = tuple(
            (str(p.get("property")), p.get("value"))
            for p in doc.data.get("customProperties") or []
            if isinstance(p, dict)
        )
        return cls(doc=doc, status=str(doc.data.get("status", "")), properties=props)

    def custom(self, name: str) -> Any:
        return next((value for prop, value in self.properties if prop == name), None)

    def where(self, name: str | None = None) -> tuple:
        """The YAML path of a customProperty's value, or of `status`."""
        if name is None:
            return ("status",)
        for i, (prop, _) in enumerate(self.properties):
            if prop == name:
                return ("customProperties", i, "value")
        return ("customProperties",)

    def problem(self, message: str, name: str | None = None, rule: str = DEFAULT_RULE) -> Problem:
        return self.doc.problem(self.where(name), message, rule)


@dataclass(frozen=True)
class Lifecycle:
    """The effective state of an output port, with where it was declared."""

    state: str
    declared: Declared  # the file that sets the state (the contract unless the product overrides it)
    deprecation_date: date | None = None
    sunset_date: date | None = None
    replaced_by: str | None = None
    superseded_by: str | None = None  # a contract id

    @property
    def published(self) -> bool:
        return self.state in PUBLISHED

    @property
    def readable_by_other_domains(self) -> bool:
        return self.state in PUBLISHED

    def describe(self) -> str:
        if self.state == DEPRECATED:
            replaced = f", replaced by {self.replaced_by}" if self.replaced_by else ""
            return f"deprecated since {self.deprecation_date or '?'}, sunset on {self.sunset_date or '?'}{replaced}"
        return self.state


def port_lifecycle(port) -> Lifecycle:
    """A port is retired or deprecated if its product or its contract says so; otherwise it is
    unpublished if either is proposed/draft (a draft product's ports are drafts); else active."""
    contract = Declared.of(port.contract.doc)
    product = Declared.of(port.product.doc)
    for states in ((RETIRED,), (DEPRECATED,), UNPUBLISHED):
        for declared in (contract, product):
            if declared.status in states:
                return _with_successor(port, _lifecycle(declared))
    return _lifecycle(contract)


def _with_successor(port, lifecycle: Lifecycle) -> Lifecycle:
    """`supersededBy: <contract id>` (a new major version of the port) names the replacement
    when `replacedBy` does not: the port of the same product with that contract."""
    if lifecycle.replaced_by or not lifecycle.superseded_by:
        return lifecycle
    successor = next((p for p in port.product.ports if p.contract.id == lifecycle.superseded_by), None)
    if successor is None:
        return lifecycle
    return dataclasses.replace(lifecycle, replaced_by=str(successor.address))


def product_lifecycle(product) -> Lifecycle:
    return _lifecycle(Declared.of(product.doc))


def _lifecycle(declared: Declared) -> Lifecycle:
    def date_of(name: str) -> date | None:
        value = declared.custom(name)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError:
            return None  # reported by lifecycle_problems

    replaced = declared.custom(REPLACED_BY)
    superseded = declared.custom(SUPERSEDED_BY)
    return Lifecycle(
        state=declared.status if declared.status in STATES else ACTIVE,
        declared=declared,
        deprecation_date=date_of(DEPRECATION_DATE),
        sunset_date=date_of(SUNSET_DATE),
        replaced_by=str(replaced) if replaced else None,
        superseded_by=str(superseded) if superseded else None,
    )


def notice_period(port) -> str | None:
    value = port.contract.custom(NOTICE_PERIOD)
    return str(value) if value else None


def sunset_reminder(port) -> str:
    return str(port.contract.custom(SUNSET_REMINDER) or DEFAULT_SUNSET_REMINDER)


def access_mode(port) -> str:
    """`open` ports auto-approve agreements; `approval-required` needs the provider's sign-off.
    Without a declaration, a port with restricted/PII columns requires approval, others are open."""
    declared = port.contract.custom(ACCESS)
    if declared:
        return str(declared)
    return APPROVAL_REQUIRED if sensitive_columns(port) else OPEN


def sensitive_columns(port) -> list[str]:
    out = []
    for prop in port.schema.properties or []:
        tags = {t.lower() for t in (prop.tags or [])}
        if (prop.classification or "").lower() in SENSITIVE_CLASSIFICATIONS or tags & SENSITIVE_CLASSIFICATIONS:
            out.append(prop.name)
    return out


def declaration_problems(declared: Declared, notice: str | None) -> list[Problem]:
    """The rules one file must keep on its own: a known status, dates for a deprecation, a sunset
    at least the notice period after the deprecation, a well-formed access mode. The format of
    each field is checked at load (specs/lifecycle_fields.py); a file that loaded has none wrong."""
    problems = lifecycle_problems(declared.doc)
    if problems:
        return problems
    lifecycle = _lifecycle(declared)
    if lifecycle.state == DEPRECATED:
        if lifecycle.deprecation_date is None:
            problems.append(
                declared.problem(
                    f"a deprecated port needs a customProperty {DEPRECATION_DATE!r} (YYYY-MM-DD)",
                    DEPRECATION_DATE,
                    rule="lifecycle.deprecation_dates",
                )
            )
        if lifecycle.sunset_date is None:
            problems.append(
                declared.problem(
                    f"a deprecated port needs a customProperty {SUNSET_DATE!r}: the day it will be retired",
                    SUNSET_DATE,
                    rule="lifecycle.deprecation_dates",
                )
            )
        if lifecycle.deprecation_date and lifecycle.sunset_date:
            earliest = add_period(lifecycle.deprecation_date, notice) if notice else lifecycle.deprecation_date
            if lifecycle.sunset_date < earliest:
                problems.append(
                    declared.problem(
                        f"sunset {lifecycle.sunset_date} is before {earliest}: consumers are owed the notice "
                        f"period {notice or 'P0D'} from the deprecation on {lifecycle.deprecation_date}",
                        SUNSET_DATE,
                        rule="lifecycle.notice_period",
                    )
                )
    return problems


def earliest_sunset(port, deprecated_on: date) -> date:
    notice = notice_period(port)
    return add_period(deprecated_on, notice) if notice else deprecated_on
