"""The MCP tools: names, argument schemas and descriptions written for a model, over answers.py
and access.py. Every answer and every error message passes through the platform's redaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from mesh_platform.catalog.mcp_server import access, answers
from mesh_platform.catalog.web import CatalogCache
from mesh_platform.redaction import redact, redact_value

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
WRITES_A_REQUEST = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)

ProductId = Annotated[str, Field(description="A product id: <domain>.<product>, e.g. from search_products.")]
PortAddress = Annotated[
    str, Field(description="An output port address: <domain>.<product>.<port>, as get_product lists them.")
]


def _answer(fn: Callable[..., dict], *args) -> dict[str, Any]:
    """A redacted answer, or a tool error with the reason (never a traceback)."""
    try:
        return redact_value(fn(*args))
    except answers.BadArgument as exc:
        raise ToolError(redact(str(exc))) from None


def tool(server: MCPServer, annotations: ToolAnnotations):
    """Register a tool; its docstring, as one paragraph, is the description a model reads."""

    def add(fn: Callable) -> Callable:
        server.add_tool(fn, description=" ".join(fn.__doc__.split()), annotations=annotations)
        return fn

    return add


def register(server: MCPServer, cache: CatalogCache) -> None:
    @tool(server, READ_ONLY)
    def search_products(
        query: Annotated[
            str, Field(description="Words to find, e.g. 'orders consent'; every word must match. Empty lists all.")
        ],
        domain: Annotated[str | None, Field(description="Only products of this domain.")] = None,
        state: Annotated[
            str | None,
            Field(description="Only products in this lifecycle state (or with a port in it): active, deprecated..."),
        ] = None,
    ) -> dict[str, Any]:
        """Find data products in the mesh catalog by words in their names, descriptions, tags, column names,
        badges (PII, gold, deprecated) and owners. Typos are forgiven (`read_as` says how a word was read).
        Returns the best matches first, each with id, title, purpose, owner team, lifecycle state, health and
        output ports. Use get_product for the details of one."""
        return _answer(answers.search_products, cache(), query, domain, state)

    @tool(server, READ_ONLY)
    def get_product(id: ProductId) -> dict[str, Any]:
        """One data product: owner team and contacts, purpose, usage and limitations, lifecycle state, schedule,
        and per output port its contract, SLA, freshness, quality by dimension (from recorded contract-check
        results; 'no recorded results' when no run has recorded any) and published rows; plus what it reads,
        who consumes it and its monthly cost."""
        return _answer(answers.get_product, cache(), id)

    @tool(server, READ_ONLY)
    def get_contract(port: PortAddress) -> dict[str, Any]:
        """The ODCS data contract of an output port: its terms (usage, limitations, billing, notice period),
        SLA, lifecycle state and the schema with each column's type, constraints, classification and PII flag.
        Read the terms before recommending the data for a purpose. The whole contract document is the
        resource mesh://contracts/<port>."""
        return _answer(answers.get_contract, cache(), port)

    @tool(server, READ_ONLY)
    def get_lineage(product_id: ProductId) -> dict[str, Any]:
        """Where a product's data comes from and where it goes: every product upstream and downstream
        (transitively) and the edges among them (which output port each consumer reads, under which usage
        agreement), with the columns each consumer's SQL reads where the mesh knows them."""
        return _answer(answers.get_lineage, cache(), product_id)

    @tool(server, READ_ONLY)
    def get_quality(
        product_id: ProductId,
        since: Annotated[
            str | None, Field(description="ISO-8601 date or time (UTC), e.g. 2026-11-01; default: all recorded.")
        ] = None,
    ) -> dict[str, Any]:
        """The contract-check results recorded for a product's output ports (every evaluation since `since`,
        oldest first, and the latest per quality dimension). 'no recorded results' means no run has checked
        the port yet: that is not a pass."""
        return _answer(answers.get_quality, cache.instance(), cache(), product_id, since)

    @tool(server, READ_ONLY)
    def list_agreements(
        product_id: Annotated[
            str | None, Field(description="Only agreements this product asked for or provides (<domain>.<product>).")
        ] = None,
    ) -> dict[str, Any]:
        """Usage agreements between consumer products and provider output ports, with the purpose, the status
        today (active, pending approval, not started, ended, terminated) and the provider port's lifecycle."""
        return _answer(answers.list_agreements, cache(), product_id)

    @tool(server, WRITES_A_REQUEST)
    def request_access(
        port: PortAddress,
        consumer_product: Annotated[
            str, Field(description="The product that will read the port: <domain>.<product>, of another domain.")
        ],
        purpose: Annotated[
            str, Field(description="What the consumer will use the data for, in a sentence the provider can judge.")
        ],
    ) -> dict[str, Any]:
        """Ask for a usage agreement on an output port: writes the agreement request file in the consumer
        domain's agreements folder (the same file `mesh agreement request` writes) and returns its path, its
        status and the step the provider team must take to approve it. It does not approve and does not
        commit: the consumer team opens a pull request with the file."""

        def write_and_describe() -> dict:
            file, agreement_id = access.write_request(port, consumer_product, purpose)
            cache.invalidate()  # rebuilt with the request in it, for this answer and the next ones
            return access.requested(cache(), file, agreement_id, port, consumer_product)

        return _answer(write_and_describe)
