"""The product descriptor: an ODPS 1.0.0 (Bitol) document, what a product is, who owns it, its ports.

The file is checked against the official ODPS JSON schema (shipped by the `dataproduct-cli`
package) and then read into the pydantic model below. ODPS has no field for what the platform
needs to run a product, so those live in ODPS ``customProperties``:

- product level: ``title``, ``schedule``, ``archetype``, ``maturity``, ``qualityLevel``, ``tier``;
- output port: ``dbtModel`` (the dbt model that implements the port);
- input port: ``source`` (the producer's port address ``<domain>.<product>.<port>``).

The model lifts them back into attributes (``spec.title``, ``spec.schedule``, ``port.model``,
``port.source``) so the rest of the platform reads one typed object, and
:func:`lifted_paths` maps those attributes back to where they are written in the file so an
error names the right line and field.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mesh_platform.specs.cron import check_cron
from mesh_platform.specs.domain import Team
from mesh_platform.specs.errors import RuleError, SpecError
from mesh_platform.specs.identifiers import PORT_ADDRESS, SNAKE_CASE, check_identifier
from mesh_platform.specs.lifecycle_fields import lifecycle_problems
from mesh_platform.specs.timezones import check_timezone
from mesh_platform.specs.validation import validate_json_schema, validate_model

ARCHETYPES = ("source-aligned", "aggregate", "consumer-aligned")
ODPS_VERSIONS = ("v1.0.0",)

# customProperties the model lifts into attributes: attribute -> property name, per level.
PRODUCT_PROPERTIES = {"title": "title", "schedule": "schedule"}
OUTPUT_PORT_PROPERTIES = {"model": "dbtModel"}
INPUT_PORT_PROPERTIES = {"source": "source"}


@cache
def odps_json_schema(api_version: str = "v1.0.0") -> dict[str, Any]:
    """The official ODPS JSON schema for a descriptor's apiVersion, as `dataproduct-cli` ships it."""
    if api_version not in ODPS_VERSIONS:
        raise KeyError(api_version)
    file = metadata.distribution("dataproduct-cli").locate_file(
        f"dataproduct/schemas/odps-{api_version.removeprefix('v')}.schema.json"
    )
    return json.loads(file.read_text(encoding="utf-8"))


class CustomProperty(BaseModel):
    model_config = ConfigDict(extra="forbid")
    property: str
    value: Any
    description: str | None = None


def _lift(data: Any, properties: dict[str, str]) -> Any:
    """Copy the lifted customProperties of one ODPS object into attribute fields."""
    if not isinstance(data, dict) or not isinstance(data.get("customProperties"), list):
        return data
    out = dict(data)
    by_name = {
        p["property"]: p for p in data["customProperties"] if isinstance(p, dict) and isinstance(p.get("property"), str)
    }
    for attribute, name in properties.items():
        if name in by_name and attribute not in data:
            out[attribute] = by_name[name].get("value")
    return out


def _snake_case(value: str) -> str:
    if not SNAKE_CASE.match(value):
        raise RuleError("spec.naming", "expected lower_snake_case")
    return value


def _custom_value(properties: list[CustomProperty], name: str, default: Any = None) -> Any:
    for prop in properties:
        if prop.property == name:
            return prop.value
    return default


