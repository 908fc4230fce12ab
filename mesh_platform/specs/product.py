"""The product descriptor (ODPS v1 style): what a product is, who owns it, its ports."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mesh_platform.specs.domain import Team

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
ARCHETYPES = ("source-aligned", "aggregate", "consumer-aligned")


class Description(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str
    usage: str | None = None
    limitations: str | None = None


class OutputPort(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str | None = None
    contractId: str
    model: str = Field(description="the dbt model that implements this port")
    description: str | None = None

    @field_validator("name", "model")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("expected lower_snake_case")
        return value


class InputPort(BaseModel):
    """Another product's output port this product reads: '<domain>.<product>.<port>'."""

    model_config = ConfigDict(extra="forbid")
    name: str
    contractId: str | None = None
    source: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


TRIGGERS = ("cron", "upstream_published")


class Schedule(BaseModel):
    """When a product runs: on a cron in a timezone, or when an upstream output port it reads
    is published (Dagster declarative automation), so a mesh refreshes in order."""

    model_config = ConfigDict(extra="forbid")
    trigger: Literal["cron", "upstream_published"] = "cron"
    cron: str | None = None
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, cron: str | None) -> str | None:
        from dagster._utils.schedules import is_valid_cron_string

        if cron is not None and not is_valid_cron_string(cron):
            raise ValueError(f"invalid cron expression {cron!r}")
        return cron

    @field_validator("timezone")
    @classmethod
    def _tz(cls, tz: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {tz!r}") from None
        return tz

    @model_validator(mode="after")
    def _one_trigger(self) -> "Schedule":
        if self.trigger == "cron" and self.cron is None:
            raise ValueError("expected a 'cron' (with an optional 'timezone'), "
                             "or 'trigger: upstream_published'")
        if self.trigger == "upstream_published" and (
                self.cron is not None or "timezone" in self.model_fields_set):
            raise ValueError("'trigger: upstream_published' runs when an input port is published; "
                             "remove 'cron' and 'timezone' (or use 'trigger: cron')")
        return self

    @property
    def on_upstream(self) -> bool:
        return self.trigger == "upstream_published"


class CustomProperty(BaseModel):
    model_config = ConfigDict(extra="forbid")
    property: str
    value: Any
    description: str | None = None


class ProductSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    apiVersion: str
    kind: Literal["DataProduct"]
    id: str
    name: str
    title: str | None = None
    domain: str
    status: Literal["proposed", "draft", "active", "deprecated", "retired"]
    version: str
    description: Description
    team: Team | None = None
    inputPorts: list[InputPort] = Field(default_factory=list)
    outputPorts: list[OutputPort] = Field(min_length=1)
    schedule: Schedule | None = None
    tags: list[str] = Field(default_factory=list)
    customProperties: list[CustomProperty] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("expected lower_snake_case")
        return value

    @field_validator("schedule")
    @classmethod
    def _upstream_needs_inputs(cls, schedule: Schedule | None, info: ValidationInfo) -> Schedule | None:
        if schedule is not None and schedule.on_upstream and not info.data.get("inputPorts"):
            raise ValueError("'trigger: upstream_published' needs at least one entry in inputPorts "
                             "(the upstream output ports whose publication runs this product)")
        return schedule

    def custom(self, name: str, default: Any = None) -> Any:
        for prop in self.customProperties:
            if prop.property == name:
                return prop.value
        return default
