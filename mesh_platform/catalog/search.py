"""Filter and search the catalog: one implementation behind the CLI, the web app and the API.

Filters are exact (case-insensitive) except `owner`, which matches the owning team's name or
any owner entry as a substring. Text search needs every word of the query somewhere in a
product's id, title, descriptions, tags, port names and descriptions, or column names and
descriptions; results are ranked by where the words matched (name > description > columns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mesh_platform.catalog.model import Catalog, Product


@dataclass(frozen=True)
class Filters:
    domain: str | None = None
    owner: str | None = None
    tag: str | None = None
    status: str | None = None
    archetype: str | None = None
    classification: str | None = None
    pii: bool | None = None

    def matches(self, product: Product) -> bool:
        def eq(a: str | None, b: str | None) -> bool:
            return (a or "").lower() == (b or "").lower()

        if self.domain and not eq(product.domain, self.domain):
            return False
        if self.owner:
            needle = self.owner.lower()
            if not any(needle in value.lower() for value in [product.owner_team, *product.owners]):
                return False
        if self.tag and self.tag.lower() not in {t.lower() for t in product.tags}:
            return False
        if self.status and not eq(product.status, self.status):
            return False
        if self.archetype and not eq(product.archetype, self.archetype):
            return False
        if self.classification and self.classification.lower() not in {c.lower() for c in product.classifications}:
            return False
        if self.pii is not None and product.pii != self.pii:
            return False
        return True


_WORD = re.compile(r"[\w-]+")

# where a word matched -> weight
_FIELDS = (
    (8, lambda p: [p.id, p.name, p.title, *(port.name for port in p.ports)]),
    (4, lambda p: [*p.tags, p.domain, p.owner_team]),
    (2, lambda p: [p.purpose, p.usage, p.limitations, *(port.description for port in p.ports)]),
    (1, lambda p: [text for port in p.ports for c in port.columns for text in (c.name, c.description)]),
)


def _score(product: Product, words: list[str]) -> int:
    texts = [(weight, " ".join(t.lower() for t in get(product) if t)) for weight, get in _FIELDS]
    total = 0
    for word in words:
        best = max((weight for weight, text in texts if word in text), default=0)
        if best == 0:
            return 0
        total += best
    return total


def search(catalog: Catalog, query: str | None = None, filters: Filters | None = None) -> list[Product]:
    filters = filters or Filters()
    products = [p for p in catalog.products if filters.matches(p)]
    words = [w.lower() for w in _WORD.findall(query or "")]
    if not words:
        return sorted(products, key=lambda p: p.id)
    scored = [(_score(p, words), p) for p in products]
    return [p for score, p in sorted(scored, key=lambda sp: (-sp[0], sp[1].id)) if score > 0]