class Description(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str
    usage: str | None = None
    limitations: str | None = None
    authoritativeDefinitions: list[dict[str, Any]] = Field(default_factory=list)
    customProperties: list[CustomProperty] = Field(default_factory=list)


class OutputPort(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    contractId: str
    description: str | None = None
    type: str | None = None
    model: str = Field(description="customProperties dbtModel: the dbt model of this port")
    tags: list[str] = Field(default_factory=list)
    sbom: list[dict[str, Any]] = Field(default_factory=list)
    inputContracts: list[dict[str, Any]] = Field(default_factory=list)
    authoritativeDefinitions: list[dict[str, Any]] = Field(default_factory=list)
    customProperties: list[CustomProperty] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _lift_custom(cls, data: Any) -> Any:
        return _lift(data, OUTPUT_PORT_PROPERTIES)

    @field_validator("name", "model")
    @classmethod
    def _snake(cls, value: str) -> str:
        return _snake_case(value)

    @field_validator("version", "contractId")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return check_identifier(value)

    def custom(self, name: str, default: Any = None) -> Any:
        return _custom_value(self.customProperties, name, default)


class InputPort(BaseModel):
    """Another product's output port this product reads; customProperties ``source`` names it as
    '<domain>.<product>.<port>'."""

    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    contractId: str
    source: str = Field(
        pattern=PORT_ADDRESS,
        description="customProperties source: the producer's port address",
    )
    tags: list[str] = Field(default_factory=list)
    authoritativeDefinitions: list[dict[str, Any]] = Field(default_factory=list)
    customProperties: list[CustomProperty] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _lift_custom(cls, data: Any) -> Any:
        return _lift(data, INPUT_PORT_PROPERTIES)

    @field_validator("name", "version", "contractId")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return check_identifier(value)

    def custom(self, name: str, default: Any = None) -> Any:
        return _custom_value(self.customProperties, name, default)


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
        return None if cron is None else check_cron(cron)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, tz: str) -> str:
        return check_timezone(tz)

    @model_validator(mode="after")
    def _one_trigger(self) -> Schedule:
        if self.trigger == "cron" and self.cron is None:
            raise ValueError("expected a 'cron' (with an optional 'timezone'), or 'trigger: upstream_published'")
        if self.trigger == "upstream_published" and (self.cron is not None or "timezone" in self.model_fields_set):
            raise ValueError(
                "'trigger: upstream_published' runs when an input port is published; "
                "remove 'cron' and 'timezone' (or use 'trigger: cron')"
            )
        return self

    @property
    def on_upstream(self) -> bool:
        return self.trigger == "upstream_published"


def _odps_team(data: Any) -> Any:
    """An ODPS team (name, members[].username) -> the platform's Team (name, owners)."""
    if not isinstance(data, dict) or "members" not in data:
        return data
    members = data.get("members")
    owners = (
        [m.get("username") if isinstance(m, dict) else m for m in members] if isinstance(members, list) else members
    )
    return {"name": data.get("name"), "owners": owners}


class ProductSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    apiVersion: Literal[ODPS_VERSIONS]  # type: ignore[valid-type]
    kind: Literal["DataProduct"]
    id: str
    name: str
    domain: str
    status: Literal["proposed", "draft", "active", "deprecated", "retired"]
    version: str
    tenant: str | None = None
    description: Description
    team: Team | None = None
    support: list[dict[str, Any]] = Field(default_factory=list)
    authoritativeDefinitions: list[dict[str, Any]] = Field(default_factory=list)
    productCreatedTs: str | None = None
    inputPorts: list[InputPort] = Field(default_factory=list)
    outputPorts: list[OutputPort] = Field(min_length=1)
    managementPorts: list[dict[str, Any]] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    customProperties: list[CustomProperty] = Field(default_factory=list)
    # Lifted from customProperties (see the module docstring); not ODPS fields.
    title: str | None = None
    schedule: Schedule | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_custom(cls, data: Any) -> Any:
        data = _lift(data, PRODUCT_PROPERTIES)
        if isinstance(data, dict) and "team" in data:
            data = {**data, "team": _odps_team(data["team"])}
        return data

    @field_validator("name")
    @classmethod
    def _snake(cls, value: str) -> str:
        return _snake_case(value)

    @field_validator("id", "domain", "version")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("schedule")
    @classmethod
    def _upstream_needs_inputs(cls, schedule: Schedule | None, info: ValidationInfo) -> Schedule | None:
        if schedule is not None and schedule.on_upstream and not info.data.get("inputPorts"):
            raise ValueError(
                "'trigger: upstream_published' needs at least one entry in inputPorts "
                "(the upstream output ports whose publication runs this product)"
            )
        return schedule

    def custom(self, name: str, default: Any = None) -> Any:
        return _custom_value(self.customProperties, name, default)


def lifted_paths(data: Any) -> dict[tuple, tuple]:
    """Where each lifted attribute is written: ('schedule',) -> ('customProperties', 3, 'value'),
    ('outputPorts', 0, 'model') -> ('outputPorts', 0, 'customProperties', 1, 'value'), ..."""
    out: dict[tuple, tuple] = {}

    def scan(obj: Any, prefix: tuple, properties: dict[str, str]) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("customProperties"), list):
            return
        for attribute, name in properties.items():
            for k, prop in enumerate(obj["customProperties"]):
                if isinstance(prop, dict) and prop.get("property") == name:
                    out[(*prefix, attribute)] = (*prefix, "customProperties", k, "value")
                    break

    scan(data, (), PRODUCT_PROPERTIES)
    for key, properties in (("outputPorts", OUTPUT_PORT_PROPERTIES), ("inputPorts", INPUT_PORT_PROPERTIES)):
        ports = data.get(key) if isinstance(data, dict) else None
        for i, port in enumerate(ports if isinstance(ports, list) else []):
            scan(port, (key, i), properties)
    if isinstance(data, dict) and isinstance(data.get("team"), dict):
        out[("team", "owners")] = ("team", "members")
    return out


