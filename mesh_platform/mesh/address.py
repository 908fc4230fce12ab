"""PortAddress and ProductAddress: the one way to name an output port (`<domain>.<product>.<port>`)
and a product (`<domain>.<product>`).

Everything that names a port or a product -- descriptors' input ports, `mesh_input()` calls,
agreements, asset keys -- goes through these values instead of splitting or joining strings: this
module alone parses and formats them. Where a port's data lives (a published folder, a BigQuery
view) is the target's answer (publishing/target.py), not the name's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mesh_platform.specs.identifiers import NAME as _NAME

if TYPE_CHECKING:  # dagster is imported lazily: `mesh validate` should not pay for it
    import dagster as dg

PATTERN = re.compile(rf"^({_NAME})\.({_NAME})\.({_NAME})$")
FORMAT = "<domain>.<product>.<port>"
PRODUCT_PATTERN = re.compile(rf"^({_NAME})\.({_NAME})$")
PRODUCT_FORMAT = "<domain>.<product>"


class _Address(str):
    """An address is its canonical text -- a str, so it prints, compares, hashes, sorts and
    serialises (JSON, YAML, Dagster metadata) as that text -- with its parts as read-only
    attributes. Build one from its parts, or parse text with ``parse``/``try_parse``."""

    _parts: tuple[str, ...] = ()

    def __new__(cls, *parts: str):
        if len(parts) != len(cls._parts) or not all(isinstance(p, str) for p in parts):
            raise TypeError(f"{cls.__name__} takes {len(cls._parts)} names ({', '.join(cls._parts)}), got {parts!r}")
        self = super().__new__(cls, ".".join(parts))
        self.__dict__.update(zip(cls._parts, parts, strict=True))
        return self

    def __getnewargs__(self) -> tuple[str, ...]:
        return tuple(self.__dict__[name] for name in self._parts)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.__getnewargs__()))})"


def scope(domain: str, product: str | None = None, port: str | None = None) -> str:
    """The narrowest of a domain, a product address and a port address (a policy's or an
    exception's reach)."""
    if product and port:
        return PortAddress(domain, product, port)
    return ProductAddress(domain, product) if product else domain


class ProductAddress(_Address):
    domain: str
    product: str
    _parts = ("domain", "product")

    @classmethod
    def parse(cls, text: object) -> ProductAddress:
        """Parse '<domain>.<product>'; ValueError with the expected shape otherwise."""
        match = PRODUCT_PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"expected '{PRODUCT_FORMAT}' (lower_snake_case parts), got {text!r}")
        return cls(*match.groups())

    @classmethod
    def try_parse(cls, text: object) -> ProductAddress | None:
        try:
            return cls.parse(text)
        except ValueError:
            return None

    def port(self, name: str) -> PortAddress:
        return PortAddress(self.domain, self.product, name)


class PortAddress(_Address):
    domain: str
    product: str
    port: str
    _parts = ("domain", "product", "port")

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

    @staticmethod
    def parts(text: str) -> tuple[str, ...]:
        """The dot-separated parts of ``text`` as written, unchecked: for a writer that guards its
        own paths (safe_paths.inside) and must refuse an escaping name rather than misread it."""
        return tuple(text.split("."))

    @classmethod
    def column_ref(cls, text: object) -> tuple[PortAddress, str] | None:
        """'<domain>.<product>.<port>.<column>' (a contract's relationship to another port) ->
        (the port's address, the column); None for any other shape."""
        head, dot, column = text.rpartition(".") if isinstance(text, str) else ("", "", "")
        address = cls.try_parse(head) if dot and column else None
        return (address, column) if address is not None else None

    @classmethod
    def from_key(cls, key: dg.AssetKey) -> PortAddress:
        return cls(*key.path) if len(key.path) == 3 else cls.parse(".".join(key.path))

    @property
    def product_address(self) -> ProductAddress:
        """The product that publishes this port."""
        return ProductAddress(self.domain, self.product)

    @property
    def key_path(self) -> tuple[str, str, str]:
        return (self.domain, self.product, self.port)

    @property
    def dbt_source(self) -> tuple[str, str]:
        """(source, table) of the dbt source the platform generates for a consumer of this port,
        which `{{ mesh_input('<address>') }}` reads (publishing/input_sources.py)."""
        return (f"{self.domain}__{self.product}", self.port)

    @property
    def asset_key(self) -> dg.AssetKey:
        """The output port's asset key, the same in every code location: [domain, product, port]."""
        import dagster as dg

        return dg.AssetKey(list(self.key_path))
