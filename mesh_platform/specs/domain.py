"""domain.yaml: who owns the domain and where its alerts go."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from mesh_platform.specs.errors import RuleError
from mesh_platform.specs.identifiers import SNAKE_CASE

_OWNER = re.compile(r"^(team:[\w.-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")


def _owner(owner: str) -> str:
    if not _OWNER.match(owner):
        raise ValueError(f"owner {owner!r} must be an email or 'team:<name>'")
    return owner


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    # Validated per item so an error names the offending entry's line (owners[i]), not the list.
    owners: list[Annotated[str, AfterValidator(_owner)]] = Field(min_length=1)
    contact: str | None = None


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

    @field_validator("dbt_project")
    @classmethod
    def _inside_repo(cls, path: str | None) -> str | None:
        """A domain file must not point the platform outside the repository."""
        if path is None:
            return None
        parts = PurePosixPath(path).parts
        if (
            not path.strip()
            or "\\" in path
            or "\0" in path
            or PurePosixPath(path).is_absolute()
            or ".." in parts
            or re.match(r"^[A-Za-z]:", path)
            or path.startswith("~")
        ):
            raise ValueError(
                f"expected a folder inside the repository, relative to its root "
                f"(like 'dbt_projects/<domain>'), got {path[:80]!r}"
            )
        return path

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not SNAKE_CASE.match(name):
            raise RuleError("spec.naming", "expected a lower_snake_case domain name")
        return name
