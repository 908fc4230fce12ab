"""The mesh map: products as nodes grouped by domain, input ports and agreements as edges,
coloured by health. networkx holds the graph and orders it (topological generations become
columns, domains become lanes); the result is a plain SVG, so the map needs no JavaScript and
works the same in the web app and the static site.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from mesh_platform.catalog.model import Catalog, worst

COLOURS = {"pass": "#2e7d32", "waived": "#558b2f", "warn": "#f9a825", "fail": "#c62828", "unknown": "#78909c",
           "not_evaluated": "#90a4ae", "n/a": "#b0bec5"}
NODE_W, NODE_H = 230, 64
COL_GAP, ROW_GAP, LANE_PAD, LANE_LABEL = 110, 18, 16, 26


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
    label: str
    label_x: float
    label_y: float


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
    domains = sorted({p.domain for p in catalog.products},
                     key=lambda d: (min(column[p.id] for p in catalog.products if p.domain == d), d))
    nodes: dict[str, Node] = {}
    lanes = []
    y = 0.0
    for domain in domains:
        members = sorted((p for p in catalog.products if p.domain == domain), key=lambda p: (column[p.id], p.id))
        stack: dict[int, int] = {}
        for product in members:
            row = stack.get(column[product.id], 0)
            stack[column[product.id]] = row + 1
            health = {"contract": product.health.contract, "freshness": product.health.freshness,
                      "policies": product.health.policies}
            nodes[product.id] = Node(
                id=product.id, title=product.title, domain=domain,
                x=LANE_PAD + column[product.id] * (NODE_W + COL_GAP),
                y=y + LANE_LABEL + row * (NODE_H + ROW_GAP), health=health,
                colour=COLOURS[worst(list(health.values()))], href=href(product), status=product.status)
        rows = max(stack.values())
        height = LANE_LABEL + rows * NODE_H + (rows - 1) * ROW_GAP + LANE_PAD
        lanes.append(Lane(domain=domain, x=0, y=y, width=0, height=height))
        y += height + ROW_GAP
    width = LANE_PAD * 2 + (max(column.values(), default=0) + 1) * (NODE_W + COL_GAP) - COL_GAP
    for lane in lanes:
        lane.width = width

    edges = []
    seen: dict[tuple[str, str], int] = {}
    for edge in catalog.edges:
        a, b = nodes[edge.producer], nodes[edge.consumer]
        nth = seen.get((edge.producer, edge.consumer), 0)
        seen[(edge.producer, edge.consumer)] = nth + 1
        x1, y1 = a.x + NODE_W, a.y + NODE_H / 2 + nth * 10
        x2, y2 = b.x, b.y + NODE_H / 2 + nth * 10
        bend = max(40.0, (x2 - x1) / 2)
        path = f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2 - 6:.0f},{y2:.0f}"
        found = catalog.port(edge.port)
        state = "unknown"
        if found:
            port = found[1]
            state = worst([port.contract_state, port.freshness.state])
        label = edge.port.split(".")[-1] + (f" ({edge.purpose})" if edge.purpose else "")
        edges.append(EdgeShape(producer=edge.producer, consumer=edge.consumer, port=edge.port, kind=edge.kind,
                               path=path, colour=COLOURS[state], label=label,
                               label_x=x2 - 8, label_y=y2 - 8))
    return MeshMap(nodes=list(nodes.values()), lanes=lanes, edges=edges, width=width, height=max(y, 1),
                   colours=COLOURS)
