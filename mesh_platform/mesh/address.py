"""PortAddress: the one way to name an output port (`<domain>.<product>.<port>`).

Everything that names a port -- descriptors' input ports, dbt sources' `meta.mesh_input_port`,
asset keys -- goes through this value instead of splitting strings. Where a port's data lives
(a published folder, a BigQuery view) is the target's answer (publishing/target.py), not the name's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dagster is imported lazily: `mesh validate` should not pay for it
    import dagster as dg

_NAME = r"[a-z][a-z0-9_]*"
PATTERN = re.compile(rf"^({_NAME})\.({_NAME})\.({_NAME})$")
FORMAT = "<domain>.<product>.<port>"


@dataclass(frozen=True, order=True)
class PortAddress:
    domain: str
    product: str
    port: str

    @classmethod
    def parse(cls, text: object) -> PortAddress:
        """Parse '<domain>.<product>.<port>'; ValueError with the expected shape otherwise."""
        match = PATTERN.match(str(text)) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"expected '{FORMAT}' (lower_snake_case parts), got {text!r}")
        return cls(*match.groups())

    @classmethod
    def try_parse(cls, text: object) -> PortAddress | None:
        try:
            return cls.parse(text)
        except ValueError:
            return None

    @classmethod
    def from_key(cls, key: dg.AssetKey) -> PortAddress:
        return cls(*key.path) if len(key.path) == 3 else cls.parse(".".join(key.path))

    def __str__(self) -> str:
        return f"{self.domain}.{self.product}.{self.port}"

    @property
    def product_address(self) -> str:
        """'<domain>.<product>': the product that publishes this port."""
        return f"{self.domain}.{self.product}"

    @property
    def key_path(self) -> tuple[str, str, str]:
        return (self.domain, self.product, self.port)

    @property
    def dbt_source(self) -> tuple[str, str]:
        """(source, table) of the dbt source the platform generates for a consumer of this port,
        which `{{ mesh_input('<address>') }}` reads (publishing/dbt_inputs.py)."""
        return (f"{self.domain}__{self.product}", self.port)

    @property
    def asset_key(self) -> dg.AssetKey:
        """The output port's asset key, the same in every code location: [domain, product, port]."""
        import dagster as dg

        return dg.AssetKey(list(self.key_path))
