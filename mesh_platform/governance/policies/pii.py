"""Personal data is classified, and a port holding it says how long it is kept."""

from __future__ import annotations

from fnmatch import fnmatch

from pydantic import BaseModel, ConfigDict, Field

from mesh_platform.governance.policies.where import column_problem, columns, port_problem
from mesh_platform.governance.registry import Policy, register


class PiiParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[str] = Field(default_factory=lambda: ["pii"], description="column tags that mark personal data")
    columns: list[str] = Field(default_factory=list, description="column-name globs that are personal data")
    classifications: list[str] = Field(
        default_factory=lambda: ["restricted", "confidential"], description="classifications a PII column may carry"
    )


def pii_columns(port, params: PiiParams):
    """Columns tagged as PII, named like PII, or classified restricted."""
    tags = {t.lower() for t in params.tags}
    out = []
    for i, prop, name in columns(port):
        tagged = bool(tags & {t.lower() for t in prop.tags or []})
        named = any(fnmatch(name.lower(), g.lower()) for g in params.columns)
        restricted = (prop.classification or "").lower() == "restricted"
        if tagged or named or restricted:
            out.append(
                (
                    i,
                    prop,
                    name,
                    "tagged " + "/".join(sorted(tags & {t.lower() for t in prop.tags or []}))
                    if tagged
                    else "named like PII"
                    if named
                    else "classified restricted",
                )
            )
    return out


@register
class PiiClassified(Policy):
    name = "pii-classified"
    description = "PII columns (tagged, or named like PII) carry a classification such as restricted"
    Params = PiiParams

    def check_port(self, ctx, port):
        allowed = [c.lower() for c in self.params.classifications]
        for i, prop, name, why in pii_columns(port, self.params):
            if (prop.classification or "").lower() not in allowed:
                got = f"classification {prop.classification!r}" if prop.classification else "no classification"
                yield column_problem(
                    port,
                    i,
                    f"column {name!r} is personal data ({why}) but has {got}; "
                    f"expected one of {self.params.classifications}",
                    "classification" if prop.classification else "name",
                    rule="policy.pii_unclassified",
                )


@register
class PiiRetention(Policy):
    name = "pii-retention"
    description = "a port holding PII declares a retention SLA (slaProperties: retention)"
    Params = PiiParams

    def check_port(self, ctx, port):
        found = pii_columns(port, self.params)
        if not found:
            return
        props = [(p.property or "").lower() for p in port.contract.model.slaProperties or []]
        if "retention" not in props:
            names = ", ".join(name for _, _, name, _ in found)
            yield port_problem(
                port,
                f"port {port.address} holds personal data ({names}) but its contract "
                "declares no retention SLA (slaProperties: {property: retention, ...})",
                "slaProperties",
                rule="policy.pii_retention_missing",
            )
