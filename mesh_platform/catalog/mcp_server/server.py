"""`mesh catalog mcp`: the catalog, contracts and agreements for AI assistants over the Model
Context Protocol (the official `mcp` SDK's MCPServer, formerly FastMCP), on stdio or streamable HTTP.

It reads the catalog the web app and GraphQL read (catalog/web.py's CatalogCache over
catalog/build.py) and restates nothing; it is read-only except `request_access`.
"""

from __future__ import annotations

from typing import Literal

import anyio.to_thread
import dagster as dg
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.types import Resource

from mesh_platform.catalog.mcp_server import resources, tools
from mesh_platform.catalog.mcp_server.answers import BadArgument
from mesh_platform.catalog.web import CatalogCache
from mesh_platform.redaction import redact

INSTRUCTIONS = """\
The data mesh's catalog. Each data product belongs to a domain team and publishes output ports, each
under an ODCS data contract (terms of use, SLA, schema with classifications). Find products with
search_products, read one with get_product, its contract with get_contract (check the usage and
limitations before recommending data for a purpose), where its data comes from and goes with
get_lineage, its recorded check results with get_quality and its usage agreements with
list_agreements. request_access writes an agreement request for the consumer team to merge; the
provider team approves it. Nothing here returns rows of data."""


class MeshServer(MCPServer):
    """Lists each product descriptor and contract of the current catalog as a resource, so a
    product published after the server started is listed too."""

    def __init__(self, cache: CatalogCache, **kwargs):
        super().__init__(**kwargs)
        self.cache = cache

    async def list_resources(self) -> list[Resource]:
        catalog = await anyio.to_thread.run_sync(self.cache)
        return [Resource(mime_type=resources.YAML, **item) for item in resources.listing(catalog)]


def create_server(ttl: float = 10.0, instance: dg.DagsterInstance | None = None) -> MeshServer:
    cache = CatalogCache(ttl, instance)
    server = MeshServer(cache, name="mesh-catalog", instructions=INSTRUCTIONS, log_level="WARNING")
    tools.register(server, cache)

    def read(fn, key: str) -> str:
        try:
            return fn(cache(), key)
        except BadArgument as exc:
            raise ResourceNotFoundError(redact(str(exc))) from None

    @server.resource("mesh://products/{product_id}", mime_type=resources.YAML, title="Product descriptor (ODPS)")
    def product_descriptor(product_id: str) -> str:
        """A data product's descriptor as its team wrote it (ODPS YAML)."""
        return read(resources.descriptor_text, product_id)

    @server.resource("mesh://contracts/{port}", mime_type=resources.YAML, title="Data contract (ODCS)")
    def port_contract(port: str) -> str:
        """An output port's data contract as its team wrote it (ODCS YAML)."""
        return read(resources.contract_text, port)

    return server


def serve(
    transport: Literal["stdio", "streamable-http"], host: str = "127.0.0.1", port: int = 8000, ttl: float = 10.0
) -> None:
    server = create_server(ttl)
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)
