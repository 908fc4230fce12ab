"""The risk domain's one piece of Python: rating the current tenants through the provider's API.

Reads the brokerage domain's published `current_tenants` output port, asks the ratings
provider (domains/risk/ratings.py) for every LEI in batches, and only when every batch
succeeded appends the day's ratings to the history table `ratings_api.ratings_history` (in the
domain's DuckDB in dev, on BigQuery in prod: the platform's context decides), which the dbt
model `entity_ratings` exposes as the output port.
"""

from __future__ import annotations

from pathlib import Path

from mesh_platform.importing import import_file
from mesh_platform.python_tables import ProductContext, product_table


def _sibling(name: str):
    """Import domains/risk/<name>.py (domains are folders, not packages)."""
    return import_file(Path(__file__).with_name(f"{name}.py"), f"mesh_domain_risk_{name}", reuse=True)


@product_table(
    product="entity_ratings", table="ratings_history", inputs=["current_tenants"], audited_by="entity_ratings"
)
def ratings_history(ctx: ProductContext) -> dict:
    """Dated ratings history (as_of, lei, rating, outlook, agency) bought from the ratings provider
    for every current tenant; appended in one transaction once every API batch succeeded and the
    answer passed the entity_ratings contract."""
    ratings = _sibling("ratings")
    tenants = ctx.read_input("current_tenants", columns=["lei"])
    leis = sorted(set(tenants["lei"].to_pylist()))
    if not leis:
        raise ratings.RatingsError("current_tenants is empty: nothing to rate (the history is left unchanged)")
    config = ratings.RatingsConfig.from_env()
    ctx.log.info(f"rating {len(leis)} LEIs at {config.base_url} in batches of {config.batch_size}")
    with ratings.RatingsClient(config) as client:
        result = client.rate_all(leis, log=ctx.log)
    written = ctx.append_audited(
        ratings.to_arrow(result),
        schema=ratings.HISTORY_SCHEMA,
        table=ratings.HISTORY_TABLE,
        primary_key=["as_of", "lei"],
        replace_on=["as_of"],
    )
    return {
        "as_of": result.as_of.isoformat(),
        "dagster/row_count": written,
        "api_requests": result.requests,
        "api_retries": result.retries,
        "provider": config.base_url,
    }
