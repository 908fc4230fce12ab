"""PortAddress: the one way to name an output port (`<domain>.<product>.<port>`).

Everything that names a port -- descriptors' input ports, dbt sources' `meta.mesh_input_port`,
asset keys, published snapshot paths -- goes through this value instead of splitting strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mesh_platform import settings
from mesh_platform.specs.identifiers import NAME as _NAME

if TYPE_CHECKING:  # dagster is imported lazily: `mesh validate` should not pay for it
    import dagster as dg

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
    def asset_key(self) -> dg.AssetKey:
        """The output port's asset key, the same in every code location: [domain, product, port]."""
        import dagster as dg

        return dg.AssetKey(list(self.key_path))

    def published_dir(self) -> Path:
        """The folder that holds this port's published snapshots (under MESH_DATA_DIR)."""
        return settings.published_dir(*self.key_path)

    def published_file(self) -> Path:
        """The live snapshot a consumer reads: `current.parquet`, or for a partitioned port the
        live version directory `current/` (read as `current/*/*.parquet`, publishing/partitioned.py)."""
        from mesh_platform.publishing.partitioned import current_dir
        from mesh_platform.publishing.snapshots import current_path

        partitioned = current_dir(self.published_dir())
        return partitioned if partitioned.is_symlink() else current_path(self.published_dir())

    @property
    def published_tail(self) -> str:
        """The data-dir-relative path of the live snapshot, as a consumer's dbt source must read it."""
        return self.read_tail(partitioned=False)

    def read_tail(self, partitioned: bool) -> str:
        """What a consumer's source reads below the data dir; a partitioned port is a glob of its live version's month files."""
        return "/".join(["published", *self.key_path, "current/*/*.parquet" if partitioned else "current.parquet"])

    def dbt_external_location(self, partitioned: bool = False) -> str:
        """What a consumer's dbt source sets as meta.external_location to read this port."""
        return f"\"read_parquet('{{{{ env_var('MESH_DATA_DIR', '../../data') }}}}/{self.read_tail(partitioned)}')\""
