"""ODCS v3 data contracts, loaded and validated with the standard's own package.

The JSON schema shipped by `open-data-contract-standard` validates the document
(with line numbers); its pydantic model is what the rest of the platform reads.
Helpers here extract the terms a consumer cares about: owner, usage, limitations,
billing, notice period and SLA.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from open_data_contract_standard.model import OpenDataContractStandard, SchemaObject

from mesh_platform.specs.durations import UnitError, format_duration, parse_duration
from mesh_platform.specs.validation import validate_json_schema, validate_model
from mesh_platform.specs.yaml_source import YamlDocument, load_yaml


@cache
def odcs_json_schema() -> dict[str, Any]:
    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
    return json.loads(text)


@dataclass(frozen=True)
class Sla:
    freshness: timedelta | None
    freshness_warn: timedelta | None
    frequency_cron: str | None
    properties: tuple[dict[str, Any], ...]

    def describe(self) -> str:
        parts = []
        if self.freshness:
            parts.append(f"freshness {format_duration(self.freshness)}")
        if self.frequency_cron:
            parts.append(f"frequency cron '{self.frequency_cron}'")
        return ", ".join(parts) or "none"


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
        props = []
        for i, prop in enumerate(self.model.slaProperties or []):
            props.append(prop.model_dump(exclude_none=True))
            name = (prop.property or "").lower()
            if name in ("freshness", "latency"):
                # Name the field to fix: a bad unit is reported on `unit`, a bad valueExt on `valueExt`.
                for field_ in ("value", "valueExt"):
                    raw = getattr(prop, field_)
                    if field_ == "valueExt" and raw is None:
                        continue
                    try:
                        parsed = parse_duration(raw, prop.unit)
                    except UnitError as exc:
                        raise self.doc.error(("slaProperties", i, "unit"), str(exc)) from None
                    except ValueError as exc:
                        raise self.doc.error(("slaProperties", i, field_), str(exc)) from None
                    if field_ == "value":
                        freshness = parsed
                    else:
                        warn = parsed
            elif name == "frequency" and prop.schedule:
                if (prop.scheduler or "cron").lower() != "cron":
                    raise self.doc.error(("slaProperties", i, "scheduler"), "expected 'cron'")
                cron = prop.schedule
        if freshness is not None and warn is not None and warn >= freshness:
            raise self.doc.error(("slaProperties",), "the warn window (valueExt) must be shorter than the freshness window")
        return Sla(freshness=freshness, freshness_warn=warn, frequency_cron=cron, properties=tuple(props))


def load_contract(file: Path) -> Contract:
    doc = load_yaml(file)
    validate_json_schema(doc, odcs_json_schema())
    model = validate_model(doc, OpenDataContractStandard)
    contract = Contract(doc=doc, model=model)
    contract.sla()  # surface SLA mistakes at load time with their line
    return contract
