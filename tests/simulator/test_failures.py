"""Failure analysis: the incremental answer against an independent brute force and a recomputation."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from simulator.failures import (
    Cuts,
    Failure,
    FailureAnalysis,
    FailureError,
    failure_cases,
    without,
)
from simulator.routing import RoutingState
from simulator.sweep import run_sweep
from simulator.traffic import demands
from tests.helpers import SCENARIOS, shared_data, write_plan
from topology import load_plan

from .brute_force import brute_loads
from .capacity_plans import province_plan, random_plan


def check_case(net, fa, failure):
    """The incremental answer of one failure equals the brute force."""
    r = fa.case(failure)
    want, delivered, orphaned = brute_loads(net, fa.demands, failure.links, failure.nodes)
    got = r.loads(fa.assignment.load)
    keys = {k for k, v in want.items() if v > 1e-6} | set(got)
    for key in keys:
        assert got.get(key, 0.0) == pytest.approx(want.get(key, 0.0), rel=1e-9, abs=1e-3), (failure.label, key)
    assert list(r.orphaned) == orphaned, failure.label
    base = fa.assignment.paths
    lost = {i for i, d in delivered.items() if base[i].delivered - d > 1e-9}
    assert {i for i, _ in r.lost} == lost, failure.label
    return r


@pytest.mark.parametrize("seed", range(6))
def test_n1_matches_brute_force_on_generated_graphs(tmp_path, seed):
    net = load_plan(write_plan(tmp_path, random_plan(seed, routers=9, extra=5, hosts=7, flows=14)))
    fa = FailureAnalysis(net)
    methods = {check_case(net, fa, f).method for f in failure_cases(net, "n-1")}
    assert "rerouted" in methods or "closed-form" in methods


def test_n2_matches_brute_force(tmp_path):
    net = load_plan(write_plan(tmp_path, random_plan(11, routers=8, extra=6, hosts=5, flows=12)))
    fa = FailureAnalysis(net)
    elements = [Failure(links=(l,)) for l in net.links if l.startswith("r")][:9] + [Failure(nodes=("r1",))]
    for x, y in itertools.combinations(elements, 2):
        check_case(net, fa, Failure(links=x.links + y.links, nodes=x.nodes + y.nodes))


def test_every_method_is_used_and_agrees_with_recomputation(tmp_path):
    """Tree parts are closed form, the meshed core is rerouted, untouched links change nothing."""
    net = load_plan(write_plan(tmp_path, province_plan(prefectures=3, counties=2, units=2, townships=1)))
    fa = FailureAnalysis(net)
    seen = {}
    for failure in failure_cases(net, "n-1"):
        r = fa.case(failure)
        seen.setdefault(r.method, []).append(r)
    assert set(seen) == {"closed-form", "rerouted", "unaffected"}
    sample = seen["rerouted"] + seen["closed-form"][::10] + seen["unaffected"]
    for r in sample:
        s = fa.from_scratch(r.failure)
        got, want = r.loads(fa.assignment.load), s.loads(fa.assignment.load)
        assert set(got) == set(want), r.failure.label
        assert all(got[k] == pytest.approx(want[k], rel=1e-9) for k in got), r.failure.label
        assert [i for i, _ in r.lost] == [i for i, _ in s.lost]
        assert r.cut == s.cut and r.orphaned == s.orphaned


@pytest.mark.parametrize("seed", range(4))
def test_derived_routing_equals_a_fresh_build(tmp_path, seed):
    net = load_plan(write_plan(tmp_path, random_plan(seed + 20, routers=8, extra=4, hosts=5)))
    base = RoutingState(net)
    failures = [((l,), ()) for l in net.links] + [((), (n,)) for n in net.nodes]
    for links, nodes in failures:
        after = without(net, links, nodes)
        derived = base.degraded(after, links, nodes)
        fresh = RoutingState(after)
        for u in fresh.net.nodes:
            for v in fresh.net.nodes:
                ip = int(fresh.net.nodes[v].loopback.ip)
                assert fresh.lookup(u, ip) == derived.lookup(u, ip)
                assert fresh.next_hops(u, ip) == derived.next_hops(u, ip), (links, nodes, u, v)


def test_cuts_are_bridges_and_cut_nodes(tmp_path):
    net = load_plan(write_plan(tmp_path, random_plan(5, routers=10, extra=3, hosts=6)))
    cuts = Cuts(net)
    graph = nx.Graph()
    graph.add_nodes_from(net.nodes)
    graph.add_edges_from((l.a, l.b, {"name": l.name}) for l in net.links.values())
    bridges = {graph.edges[e]["name"] for e in nx.bridges(graph)}
    assert {l for l in net.links if cuts.is_bridge(l)} == bridges
    names = list(net.nodes)
    for v in names:
        rest = graph.copy()
        rest.remove_node(v)
        label = {n: i for i, comp in enumerate(nx.connected_components(rest)) for n in comp}
        for x, y in itertools.combinations([n for n in names if n != v], 2):
            assert cuts.node_separates(v, x, y) == (label[x] != label[y]), (v, x, y)


def test_without_removes_links_interfaces_tunnels_and_flows(tmp_path):
    net = load_plan(write_plan(tmp_path, random_plan(3)))
    link = next(iter(net.links.values()))
    after = without(net, links=[link.name])
    assert link.name not in after.links
    assert all(i.link != link.name for i in after.nodes[link.a].interfaces.values())
    assert link not in after.links_of(link.a)
    gone = without(net, nodes=["r0"])
    assert "r0" not in gone.nodes and not any("r0" in l.ends for l in gone.links.values())
    assert all("r0" not in (f.src, f.dst) for f in gone.flows)
    with pytest.raises(FailureError):
        without(net, links=["no such link"])
    with pytest.raises(FailureError):
        failure_cases(net, "n-3")


def test_n2_default_set_is_the_meshed_core(tmp_path):
    net = load_plan(write_plan(tmp_path, province_plan(prefectures=3, counties=1, units=1, townships=0)))
    cases = failure_cases(net, "n-2")
    singles = [c for c in cases if c.size == 1]
    pairs = [c for c in cases if c.size == 2]
    assert len(singles) == len(net.links) + len(net.nodes)
    core = [l for l in net.links if not Cuts(net).is_bridge(l)]
    assert len(pairs) == len(core) * (len(core) - 1) // 2
    assert all(set(p.links) <= set(core) for p in pairs)
    with pytest.raises(FailureError, match="names no link"):
        failure_cases(net, "n-2", ["nothing*"])


@pytest.mark.skipif(not (SCENARIOS / "chuxiong" / "plan.yaml").is_file(), reason="scenario chuxiong not written yet")
def test_chuxiong_with_its_tunnel_agrees_with_recomputation():
    net = load_plan(SCENARIOS / "chuxiong" / "plan.yaml")
    fa = FailureAnalysis(net)
    results = [fa.case(f) for f in failure_cases(net, "n-1")]
    sample = [r for r in results if r.method == "rerouted"] + results[::250]
    for r in sample:
        s = fa.from_scratch(r.failure)
        got, want = r.loads(fa.assignment.load), s.loads(fa.assignment.load)
        assert set(got) == set(want), r.failure.label
        assert all(got[k] == pytest.approx(want[k], rel=1e-9) for k in got), r.failure.label
        assert [i for i, _ in r.lost] == [i for i, _ in s.lost], r.failure.label


@pytest.mark.parametrize("name", ["Geant2009"])
def test_topology_zoo_sweep_matches_brute_force(tmp_path, name):
    """A real network with its link speeds, traffic from every node to eight of them, through the N-1 sweep."""
    from topology.importers import dump_plan, import_file

    plan = import_file(shared_data("topologyzoo", f"{name}.graphml"))
    nodes = list(plan["nodes"])
    plan["services"] = {"demand": {"kind": "data", "rate": "20M", "packet_size": 1200}}
    plan["traffic"] = [{"service": "demand", "from": {"role": "router"}, "to": n} for n in nodes[::4]]
    net = load_plan(write_plan(tmp_path, dump_plan(plan)))
    assert len(demands(net)) == len(nodes[::4]) * (len(nodes) - 1)
    sweep = run_sweep(net, "n-1", jobs=1)
    fa = FailureAnalysis(net)
    per_case = [brute_loads(net, fa.demands, f.links, f.nodes)[0] for f in sweep.failures]
    worst: dict = {}
    for loads in per_case:
        for key, value in loads.items():
            if value > fa.assignment.load.get(key, 0.0) + 1e-3:
                worst[key] = max(worst.get(key, 0.0), value)
    assert set(sweep.worst) == set(worst)
    for key, value in worst.items():
        load, index = sweep.worst[key]
        assert load == pytest.approx(value, rel=1e-9)
        assert per_case[index][key] == pytest.approx(value, rel=1e-9)  # the failure named causes it
        assert sweep.failures[index].links or sweep.failures[index].nodes


@pytest.mark.parametrize("seed", range(8))
def test_single_points_of_failure_equal_a_max_flow(tmp_path, seed):
    """Two paths sharing no link and no intermediate node exist exactly when no single element separates."""
    net = load_plan(write_plan(tmp_path, random_plan(seed + 40, routers=9, extra=seed % 4, hosts=4)))
    routers = [n for n, node in net.nodes.items() if node.role == "router"]
    cuts = Cuts(net, routers)
    for a, b in itertools.combinations(routers, 2):
        graph = nx.DiGraph()  # every router but a and b split in -> out, every link a node of its own
        for n in routers:
            if n not in (a, b):
                graph.add_edge(("in", n), ("out", n), capacity=1)
        for l in net.links.values():
            if l.a in routers and l.b in routers:
                graph.add_edge(("li", l.name), ("lo", l.name), capacity=1)
                for end in l.ends:
                    graph.add_edge(("out", end) if end not in (a, b) else end, ("li", l.name), capacity=9)
                    graph.add_edge(("lo", l.name), ("in", end) if end not in (a, b) else end, capacity=9)
        flow = nx.maximum_flow_value(graph, a, b) if a in graph and b in graph else 0
        points = cuts.single_points(a, b)
        assert (points is None) == (flow == 0), (a, b)
        if points is not None:
            assert (points == []) == (flow >= 2), (a, b, points, flow)
