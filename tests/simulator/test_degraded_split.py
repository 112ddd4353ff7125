"""The split of a degraded routing graph into core and pendant trees, against networkx.

A failure analysis derives the routing of a network without some links and
nodes from the intact one (:meth:`simulator.routing.RoutingState.degraded`);
when only core edges and core nodes go, the new split is pruned further from
the old one instead of being redone. Whichever way it was obtained, it must be
the 2-core of the routers left (``networkx.k_core``), every other router must
hang off the core node its component's tree leads to, and two routers must
share a component label exactly when networkx finds them connected.
"""

from __future__ import annotations

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.failures import without
from simulator.routing import RoutingState
from tests.helpers import write_plan
from topology import load_plan

from .test_routing import networks, plan_text


@st.composite
def rings(draw):
    """Rings of 3 to 5 routers joined by single links (bridges between cycles), trees hung on them and a few
    chords: the shapes whose failures prune the core or split it."""
    edges: dict[tuple[int, int], int] = {}
    n = 0
    for k in range(draw(st.integers(1, 4))):
        size = draw(st.integers(3, 5))
        members = list(range(n, n + size))
        for a, b in zip(members, members[1:] + members[:1]):
            edges[(min(a, b), max(a, b))] = draw(st.integers(1, 3))
        if k:
            edges[(draw(st.integers(0, n - 1)), draw(st.sampled_from(members)))] = 1
        n += size
    for _ in range(draw(st.integers(0, 4))):  # pendant routers
        edges[(draw(st.integers(0, n - 1)), n)] = 1
        n += 1
    for _ in range(draw(st.integers(0, 2))):  # chords
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if a != b:
            edges.setdefault((min(a, b), max(a, b)), 2)
    return n, edges, draw(st.lists(st.integers(0, n - 1), max_size=2))


def router_graph(net, n: int) -> nx.Graph:
    """The routers of ``net`` and the links between two of them, built from the plan alone."""
    graph = nx.Graph()
    graph.add_nodes_from(f"r{i}" for i in range(n) if f"r{i}" in net.nodes)
    graph.add_edges_from((l.a, l.b) for l in net.links.values() if l.a in graph and l.b in graph)
    return graph


def check_split(g, graph: nx.Graph) -> None:
    core = set(nx.k_core(graph, 2))
    assert g.core == core
    parts = {frozenset(c) for c in nx.connected_components(graph)}
    labels = {}
    for x in graph:
        labels.setdefault(int(g.labels[g.index[x]]), set()).add(x)
    assert {frozenset(v) for v in labels.values()} == parts
    for x in graph:
        if x in core:
            continue
        reach = nx.single_source_shortest_path(graph, x)
        found = sorted((len(p), p) for y, p in reach.items() if y in core)
        if found:  # a tree hung on the core: it leads to one core node
            path = found[0][1]
            assert g.top[x] == path[-1], x
            assert g.parent[x] == path[1], x


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(networks(), rings()), st.data())
def test_a_degraded_split_is_the_2_core_with_its_trees(tmp_path_factory, spec, data):
    n, edges, hosts = spec
    net = load_plan(write_plan(tmp_path_factory.mktemp("d"), plan_text(n, edges, hosts)))
    base = RoutingState(net)
    failures = [((l,), ()) for l in net.links] + [((), (f"r{i}",)) for i in range(n)]
    if len(net.links) >= 2:
        pair = data.draw(st.lists(st.sampled_from(sorted(net.links)), min_size=2, max_size=3, unique=True))
        failures.append((tuple(pair), ()))
    for links, nodes in failures:
        after = without(net, links, nodes)
        check_split(base.degraded(after, links, nodes).graphs[None], router_graph(after, n))


def test_a_core_link_whose_ends_fall_off_the_core_is_pruned_from_the_old_split(tmp_path):
    # two triangles sharing r2, a tree under r4: failing r3--r4 leaves r3 and r4 hanging off r2
    edges = {(0, 1): 1, (1, 2): 1, (0, 2): 1, (2, 3): 1, (3, 4): 1, (2, 4): 1, (4, 5): 1}
    net = load_plan(write_plan(tmp_path, plan_text(6, edges, [5])))
    base = RoutingState(net)
    link = next(l.name for l in net.links.values() if {l.a, l.b} == {"r3", "r4"})
    after = without(net, [link])
    g = base.degraded(after, [link]).graphs[None]
    assert g.derived_from is not None  # the incremental split was taken, not the full one
    assert g.core == {"r0", "r1", "r2"}
    assert (g.top["r3"], g.top["r4"], g.top["r5"]) == ("r2", "r2", "r2")
    check_split(g, router_graph(after, 6))


def test_a_bridge_between_two_cores_splits_their_component(tmp_path):
    edges = {(0, 1): 1, (1, 2): 1, (0, 2): 1, (3, 4): 1, (4, 5): 1, (3, 5): 1, (2, 3): 1}
    net = load_plan(write_plan(tmp_path, plan_text(6, edges, [])))
    link = next(l.name for l in net.links.values() if {l.a, l.b} == {"r2", "r3"})
    after = without(net, [link])
    g = RoutingState(net).degraded(after, [link]).graphs[None]
    assert g.derived_from is not None and len(g.core) == 6
    assert not g.connected("r0", "r5") and g.connected("r0", "r2") and g.connected("r3", "r5")
