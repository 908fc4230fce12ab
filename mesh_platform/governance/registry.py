"""The policy registry: each built-in policy is a small class registered by name.

The governance group turns a policy on in `governance/policies.yaml`; adding a policy is one
class in `policies/` with `@register`, never a change to the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from mesh_platform.specs.errors import Problem


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Policy:
    """A rule every product must follow. Subclasses set `name`, `description`, and override
    `check_port` (called per output port) and/or `check_product` (once per product).
    `Params` is a pydantic model for the policy's parameters in policies.yaml. `claims` names
    the rule ids (specs/rules.py) of the validation problems this policy reports as its own."""

    name: ClassVar[str]
    description: ClassVar[str]
    default_severity: ClassVar[str] = "error"
    Params: ClassVar[type[BaseModel]] = NoParams
    claims: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, params: BaseModel | None = None):
        self.params = params if params is not None else self.Params()

    def check_product(self, ctx: Any, product: Any) -> Iterable[Problem]:
        return ()

    def check_port(self, ctx: Any, port: Any) -> Iterable[Problem]:
        return ()

    def owns(self, problem: Problem) -> bool:
        """Whether a validation problem (one that stops a domain from loading) is this policy's
        concern, by its rule id; otherwise it is reported under `valid-specs`."""
        return problem.rule in self.claims


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
