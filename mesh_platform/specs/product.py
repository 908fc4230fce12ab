"""The product descriptor (ODPS v1 style): what a product is, who owns it, its ports."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, cron: str) -> str:
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(cron):
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

    def custom(self, name: str, default: Any = None) -> Any:
        for prop in self.customProperties:
            if prop.property == name:
                return prop.value
        return default
