"""Filter and search the catalog: one implementation behind the CLI, the web app and the APIs.

Filters are exact (case-insensitive) except `owner`, which matches the owning team's name or
any owner entry as a substring. The facets (`domain`, `state`, `tier`, `quality`) are filters
whose values and counts are offered beside the results.

Text search is SQLite FTS5 (Python's standard library), over an in-memory index built from the
catalog: one row per product, one indexed column per kind of text with a weight (a name
outranks a badge, a badge a description, a description a column). Ranked by where each word
matched best, then by FTS5's `bm25()` with the same weights. Words are whole
tokens, so `rent` finds a port called `rent_by_month...` but not `current`. Each query word
must match (AND); a word matches an indexed word it is a prefix of (`tenant` -> `tenants`);
a word that starts no indexed word is rewritten to its nearest indexed words by
`difflib.get_close_matches` (`ordrs` -> `orders`), and the rewrite is reported. Badges are
text too: `PII`, `gold`, `tier`, `deprecated` (a product's or a port contract's state).
"""

from __future__ import annotations

import difflib
import html
import re
import sqlite3
import weakref
from dataclasses import dataclass, field, fields, replace

from mesh_platform.catalog.model import Catalog, Product

FACETS = ("domain", "state", "tier", "quality")


def states(product: Product) -> set[str]:
    """Lifecycle states of a product and of its ports' contracts (e.g. a deprecated v1 port)."""
    found = {product.status}
    if product.lifecycle and product.lifecycle.get("state"):
        found.add(str(product.lifecycle["state"]))
    found.update(port.contract_status for port in product.ports if port.contract_status)
    return {s.lower() for s in found if s}


@dataclass(frozen=True)
class Filters:
    domain: str | None = None
    owner: str | None = None
    tag: str | None = None
    status: str | None = None
    archetype: str | None = None
    classification: str | None = None
    pii: bool | None = None
    state: str | None = None  # the product's or any of its ports' lifecycle state
    tier: str | None = None
    quality: str | None = None  # quality level (e.g. gold)

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
        if self.state and self.state.lower() not in states(product):
            return False
        if self.tier and not eq(product.tier, self.tier):
            return False
        if self.quality and not eq(product.quality_level, self.quality):
            return False
        return True


def facet_values(product: Product, facet: str) -> set[str]:
    if facet == "state":
        return states(product)
    value = {"domain": product.domain, "tier": product.tier, "quality": product.quality_level}[facet]
    return {str(value)} if value else set()


# Indexed columns and their bm25 weights: where a word matched decides the rank.
COLUMNS = {
    "name": 10.0,  # id, name, title, port names
    "badges": 5.0,  # PII, quality level, tier, states, archetype, classification
    "tags": 4.0,
    "owners": 3.0,
    "description": 2.0,  # purpose, usage, limitations, port descriptions
    "columns": 1.0,  # column names and descriptions
}


def _documents(product: Product) -> dict[str, str]:
    badges = [*sorted(states(product)), product.archetype, product.maturity, *sorted(product.classifications)]
    if product.pii:
        badges.append("PII")
    if product.quality_level:
        badges += [product.quality_level, f"quality {product.quality_level}"]
    if product.tier:
        badges.append(f"tier {product.tier}")
    ports = product.ports
    return {
        "name": " ".join([product.id, product.name, product.title, *(p.name for p in ports)]),
        "badges": " · ".join(b for b in badges if b),
        "tags": " ".join(product.tags),
        "owners": " ".join([product.owner_team, *product.owners]),
        "description": " ".join(
            t for t in [product.purpose, product.usage, product.limitations, *(p.description for p in ports)] if t
        ),
        "columns": " ".join(t for p in ports for c in p.columns for t in (c.name, c.description) if t),
    }


# FTS5's default tokenizer (unicode61) splits on everything but letters and digits: `_` and `-`
# separate words, as here.
_TOKEN = re.compile(r"[^\W_]+")
_OPEN, _CLOSE = "\ue000", "\ue001"  # highlight markers no catalog text contains


@dataclass
class Hit:
    product: Product
    rank: float  # bm25: lower is better; 0 when there was no text query
    weight: float = 0.0  # per query word, the weight of the best column it matched in, summed
    highlights: dict[str, str] = field(default_factory=dict)  # column -> HTML, matches in <mark>


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    rewrites: dict[str, list[str]]  # query word -> the indexed words it was read as (typo tolerance)
    facets: dict[str, list[tuple[str, int]]]  # facet -> (value, products with it among the results)

    @property
    def products(self) -> list[Product]:
        return [h.product for h in self.hits]


