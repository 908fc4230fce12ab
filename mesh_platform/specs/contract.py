"""ODCS v3 data contracts, loaded and validated with the standard's own package.

A contract is validated (with line numbers) against the official JSON schema of the ODCS
`apiVersion` it declares -- an unknown version is an error, never a fallback -- and then read
into the `open-data-contract-standard` pydantic model the rest of the platform reads.
Helpers here extract the terms a consumer cares about: owner, usage, limitations,
billing, notice period and SLA.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import time, timedelta
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from open_data_contract_standard.model import OpenDataContractStandard, SchemaObject

from mesh_platform.specs.contract_checks import identifier_problems, schema_problems
from mesh_platform.specs.cron import check_cron
from mesh_platform.specs.durations import UnitError, format_duration, parse_duration
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.lifecycle_fields import lifecycle_problems
from mesh_platform.specs.timezones import check_timezone
from mesh_platform.specs.validation import validate_json_schema, validate_model
from mesh_platform.specs.yaml_source import YamlDocument, load_yaml

# The official ODCS JSON schema of each apiVersion a contract may declare, and the package that
# ships it: `open-data-contract-standard` ships only its own version's schema; the schemas of
# earlier versions are shipped by `datacontract-cli` (read as files, the package is not imported).
ODCS_SCHEMAS: dict[str, tuple[str, str]] = {
    "v3.0.0": ("datacontract-cli", "datacontract/schemas/odcs-3.0.2.schema.json"),
    "v3.0.1": ("datacontract-cli", "datacontract/schemas/odcs-3.0.2.schema.json"),
    "v3.0.2": ("datacontract-cli", "datacontract/schemas/odcs-3.0.2.schema.json"),
    "v3.1.0": ("datacontract-cli", "datacontract/schemas/odcs-3.1.0.schema.json"),
    "v3.2.0": ("open-data-contract-standard", "open_data_contract_standard/schema.json"),
}
ODCS_VERSIONS = tuple(ODCS_SCHEMAS)
# A column classified or tagged so holds personal or restricted data (masked in samples; access by approval).
SENSITIVE_CLASSIFICATIONS = frozenset({"restricted", "confidential", "pii", "sensitive", "secret"})


@cache
def odcs_json_schema(api_version: str = "v3.2.0") -> dict[str, Any]:
    """The official ODCS JSON schema for a contract's apiVersion (KeyError if none is known)."""
    distribution, path = ODCS_SCHEMAS[api_version]
    return json.loads(metadata.distribution(distribution).locate_file(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Sla:
    """What a contract promises about timeliness; one of two forms becomes the freshness policy.

    - a time window: ``freshness`` (or ``latency``) -- the last publication is at most this old,
      with ``valueExt`` as the earlier warn window;
    - a daily deadline: ``timeOfAvailability`` -- published every day by HH:MM in a timezone,
      from an update made at most ``deadline_window`` before the deadline.
    """

    freshness: timedelta | None
    freshness_warn: timedelta | None
    frequency_cron: str | None
    properties: tuple[dict[str, Any], ...]
    deadline: time | None = None
    deadline_timezone: str | None = None
    deadline_window: timedelta | None = None

    @property
    def deadline_cron(self) -> str | None:
        return f"{self.deadline.minute} {self.deadline.hour} * * *" if self.deadline else None

    def describe_deadline(self) -> str:
        if not self.deadline:
            return ""
        text = f"by {self.deadline:%H:%M} {self.deadline_timezone} daily"
        if self.deadline_window and self.deadline_window != DAY:
            text += f" (updated in the {format_duration(self.deadline_window)} before)"
        return text

    def describe(self) -> str:
        parts = []
        if self.freshness:
            parts.append(f"freshness {format_duration(self.freshness)}")
        if self.deadline:
            parts.append(f"available {self.describe_deadline()}")
        if self.frequency_cron:
            parts.append(f"frequency cron '{self.frequency_cron}'")
        return ", ".join(parts) or "none"


DAY = timedelta(days=1)
_DEADLINE = re.compile(r"^(?P<hour>\d{1,2}):(?P<minute>\d{2})(?:\s+(?P<tz>\S+))?$")


def parse_deadline(value: object) -> tuple[time, str]:
    """'06:00 Europe/Berlin' (or '06:00', meaning UTC) -> (06:00, 'Europe/Berlin')."""
    match = _DEADLINE.match(str(value).strip()) if isinstance(value, str) else None
    if not match or int(match["hour"]) > 23 or int(match["minute"]) > 59:
        raise ValueError(f"expected a daily deadline 'HH:MM <IANA timezone>' like '06:00 Europe/Berlin', got {value!r}")
    tz = match["tz"] or "UTC"
    try:
        check_timezone(tz)
    except ValueError as exc:
        raise ValueError(f"{exc} in the deadline") from None
    return time(int(match["hour"]), int(match["minute"])), tz


@dataclass(frozen=True)
class Contract:
    doc: YamlDocument
    model: OpenDataContractStandard

    @property
    def file(self) -> Path:
        return self.doc.file

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def version(self) -> str:
        return self.model.version

    def schema_object(self, name: str) -> SchemaObject | None:
        for obj in self.model.schema_ or []:
            if obj.name == name or obj.physicalName == name:
                return obj
        return None

    def schema_index(self, name: str) -> int | None:
        for i, obj in enumerate(self.model.schema_ or []):
            if obj.name == name or obj.physicalName == name:
                return i
        return None

    def custom(self, name: str) -> Any:
        for prop in self.model.customProperties or []:
            if prop.property == name:
                return prop.value
        return None

    @property
    def owner(self) -> str | None:
        team = self.model.team
        if team is None:
            return None
        if isinstance(team, list):
            return team[0].name or team[0].username if team else None
        return team.name

    @property
    def contact(self) -> str | None:
        for support in self.model.support or []:
            if support.url:
                return support.url
            if support.channel:
                return support.channel
        return None

    @property
    def usage(self) -> str | None:
        return self.model.description.usage if self.model.description else None

    @property
    def limitations(self) -> str | None:
        return self.model.description.limitations if self.model.description else None

    @property
    def purpose(self) -> str | None:
        return self.model.description.purpose if self.model.description else None

    @property
    def billing(self) -> str | None:
        price = self.model.price
        if price is None or price.priceAmount is None:
            return None
        amount = f"{price.priceAmount:g}" if isinstance(price.priceAmount, float) else str(price.priceAmount)
        unit = f" per {price.priceUnit}" if price.priceUnit else ""
        return f"{amount} {price.priceCurrency or ''}".strip() + unit

    @property
    def notice_period(self) -> str | None:
        value = self.custom("noticePeriod")
        return str(value) if value is not None else None

    def sla(self) -> Sla:
        freshness = warn = None
        cron = None
        deadline = deadline_tz = deadline_window = None
        window_at = deadline_at = None
        props = []
        for i, prop in enumerate(self.model.slaProperties or []):
            props.append(prop.model_dump(exclude_none=True))
            name = (prop.property or "").lower()
            if name in ("freshness", "latency"):
                # Name the field to fix: a bad unit is reported on `unit`, a bad valueExt on `valueExt`.
                window_at = i
                freshness, warn = self._durations(i, prop)
            elif name == "timeofavailability":
                deadline_at = i
                try:
                    deadline, deadline_tz = parse_deadline(prop.value)
                except ValueError as exc:
                    raise self.doc.error(("slaProperties", i, "value"), str(exc), rule="spec.sla") from None
                _, deadline_window = self._durations(i, prop, value=False)
                deadline_window = deadline_window or DAY
                if not timedelta(minutes=1) <= deadline_window <= DAY:
                    raise self.doc.error(
                        ("slaProperties", i, "valueExt"),
                        "expected the update window before a daily deadline to be "
                        f"between 1m and 24h, got {format_duration(deadline_window)}",
                        rule="spec.sla",
                    )
            elif name == "frequency" and prop.schedule:
                if (prop.scheduler or "cron").lower() != "cron":
                    raise self.doc.error(("slaProperties", i, "scheduler"), "expected 'cron'", rule="spec.sla")
                try:
                    cron = check_cron(prop.schedule)
                except ValueError as exc:
                    raise self.doc.error(("slaProperties", i, "schedule"), str(exc), rule="spec.sla") from None
        if window_at is not None and deadline_at is not None:
            raise self.doc.error(
                ("slaProperties", max(window_at, deadline_at), "property"),
                "declare either a freshness window (freshness/latency) or a daily "
                "deadline (timeOfAvailability), not both: an asset has one freshness policy",
                rule="spec.sla",
            )
        if freshness is not None and warn is not None and warn >= freshness:
            raise self.doc.error(
                ("slaProperties",),
                "the warn window (valueExt) must be shorter than the freshness window",
                rule="spec.sla",
            )
        if freshness is not None and freshness < timedelta(minutes=1):
            raise self.doc.error(
                ("slaProperties", window_at, "value"), "expected a freshness window of at least 1m", rule="spec.sla"
            )
        if warn is not None and warn < timedelta(minutes=1):
            raise self.doc.error(
                ("slaProperties", window_at, "valueExt"), "expected a warn window of at least 1m", rule="spec.sla"
            )
        return Sla(
            freshness=freshness,
            freshness_warn=warn,
            frequency_cron=cron,
            properties=tuple(props),
            deadline=deadline,
            deadline_timezone=deadline_tz,
            deadline_window=deadline_window,
        )

    def _durations(self, i: int, prop: Any, value: bool = True) -> tuple[timedelta | None, timedelta | None]:
        """(value, valueExt) of an SLA property as durations in its unit; valueExt is optional."""
        out: list[timedelta | None] = [None, None]
        for j, field_ in enumerate(("value", "valueExt")):
            raw = getattr(prop, field_)
            if (field_ == "valueExt" and raw is None) or (field_ == "value" and not value):
                continue
            try:
                out[j] = parse_duration(raw, prop.unit)
            except UnitError as exc:
                raise self.doc.error(("slaProperties", i, "unit"), str(exc), rule="spec.sla") from None
            except ValueError as exc:
                raise self.doc.error(("slaProperties", i, field_), str(exc), rule="spec.sla") from None
        return out[0], out[1]


def load_contract(file: Path) -> Contract:
    doc = load_yaml(file)
    version = doc.data.get("apiVersion")
    if not isinstance(version, str) or version not in ODCS_SCHEMAS:
        shown = repr(version) if len(repr(version)) <= 40 else repr(version)[:37] + "..."
        raise doc.error(
            ("apiVersion",),
            f"expected an ODCS apiVersion among {list(ODCS_VERSIONS)} "
            f"(the version whose schema the contract follows), got {shown}",
            rule="spec.api_version",
        )
    validate_json_schema(doc, odcs_json_schema(version))
    model = validate_model(doc, OpenDataContractStandard)
    problems = identifier_problems(doc) + schema_problems(doc)
    problems += lifecycle_problems(doc)  # read across domains: refused here, with the contract
    if problems:
        raise SpecError(problems)
    contract = Contract(doc=doc, model=model)
    contract.sla()  # surface SLA mistakes at load time with their line
    return contract
