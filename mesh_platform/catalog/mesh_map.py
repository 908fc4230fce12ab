"""The mesh map: products as nodes grouped by domain, input ports and agreements as edges,
coloured by health. networkx holds the graph and orders it (topological generations become
columns, domains become lanes); the result is a plain SVG, so the map needs no JavaScript and
works the same in the web app and the static site.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from mesh_platform.catalog.model import Catalog, worst
from mesh_platform.mesh.address import PortAddress

COLOURS = {
    "pass": "#2e7d32",
    "waived": "#558b2f",
    "warn": "#f9a825",
    "fail": "#c62828",
    "unknown": "#78909c",
    "not_evaluated": "#90a4ae",
    "n/a": "#b0bec5",
}
NODE_W, NODE_H = 230, 64
COL_GAP, ROW_GAP, LANE_PAD, LANE_LABEL = 240, 18, 16, 26
CURVE = 64  # the part of a column gap where edges bend; the rest holds their labels
# Edge labels sit in the gap before the consumer, one row each, in a monospace font whose width
# is known, so a label is cut to fit its box; the whole text is the edge's tooltip and a row of
# the table beside the map.
LABEL_FONT, LABEL_H, LABEL_PAD = 10, 15, 4
MONO_EM = 0.62  # advance of a monospace glyph (DejaVu/Liberation Mono: 0.60-0.61 em), rounded up


def text_width(text: str, font_px: float, mono: bool = False) -> float:
    """A width that the text does not exceed in common sans-serif (or monospace) fonts."""
    if mono:
        return len(text) * font_px * MONO_EM
    em = 0.0
    for char in text:
        if char in "iljtf.,:;'|!()[] ":
            em += 0.4
        elif char in "mwMW@%":
            em += 1.0
        elif char.isupper() or char.isdigit():
            em += 0.8
        else:
            em += 0.66
    return em * font_px


def fit(text: str, width: float, font_px: float, mono: bool = False, middle: bool = False) -> str:
    """The text, cut with an ellipsis where it would be wider than `width` pixels: at the end,
    or in the `middle` (a port name's end tells versions apart: `orders_with…_v2`)."""
    if text_width(text, font_px, mono) <= width:
        return text
    head, tail = text, ""
    if middle:
        head, tail = text[: len(text) // 2], text[len(text) // 2 :]
    while head and text_width(head + "…" + tail, font_px, mono) > width:
        if middle and len(tail) > len(head):
            tail = tail[1:]
        else:
            head = head[:-1]
    return head.rstrip() + "…" + tail


@dataclass
class Node:
    id: str
    title: str
    domain: str
    x: float
    y: float
    health: dict[str, str]
    colour: str
    href: str
    status: str
    title_text: str = ""  # the title and id as drawn: cut to fit the box (whole in the tooltip)
    id_text: str = ""


@dataclass
class Lane:
    domain: str
    x: float
    y: float
    width: float
    height: float


@dataclass
class EdgeShape:
    producer: str
    consumer: str
    port: str
    kind: str
    path: str
    colour: str
    label: str  # as drawn: the port's name, cut to fit the label box
    label_x: float  # the label box
    label_y: float
    label_w: float
    label_h: float
    tooltip: str  # the whole story: who reads which port, and why
    purpose: str | None = None


@dataclass
class MeshMap:
    nodes: list[Node]
    lanes: list[Lane]
    edges: list[EdgeShape]
    width: float
    height: float
    colours: dict[str, str]


def mesh_graph(catalog: Catalog) -> nx.MultiDiGraph:
    """Products and their edges (producer -> consumer, one per port read)."""
    graph = nx.MultiDiGraph()
    for product in catalog.products:
        graph.add_node(product.id, domain=product.domain)
    for edge in catalog.edges:
        graph.add_edge(edge.producer, edge.consumer, key=edge.port, kind=edge.kind)
    return graph


def columns(graph: nx.MultiDiGraph) -> dict[str, int]:
    simple = nx.DiGraph(graph)
    simple.remove_edges_from(nx.selfloop_edges(simple))
    condensed = nx.condensation(simple)  # products never form a cycle; if they ever did, keep drawing
    column = {}
    for depth, members in enumerate(nx.topological_generations(condensed)):
        for scc in members:
            for node in condensed.nodes[scc]["members"]:
                column[node] = depth
    return column


def layout(catalog: Catalog, href=lambda product: product.catalog_path) -> MeshMap:
    graph = mesh_graph(catalog)
    column = columns(graph)
    drawn = [e for e in catalog.edges if e.producer != e.consumer]
    edges_in: dict[str, list[int]] = {p.id: [] for p in catalog.products}
    edges_out: dict[str, list[int]] = {p.id: [] for p in catalog.products}
    for i, edge in enumerate(drawn):
        edges_in[edge.consumer].append(i)
        edges_out[edge.producer].append(i)
    # a node's slot is tall enough for one label row per edge into it
    slot = {pid: max(NODE_H, LABEL_H * len(edges_in[pid]) + 2 * LABEL_PAD) for pid in edges_in}
    domains = sorted(
        {p.domain for p in catalog.products},
        key=lambda d: (min(column[p.id] for p in catalog.products if p.domain == d), d),
    )
    nodes: dict[str, Node] = {}
    lanes = []
    y = 0.0
    for domain in domains:
        members = sorted((p for p in catalog.products if p.domain == domain), key=lambda p: (column[p.id], p.id))
        bottom: dict[int, float] = {}  # next free y in each column of this lane
        for product in members:
            top = bottom.get(column[product.id], y + LANE_LABEL)
            bottom[column[product.id]] = top + slot[product.id] + ROW_GAP
            health = {
                "contract": product.health.contract,
                "freshness": product.health.freshness,
                "policies": product.health.policies,
            }
            nodes[product.id] = Node(
                id=product.id,
                title=product.title,
                domain=domain,
                x=LANE_PAD + column[product.id] * (NODE_W + COL_GAP),
                y=top + (slot[product.id] - NODE_H) / 2,
                health=health,
                colour=COLOURS[worst(list(health.values()))],
                href=href(product),
                status=product.status,
                title_text=fit(product.title, NODE_W - 24, 13),
                id_text=fit(product.id, NODE_W - 24, 11, mono=True),
            )
        height = max(bottom.values()) - ROW_GAP - y + LANE_PAD
        lanes.append(Lane(domain=domain, x=0, y=y, width=0, height=height))
        y += height + ROW_GAP
    width = LANE_PAD * 2 + (max(column.values(), default=0) + 1) * (NODE_W + COL_GAP) - COL_GAP
    for lane in lanes:
        lane.width = width

    def spread(node: Node, k: int, n: int) -> float:
        """The y of the k-th of n edges leaving or entering a node: one label row apart, centred."""
        return node.y + NODE_H / 2 + (k - (n - 1) / 2) * LABEL_H

    edges = []
    for i, edge in enumerate(drawn):
        a, b = nodes[edge.producer], nodes[edge.consumer]
        out_k, in_k = edges_out[edge.producer].index(i), edges_in[edge.consumer].index(i)
        x1, y1 = a.x + NODE_W, spread(a, out_k, len(edges_out[edge.producer]))
        y2 = spread(b, in_k, len(edges_in[edge.consumer]))
        label_w = COL_GAP - CURVE - 12  # room for the arrow head
        label_x, label_y = b.x - COL_GAP + CURVE, y2 - (LABEL_H - 2) / 2
        x2 = b.x
        bend = max(CURVE / 2, (label_x - x1) / 2)
        # a curve into the label box's row, then straight through it to the consumer
        path = (
            f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {label_x - bend:.0f},{y2:.0f} {label_x:.0f},{y2:.0f} "
            f"L{x2 - 6:.0f},{y2:.0f}"
        )
        found = catalog.port(edge.port)
        state = "unknown"
        if found:
            port = found[1]
            state = worst([port.contract_state, port.freshness.state])
        port_name = PortAddress.parse(edge.port).port
        tooltip = f"{edge.consumer} reads {edge.port}" + (f": {edge.purpose}" if edge.purpose else "")
        edges.append(
            EdgeShape(
                producer=edge.producer,
                consumer=edge.consumer,
                port=edge.port,
                kind=edge.kind,
                path=path,
                colour=COLOURS[state],
                label=fit(port_name, label_w - 2 * LABEL_PAD, LABEL_FONT, mono=True, middle=True),
                label_x=label_x,
                label_y=label_y,
                label_w=label_w,
                label_h=LABEL_H - 2,
                tooltip=tooltip,
                purpose=edge.purpose,
            )
        )
    return MeshMap(nodes=list(nodes.values()), lanes=lanes, edges=edges, width=width, height=max(y, 1), colours=COLOURS)
