"""domain.yaml: who owns the domain and where its alerts go."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_OWNER = re.compile(r"^(team:[\w.-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    owners: list[str] = Field(min_length=1)
    contact: str | None = None

    @field_validator("owners")
    @classmethod
    def _owners(cls, owners: list[str]) -> list[str]:
        for owner in owners:
            if not _OWNER.match(owner):
                raise ValueError(f"owner {owner!r} must be an email or 'team:<name>'")
        return owners


class Alerts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str
    webhook_env: str | None = None


class DomainSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    team: Team
    alerts: Alerts | None = None
    dbt_project: str | None = None  # relative to the repo root; default dbt_projects/<name>

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("expected a lower_snake_case domain name")
        return name
