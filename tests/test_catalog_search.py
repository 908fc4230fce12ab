"""Catalog search as people expect it (SQLite FTS5): ranked, whole words, typo-tolerant,
badges and owners searchable, facets, highlights that are HTML-safe. On the catalog of the
repository's mesh with an empty Dagster instance: search reads the descriptors and contracts,
not run results, so no run is needed."""

from __future__ import annotations

import re
from dataclasses import replace

import dagster as dg
import pytest
from conftest import write_instance_yaml

from mesh_platform.catalog.build import build_catalog
from mesh_platform.catalog.pages import render_index
from mesh_platform.catalog.search import Filters, Index, run_search, search, to_html

CHECKOUT = "checkout.web_orders_with_consent"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    home = write_instance_yaml(tmp_path_factory.mktemp("search") / "home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))
        yield build_catalog(dg.DagsterInstance.get())


def ids(products) -> list[str]:
    return [p.id for p in products]


def text_of(product) -> str:
    return " ".join(
        [
            product.id,
            product.title,
            product.purpose,
            product.usage or "",
            product.limitations or "",
            *(port.name for port in product.ports),
            *(port.description or "" for port in product.ports),
            *(f"{c.name} {c.description or ''}" for port in product.ports for c in port.columns),
        ]
    )


def test_rent_ranks_tenancy_analytics_first_and_not_current(catalog):
    found = ids(search(catalog, "rent"))
    assert found[0] == "brokerage.tenancy_analytics"  # a port is named rent_by_month_and_tenant
    # entity_ratings holds "rent" only inside "current": substring matching returned it
    ratings = catalog.get("risk.entity_ratings")
    assert "rent" in text_of(ratings).lower() and not re.search(r"(?<![a-z])rent", text_of(ratings).lower())
    assert "risk.entity_ratings" not in found
    assert set(found) == {"brokerage.tenancy_analytics", "brokerage.tenant_risk_exposure"}


def test_a_typo_is_read_as_the_nearest_indexed_word(catalog):
    result = run_search(catalog, "ordrs")
    assert ids(result.products)[0] == CHECKOUT
    assert "orders" in result.rewrites["ordrs"]  # and the page says so
    assert run_search(catalog, "orders").rewrites == {}
    assert ids(search(catalog, "tennant risk"))[0] == "brokerage.tenant_risk_exposure"


def test_pii_badge_finds_every_product_with_a_pii_column(catalog):
    with_pii = {p.id for p in catalog.products if any(c.pii for port in p.ports for c in port.columns)}
    assert with_pii == {CHECKOUT}
    assert set(ids(search(catalog, "PII"))) == with_pii
    assert set(ids(search(catalog, "pii"))) == with_pii


def test_deprecated_finds_the_product_of_the_deprecated_port(catalog):
    deprecated = {p.id for p in catalog.products if any(port.contract_status == "deprecated" for port in p.ports)}
    assert deprecated == {CHECKOUT}  # its v1 port (v2 is active)
    assert set(ids(search(catalog, "deprecated"))) == deprecated
    assert catalog.get(CHECKOUT).status == "active"  # found by its port's state, not its own


def test_quality_level_tier_and_owner_are_searchable(catalog):
    gold = {p.id for p in catalog.products if p.quality_level == "gold"}
    assert len(gold) >= 2 and set(ids(search(catalog, "gold"))) == gold
    assert ids(search(catalog, "risk-data@example.com")) == ["risk.entity_ratings"]
    assert set(ids(search(catalog, "Brokerage Team"))) == {
        "brokerage.tenancy_analytics",
        "brokerage.tenant_risk_exposure",
    }


def test_a_name_match_outranks_description_matches(catalog):
    found = ids(search(catalog, "tenant"))
    assert set(found[:2]) == {"brokerage.tenant_risk_exposure", "brokerage.tenancy_analytics"}
    assert found[2:] == ["risk.entity_ratings"]


def test_every_word_must_match_and_nothing_matches_nothing(catalog):
    assert ids(search(catalog, "rent lift")) == []
    assert ids(search(catalog, "no-such-word-anywhere")) == []
    assert ids(search(catalog, "billing_customer_id")) == [CHECKOUT]
    for hostile in ['"', "AND OR NOT", "NEAR(a b", "*", "col:rent", "'); DROP TABLE doc; --"]:
        run_search(catalog, hostile)  # FTS5 syntax in a query is text, never an error


def test_facets_filter_and_count(catalog):
    everything = run_search(catalog, "")
    by_domain = {}
    for p in catalog.products:
        by_domain[p.domain] = by_domain.get(p.domain, 0) + 1
    assert dict(everything.facets["domain"]) == by_domain
    assert dict(everything.facets["state"])["deprecated"] == 1
    assert ids(search(catalog, "", Filters(state="deprecated"))) == [CHECKOUT]
    assert ids(search(catalog, "", Filters(quality="gold", domain="brokerage"))) == ["brokerage.tenancy_analytics"]
    tier = catalog.get("risk.entity_ratings").tier
    assert set(ids(search(catalog, "", Filters(tier=tier)))) == {p.id for p in catalog.products if p.tier == tier}
    # a chosen facet still counts its other values (under the other filters and the query)
    chosen = run_search(catalog, "rent", Filters(quality="gold"))
    assert ids(chosen.products) == ["brokerage.tenancy_analytics"]
    assert set(dict(chosen.facets["quality"])) == {"gold", "silver"}
    assert dict(chosen.facets["domain"]) == {"brokerage": 1}


def test_highlights_mark_matches_and_escape_html(catalog):
    (hit, *_) = run_search(catalog, "rent").hits
    assert "<mark>rent</mark>_by_month_and_tenant" in hit.highlights["name"]
    hostile = replace(catalog.get("brokerage.tenancy_analytics"), purpose='<script>alert(1)</script> rent & "co"')
    index = Index(replace(catalog, products=[hostile]))
    (hit,), _ = index.hits("rent")
    assert hit.highlights["description"].startswith(
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>rent</mark> &amp; &quot;co&quot;"
    )
    assert to_html("a<b") == "a&lt;b"
    result = run_search(catalog, "rent")
    page = render_index(catalog, result.products, "rent", Filters(), result=result)
    assert page.count("<mark>rent</mark>") >= 2 and "<script>alert" not in page
    assert 'href="index.html?q=rent&amp;quality=gold"' in page  # a facet link keeps the query