class Index:
    """An in-memory FTS5 index of a catalog (milliseconds to build for hundreds of products)."""

    def __init__(self, catalog: Catalog):
        self.products = list(catalog.products)  # not the catalog: the cache below must not keep it alive
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute(f"CREATE VIRTUAL TABLE doc USING fts5({', '.join(COLUMNS)}, tokenize='unicode61')")
        self.db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(doc, 'row')")
        self.db.executemany(
            f"INSERT INTO doc(rowid, {', '.join(COLUMNS)}) VALUES (?{', ?' * len(COLUMNS)})",
            [(i, *_documents(p).values()) for i, p in enumerate(self.products)],
        )
        self.vocabulary = [row[0] for row in self.db.execute("SELECT term FROM vocab")]

    def read_word(self, word: str) -> list[str]:
        """The indexed words a query word stands for: itself as a prefix, else its nearest words."""
        if any(term.startswith(word) for term in self.vocabulary):
            return [word]
        return difflib.get_close_matches(word, self.vocabulary, n=3, cutoff=0.75)

    def match_groups(self, query: str) -> tuple[list[str] | None, dict[str, list[str]]]:
        """One FTS5 expression per query word (all are required) and the typo rewrites made;
        None when a word matches nothing at all."""
        groups, rewrites = [], {}
        for word in query.split():
            tokens = [t.lower() for t in _TOKEN.findall(word)]
            if not tokens:
                continue
            if len(tokens) > 1:  # billing_customer_id: the words in this order
                groups.append('"' + " ".join(tokens) + '"')
                continue
            terms = self.read_word(tokens[0])
            if not terms:
                return None, rewrites
            if terms != tokens:
                rewrites[tokens[0]] = terms
            groups.append("(" + " OR ".join(f'"{t}"*' for t in terms) + ")")
        return groups, rewrites

    def _marked(self, expression: str, length: int | None) -> dict[int, tuple[float, list[str]]]:
        """rowid -> (bm25, each column's text with its matches between markers: the passage of
        at most `length` words around them, or all of it) for an FTS5 expression."""
        weights = ", ".join(str(w) for w in COLUMNS.values())
        marks = ", ".join(
            f"highlight(doc, {i}, '{_OPEN}', '{_CLOSE}')"
            if length is None
            else f"snippet(doc, {i}, '{_OPEN}', '{_CLOSE}', '…', {length})"
            for i in range(len(COLUMNS))
        )
        rows = self.db.execute(f"SELECT rowid, bm25(doc, {weights}), {marks} FROM doc WHERE doc MATCH ?", (expression,))
        return {rowid: (rank, marked) for rowid, rank, *marked in rows}

    def hits(self, query: str) -> tuple[list[Hit], dict[str, list[str]]]:
        groups, rewrites = self.match_groups(query)
        if groups is None:
            return [], rewrites
        if not groups:
            return [Hit(p, 0.0) for p in self.products], rewrites
        rows = self._marked(" AND ".join(groups), 24)
        # Rank: for each word, the weight of the best column it matched in, summed over the
        # words; then bm25. On a catalog of a few products a word found in most of them has
        # an inverse document frequency of ~0, and bm25 alone could not tell a match in a name
        # from one in a column description.
        weight = dict.fromkeys(rows, 0.0)
        for group in groups:
            for rowid, (_, marked) in self._marked(group, None).items():
                if rowid in weight:
                    weight[rowid] += max(w for (c, w), text in zip(COLUMNS.items(), marked) if _OPEN in text)
        out = [
            Hit(
                self.products[rowid],
                rank,
                weight[rowid],
                {column: to_html(text) for column, text in zip(COLUMNS, marked) if _OPEN in text},
            )
            for rowid, (rank, marked) in rows.items()
        ]
        out.sort(key=lambda h: (-h.weight, h.rank, h.product.id))
        return out, rewrites


def to_html(marked: str) -> str:
    """Escape catalog text for HTML, then turn the highlight markers into <mark> elements."""
    return html.escape(marked).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


_indexes: dict[int, Index] = {}


def _index(catalog: Catalog) -> Index:
    """One index per live catalog object (the web app builds a new catalog every `ttl` seconds)."""
    index = _indexes.get(id(catalog))
    if index is None:
        index = _indexes[id(catalog)] = Index(catalog)
        weakref.finalize(catalog, _indexes.pop, id(catalog), None)
    return index


def run_search(catalog: Catalog, query: str | None = None, filters: Filters | None = None) -> SearchResult:
    """Ranked hits with highlights, typo rewrites, and facet counts among the matches."""
    filters = filters or Filters()
    query = query or ""
    hits, rewrites = _index(catalog).hits(query)
    if not query.strip():
        hits.sort(key=lambda h: h.product.id)
    facets = {}
    for facet in FACETS:  # counts under every other filter, so a chosen facet still offers its siblings
        others = replace(filters, **{facet: None})
        counts: dict[str, int] = {}
        for hit in hits:
            if others.matches(hit.product):
                for value in facet_values(hit.product, facet):
                    counts[value] = counts.get(value, 0) + 1
        facets[facet] = sorted(counts.items())
    return SearchResult(
        query=query, hits=[h for h in hits if filters.matches(h.product)], rewrites=rewrites, facets=facets
    )


def search(catalog: Catalog, query: str | None = None, filters: Filters | None = None) -> list[Product]:
    """The matching products, best first (by id when there is no text query)."""
    return run_search(catalog, query, filters).products


FILTER_NAMES = tuple(f.name for f in fields(Filters))
