"""Forwarder.dst_rest: a host, or a router of a pendant tree, decides every destination outside its exceptions
as the one decision it gives.

The claim is checked exhaustively on generated plans: for every host and every elementary destination piece of
the network (both ends of each), :meth:`Forwarder.dst_decision` is asked directly and must give the same group
wherever the piece lies outside the exceptions. The plans mix what the exceptions are about: hosts linked to one
or two routers or to another host, LANs, a router's static route, an internet cloud (the default route) linked
or not, routers in a tree or a meshed core, and nodes with a static route of their own (for which no rest is
claimed).
"""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.forwarding import build_forwarding
from simulator.reach import reach_answer
from tests.helpers import write_plan
from topology import load_plan


@st.composite
def plans(draw) -> str:
    routers = draw(st.integers(1, 4))
    hosts = draw(st.integers(1, 4))
    lines = ["name: stubs", "domains: {d: {kind: extranet, pool: 10.0.0.0/20}, i: {kind: internet, pool: 198.51.100.0/24}}",
             "sites: {s: {}}", "defaults: {node: {domain: d, site: s}}", "nodes:"]
    links: list[str] = []
    for r in range(routers):
        parent = draw(st.integers(0, r - 1)) if r else None
        static = ""
        if parent is not None and draw(st.booleans()):
            static = f", routes: [{{prefix: 10.9.{r}.0/24, via: r{parent}}}]"
        lines.append(f"  r{r}: {{role: router{static}}}")
        if parent is not None:
            links.append(f"  - {{a: r{parent}, b: r{r}, cost: {draw(st.integers(1, 3))}}}")
    if routers > 2 and draw(st.integers(0, 2)) == 0:  # a mesh: a core, and trees hanging off it
        links.append(f"  - {{a: r{routers - 1}, b: r{draw(st.integers(0, routers - 3))}, cost: {draw(st.integers(1, 3))}}}")
    for h in range(hosts):
        gateways = draw(st.lists(st.integers(0, routers - 1), min_size=1, max_size=2, unique=True))
        lan = f", lan: 10.8.{h}.0/24" if draw(st.booleans()) else ""
        own = f", routes: [{{prefix: 10.7.0.0/16, via: r{gateways[0]}}}]" if draw(st.integers(0, 5)) == 0 else ""
        lines.append(f"  h{h}: {{role: host{lan}{own}}}")
        links += [f"  - {{a: h{h}, b: r{r}, cost: {draw(st.integers(1, 3))}}}" for r in gateways]
        if h and draw(st.integers(0, 3)) == 0:
            links.append(f"  - h{h} -- h{draw(st.integers(0, h - 1))}")
    if draw(st.integers(0, 3)):  # mostly with the default route, without which no rest is claimed
        lines.append("  inet: {role: cloud, domain: i}")
        links.append(f"  - {{a: r{draw(st.integers(0, routers - 1))}, b: inet, medium: internet, domain: i}}")
        if draw(st.booleans()):
            links.append("  - {a: h0, b: inet, medium: internet, domain: i}")
    return "\n".join(lines + ["links:"] + links) + "\n"


def points(bounds: list[int]) -> list[int]:
    cuts = [0] + bounds + [2**32]
    return sorted({p for lo, hi in pairwise(cuts) for p in (lo, hi - 1)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=plans())
def test_a_host_decides_everything_outside_its_exceptions_alike(tmp_path, text):
    net = load_plan(write_plan(tmp_path, text))
    fw = build_forwarding(net)
    everywhere = points(fw.boundaries())
    for node in net.nodes:
        rest = fw.dst_rest(node, net.nodes[node].vrf)
        if net.nodes[node].routes or node == "inet":
            assert rest is None, "a rest claimed for a node with a static route, or the default route's owner"
        if rest is None:
            continue
        exceptions, decision = rest
        outside = [p for p in everywhere if not exceptions.contains(p)]
        assert outside, "a rest was claimed with no destination outside the exceptions"
        for p in outside:
            assert fw.dst_decision(node, net.nodes[node].vrf, p).group == decision.group, (node, p)


def test_a_host_with_a_static_route_of_its_own_claims_no_rest(tmp_path):
    net = load_plan(write_plan(tmp_path, """\
        name: own
        domains: {d: {kind: extranet, pool: 10.0.0.0/24}, i: {kind: internet, pool: 198.51.100.0/24}}
        sites: {s: {}}
        defaults: {node: {domain: d, site: s}}
        nodes: {r: {role: router}, h: {role: host, routes: [{prefix: 10.7.0.0/16, via: r}]}, inet: {role: cloud, domain: i}}
        links: [h -- r, {a: r, b: inet, medium: internet, domain: i}]
        """))
    assert build_forwarding(net).dst_rest("h", None) is None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=plans())
def test_reach_from_hosts_is_the_same_with_the_rest_and_piece_by_piece(tmp_path, text, monkeypatch):
    """The reachability answer with a host's rest used equals the one found deciding every piece."""
    net = load_plan(write_plan(tmp_path, text))
    sources = list(net.nodes)
    with_rest = reach_answer(net, sources, sources, check=1)
    fresh = load_plan(write_plan(tmp_path, text))
    monkeypatch.setattr(type(build_forwarding(fresh)), "dst_rest", lambda self, node, vrf: None)
    without = reach_answer(fresh, sources, sources, check=1)
    key = [(c.src_node, c.dst_node, str(c.space), c.path, c.choices) for c in with_rest.classes]
    assert key == [(c.src_node, c.dst_node, str(c.space), c.path, c.choices) for c in without.classes]
    assert [(l.src_node, str(l.space), l.path) for l in with_rest.loops] == \
        [(l.src_node, str(l.space), l.path) for l in without.loops]


TWO_GATEWAYS = """\
name: two
domains: {d: {kind: extranet, pool: 10.0.0.0/20}, i: {kind: internet, pool: 198.51.100.0/24}}
sites: {s: {}}
defaults: {node: {domain: d, site: s}}
nodes: {r0: {role: router}, r1: {role: router}, h0: {role: host}, inet: {role: cloud, domain: i}}
links: [r0 -- r1, {a: h0, b: r0, cost: 1}, {a: h0, b: r1, cost: 2}, {a: r0, b: inet, medium: internet, domain: i}]
"""


def test_a_host_sends_to_its_second_router_directly_and_the_rest_through_its_first(tmp_path):
    """A planted case: what the second router owns is an exception (sent over the direct link), the rest goes to
    the first gateway; reach shows both ways."""
    net = load_plan(write_plan(tmp_path, TWO_GATEWAYS))
    exceptions, decision = build_forwarding(net).dst_rest("h0", None)
    assert exceptions.contains(int(net.nodes["r1"].loopback.ip))
    assert [h.neighbor for h in decision.hops] == ["r0"]
    paths = {(c.dst_node, c.path) for c in reach_answer(net, ["h0"], list(net.nodes)).classes}
    assert ("r1", ("h0", "r1")) in paths and ("r1", ("h0", "r0", "r1")) not in paths
    assert ("inet", ("h0", "r0", "inet")) in paths
