"""Routing against an independent brute force: networkx shortest paths on generated networks."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.routing import build_routing
from tests.helpers import write_plan
from topology import load_plan

HEAD = """\
name: gen
domains: {d: {kind: extranet, pool: 10.0.0.0/16}}
sites: {s: {}}
defaults: {node: {domain: d, site: s}}
"""


@st.composite
def networks(draw):
    """A connected random graph of routers (a random tree plus extra edges) with hosts hung on it."""
    n = draw(st.integers(2, 9))
    edges = {}
    for child in range(1, n):
        parent = draw(st.integers(0, child - 1))
        edges[(parent, child)] = draw(st.integers(1, 4))
    for _ in range(draw(st.integers(0, 5))):
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if a != b and (min(a, b), max(a, b)) not in edges:
            edges[(min(a, b), max(a, b))] = draw(st.integers(1, 4))
    hosts = draw(st.lists(st.integers(0, n - 1), max_size=4))
    return n, edges, hosts


def plan_text(n, edges, hosts) -> str:
    lines = [HEAD, "nodes:"]
    lines += [f"  r{i}: {{role: router}}" for i in range(n)]
    lines += [f"  h{j}: {{role: host}}" for j in range(len(hosts))]
    lines.append("links:")
    lines += [f"  - {{a: r{a}, b: r{b}, cost: {c}}}" for (a, b), c in sorted(edges.items())]
    lines += [f"  - {{a: h{j}, b: r{r}, cost: 1}}" for j, r in enumerate(hosts)]
    return "\n".join(lines) + "\n"


@settings(max_examples=60)
@given(networks())
def test_next_hops_equal_all_shortest_path_successors(tmp_path_factory, spec):
    n, edges, hosts = spec
    net = load_plan(write_plan(tmp_path_factory.mktemp("r"), plan_text(n, edges, hosts)))
    state = build_routing(net)
    graph = nx.Graph()
    graph.add_weighted_edges_from((f"r{a}", f"r{b}", c) for (a, b), c in edges.items())
    dist = dict(nx.all_pairs_dijkstra_path_length(graph))
    for u in graph:
        for d in graph:
            got = sorted({h.neighbor for h in state.next_hops(u, net.nodes[d].loopback.ip)})
            if u == d:
                assert got == []
                continue
            want = sorted(v for v in graph[u] if graph[u][v]["weight"] + dist[v][d] == dist[u][d])
            assert got == want, (u, d)
        for j, r in enumerate(hosts):  # a host is reached through the router it hangs on
            got = {h.neighbor for h in state.next_hops(u, net.nodes[f"h{j}"].loopback.ip)}
            if u == f"r{r}":
                assert got == {f"h{j}"}
            else:
                want = {v for v in graph[u] if graph[u][v]["weight"] + dist[v][f"r{r}"] == dist[u][f"r{r}"]}
                assert got == want


def test_hosts_never_carry_transit(tmp_path):
    # r0 - h (dual-homed) - r1: no router path, so r0 has no route to r1
    net = load_plan(write_plan(tmp_path, HEAD + "nodes: {r0: {role: router}, r1: {role: router}, h: {role: host}}\n"
                               "links: [r0 -- h, h -- r1]\n"))
    state = build_routing(net)
    assert state.next_hops("r0", net.nodes["r1"].loopback.ip) == []
    assert [x.neighbor for x in state.next_hops("r0", net.nodes["h"].loopback.ip)] == ["h"]


def test_static_route_beats_igp_and_is_redistributed(tmp_path):
    net = load_plan(write_plan(tmp_path, HEAD + """\
nodes:
  r0: {role: router}
  r1: {role: router}
  r2: {role: router, routes: [{prefix: 192.168.0.0/16, via: r1}]}
links: [r0 -- r2, r2 -- r1]
"""))
    state = build_routing(net)
    assert state.lookup("r2", "192.168.1.1").source == "static"
    assert [h.neighbor for h in state.next_hops("r2", "192.168.1.1")] == ["r1"]
    # r0 learns the redistributed static from r2
    assert [h.neighbor for h in state.next_hops("r0", "192.168.1.1")] == ["r2"]
    assert state.lookup("r0", "8.8.8.8") is None


def test_untrusted_cloud_originates_default(tmp_path):
    net = load_plan(write_plan(tmp_path, """\
name: cloud
domains: {d: {kind: extranet, pool: 10.0.0.0/16}, i: {kind: internet, pool: 100.64.0.0/16}}
sites: {s: {}}
defaults: {node: {domain: d, site: s}}
nodes: {r0: {role: router}, fw: {role: firewall}, isp: {role: cloud, domain: i}}
links: [r0 -- fw, fw -- isp]
"""))
    state = build_routing(net)
    route = state.lookup("r0", "8.8.8.8")
    assert route.source == "igp" and route.owners == {"isp"} and route.prefix.prefixlen == 0
    assert [h.neighbor for h in state.next_hops("r0", "8.8.8.8")] == ["fw"]


def test_vrf_routes_are_separate_unless_imported(tmp_path):
    # the PE's access interfaces take the VRF of the unit behind them
    net = load_plan(write_plan(tmp_path, HEAD + """\
vrfs: {a: {}, b: {}, shared: {}, c: {import: [shared]}}
nodes:
  pe: {role: router, interfaces: {ia: {vrf: a}, ib: {vrf: b}, is: {vrf: shared}, ic: {vrf: c}}}
  ha: {role: host, vrf: a}
  hb: {role: host, vrf: b}
  hs: {role: server, vrf: shared}
  hc: {role: host, vrf: c}
links: ["pe:ia -- ha", "pe:ib -- hb", "pe:is -- hs", "pe:ic -- hc"]
""", "vrf.yaml"))
    state = build_routing(net)
    hb = net.nodes["hb"].loopback.ip
    hs = net.nodes["hs"].loopback.ip
    assert state.lookup("pe", hb, "a") is None
    assert [h.neighbor for h in state.next_hops("pe", hb, "b")] == ["hb"]
    assert [h.neighbor for h in state.next_hops("pe", hs, "c")] == ["hs"]
    assert state.lookup("pe", hs, "a") is None