def validate_product(doc) -> ProductSpec:
    """Check a descriptor against the ODPS schema of its apiVersion, then read it into ProductSpec;
    report the problems of both at once (one per field)."""
    version = doc.data.get("apiVersion")
    if not isinstance(version, str) or version not in ODPS_VERSIONS:
        shown = repr(version) if len(repr(version)) <= 40 else repr(version)[:37] + "..."
        raise doc.error(
            ("apiVersion",), f"expected an ODPS apiVersion among {list(ODPS_VERSIONS)}, got {shown}", "spec.api_version"
        )
    problems = []
    try:
        validate_json_schema(doc, odps_json_schema(version))
    except SpecError as exc:
        problems.extend(exc.problems)
    try:
        doc.aliases.update(lifted_paths(doc.data))  # also for problems found later (Mesh, Dagster)
        spec = validate_model(doc, ProductSpec)
    except SpecError as exc:
        reported = {p.field for p in problems}
        for problem in exc.problems:
            problem = _explain_lifted(doc, problem)
            if problem.field not in reported:
                problems.append(problem)
                reported.add(problem.field)
    if not problems:
        problems = lifecycle_problems(doc)  # read across domains: refused here, with the descriptor
    if problems:
        raise SpecError(problems)
    return spec


def _explain_lifted(doc, problem):
    """A missing lifted attribute is a missing customProperty: say which one, at customProperties."""
    if problem.rule != "spec.required":
        return problem
    for level, properties in (
        ("", PRODUCT_PROPERTIES),
        ("outputPorts[", OUTPUT_PORT_PROPERTIES),
        ("inputPorts[", INPUT_PORT_PROPERTIES),
    ):
        for attribute, name in properties.items():
            prefix, dot, last = problem.field.rpartition(".")
            if last == attribute and prefix.startswith(level) and (level or not prefix):
                path = _parse_field(prefix) if prefix else ()
                return doc.problem(
                    (*path, "customProperties"),
                    f"expected a customProperty '{name}' (required by the platform)",
                    "spec.custom_property",
                )
    return problem


def _parse_field(field: str) -> tuple:
    """'outputPorts[0]' -> ('outputPorts', 0)."""
    out: list = []
    for name, index in re.findall(r"([A-Za-z_]\w*)|\[(\d+)\]", field):
        out.append(name if name else int(index))
    return tuple(out)
