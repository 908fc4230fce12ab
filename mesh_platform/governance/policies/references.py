"""Common references: a column that identifies a shared entity (an LEI, ...) carries the
reference's pattern, so every domain identifies that entity the same way."""

from __future__ import annotations

from fnmatch import fnmatch

from pydantic import BaseModel, ConfigDict, Field

from mesh_platform.governance.policies.where import column_problem, columns
from mesh_platform.governance.registry import Policy, register

LEI_PATTERN = "^[A-Z0-9]{18}[0-9]{2}$"


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    columns: list[str] = Field(default_factory=list, description="column-name globs, e.g. lei, *_lei")
    tags: list[str] = Field(default_factory=list, description="column tags, e.g. lei")
    pattern: str


class ReferenceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    references: list[Reference] = Field(
        default_factory=lambda: [Reference(name="LEI", columns=["lei", "*_lei"], tags=["lei"], pattern=LEI_PATTERN)]
    )


@register
class CommonReferences(Policy):
    name = "common-references"
    description = "a column named or tagged as a common reference (LEI, ...) carries that reference's pattern"
    Params = ReferenceParams

    def check_port(self, ctx, port):
        for i, prop, name in columns(port):
            tags = {t.lower() for t in prop.tags or []}
            for ref in self.params.references:
                if not (
                    any(fnmatch(name.lower(), g.lower()) for g in ref.columns) or tags & {t.lower() for t in ref.tags}
                ):
                    continue
                pattern = (prop.logicalTypeOptions or {}).get("pattern")
                if pattern != ref.pattern:
                    got = f"pattern {pattern!r}" if pattern else "no pattern"
                    yield column_problem(
                        port,
                        i,
                        f"column {name!r} is a {ref.name} but has {got}; expected "
                        f"logicalTypeOptions.pattern: {ref.pattern!r}",
                        "logicalTypeOptions" if pattern else "name",
                        rule="policy.reference_pattern",
                    )
