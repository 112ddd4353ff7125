"""A link's cost that moves no route (RoutingState.cost_moot), against networkx on generated networks.

The oracle is independent of govnet's routing: all shortest-path successors of networkx's Dijkstra on the
plan's routers, before and after the cost of the link changes, in the intact network and after every single
failure of another link or router. A link govnet calls moot must change no successor set anywhere, and be a
bridge (networkx ``bridges``). Every link on a cycle must be called not moot; that is the planted case a
careless answer would miss.
"""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.routing import build_routing
from tests.helpers import write_plan
from topology import load_plan

from .test_degraded_split import rings
from .test_routing import HEAD, networks, plan_text


def _graph(n: int, edges: dict[tuple[int, int], int]) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(f"r{i}" for i in range(n))
    graph.add_weighted_edges_from((f"r{a}", f"r{b}", c) for (a, b), c in edges.items())
    return graph


def _successors(graph: nx.Graph) -> dict[tuple[str, str], frozenset[str]]:
    dist = dict(nx.all_pairs_dijkstra_path_length(graph))
    return {(u, d): frozenset(v for v in graph[u] if d in dist[v] and graph[u][v]["weight"] + dist[v][d] == dist[u][d])
            for u in graph for d in dist[u] if u != d}


def _every_failure(graph: nx.Graph, keep: tuple[str, str]) -> list[nx.Graph]:
    out = [graph]
    for u, v in graph.edges:
        if {u, v} != set(keep):
            g = graph.copy()
            g.remove_edge(u, v)
            out.append(g)
    for x in graph:
        if x not in keep:
            g = graph.copy()
            g.remove_node(x)
            out.append(g)
    return out


@settings(max_examples=80, deadline=None)
@given(st.one_of(networks(), rings()), st.integers(5, 50))
def test_a_moot_cost_moves_no_shortest_path_in_any_failure(tmp_path_factory, spec, new_cost):
    n, edges, hosts = spec
    net = load_plan(write_plan(tmp_path_factory.mktemp("m"), plan_text(n, edges, hosts)))
    routing = build_routing(net)
    graph = _graph(n, edges)
    bridges = {frozenset(e) for e in nx.bridges(graph)}
    for (a, b), cost in edges.items():
        link = next(l for l in net.links.values() if {l.a, l.b} == {f"r{a}", f"r{b}"})
        moot = routing.cost_moot(link)
        if frozenset((f"r{a}", f"r{b}")) not in bridges:
            assert not moot, link.name  # on a cycle: its cost can decide a route
            continue
        if not moot:
            continue
        changed = _graph(n, {**edges, (a, b): cost + new_cost})
        for before, after in zip(_every_failure(graph, (f"r{a}", f"r{b}")),
                                 _every_failure(changed, (f"r{a}", f"r{b}"))):
            assert _successors(before) == _successors(after), link.name


def test_a_link_to_a_leaf_router_is_moot_and_a_ring_link_is_not(tmp_path):
    edges = {(0, 1): 1, (1, 2): 1, (0, 2): 1, (2, 3): 5}
    net = load_plan(write_plan(tmp_path, plan_text(4, edges, [3])))
    routing = build_routing(net)
    moot = {l.name: routing.cost_moot(l) for l in net.links.values()}
    assert moot == {"r0--r1": False, "r0--r2": False, "r1--r2": False, "r2--r3": True, "h0--r3": True}


def test_parallel_links_to_a_leaf_decide_between_themselves(tmp_path):
    # r1 hangs off r0 by two links: the cheaper carries every route, so neither cost is moot
    text = HEAD + ("nodes: {r0: {role: router}, r1: {role: router}, r2: {role: router}}\n"
                   "links: [{a: r0, b: r1, name: first, cost: 1}, {a: r0, b: r1, name: second, cost: 2},"
                   " {a: r0, b: r2, cost: 1}]\n")
    net = load_plan(write_plan(tmp_path, text))
    routing = build_routing(net)
    assert [routing.cost_moot(net.links[n]) for n in ("first", "second", "r0--r2")] == [False, False, True]
