"""The policy registry: each built-in policy is a small class registered by name.

The governance group turns a policy on in `governance/policies.yaml`; adding a policy is one
class in `policies/` with `@register`, never a change to the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from mesh_platform.governance.model import Finding


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Policy:
    """A rule every product must follow. Subclasses set `name`, `description`, and override
    `check_port` (called per output port) and/or `check_product` (once per product).
    `Params` is a pydantic model for the policy's parameters in policies.yaml."""

    name: ClassVar[str]
    description: ClassVar[str]
    default_severity: ClassVar[str] = "error"
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: BaseModel | None = None):
        self.params = params if params is not None else self.Params()

    def check_product(self, ctx: Any, product: Any) -> Iterable[Finding]:
        return ()

    def check_port(self, ctx: Any, port: Any) -> Iterable[Finding]:
        return ()

    def claims(self, problem: Any) -> bool:
        """Whether a load problem (a Problem that stopped a domain from loading) is this
        policy's concern; otherwise it is reported under `valid-specs`."""
        return False


REGISTRY: dict[str, type[Policy]] = {}


def register(cls: type[Policy]) -> type[Policy]:
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"policy {cls.name!r} is registered twice ({REGISTRY[cls.name]} and {cls})")
    REGISTRY[cls.name] = cls
    return cls


def registry() -> dict[str, type[Policy]]:
    # lazy: the policies import this module to register themselves
    import mesh_platform.governance.policies  # noqa: F401 - registers the built-in policies

    return dict(REGISTRY)
