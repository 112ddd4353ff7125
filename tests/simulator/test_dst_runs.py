"""Destination runs (simulator.dst_runs): every run a node decides as one decision is decided so, piece by piece.

The oracle is :meth:`Forwarder.dst_decision`, asked directly at both ends of every elementary piece of the network,
for every node and VRF: wherever the runs give a decision it must have the same group. The generated plans mix
what the owner partition's argument is about: a meshed core (a ring with chords, uneven costs, so equal-cost
ways and not), pendant trees of any depth hanging off core or tree routers, hosts on one or two routers, LANs,
static routes on routers, an internet cloud on one or two routers or none, an island the rest cannot reach, and
a VRF. The reachability answer found with every flow split by the partition must equal the one found piece by
piece.
"""

from __future__ import annotations

import bisect
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator.reach as reach_module
from simulator.forwarding import ROUTE, build_forwarding
from simulator.headerspace import IntervalSet
from simulator.reach import reach_answer
from tests.helpers import scenario_plan, write_plan
from tests.simulator import sim_plans
from topology import Network, load_plan


@st.composite
def meshed_plans(draw) -> str:
    cores = draw(st.integers(1, 5))
    trees = draw(st.integers(0, 6))
    hosts = draw(st.integers(1, 5))
    vrf = draw(st.booleans())
    lines = ["name: meshed", "domains: {d: {kind: extranet, pool: 10.0.0.0/20}, i: {kind: internet, pool: 198.51.100.0/24}}",
             "sites: {s: {}}", "defaults: {node: {domain: d, site: s}}"]
    if vrf:
        lines.append("vrfs: {A: {}}")
    lines.append("nodes:")
    links: list[str] = []
    routers = [f"c{i}" for i in range(cores)] + [f"t{i}" for i in range(trees)]

    def cost() -> int:
        return draw(st.integers(1, 3))

    statics = draw(st.sets(st.sampled_from(routers), max_size=2))
    router_lines = []
    if cores >= 3:
        links += [f"  - {{a: c{i}, b: c{(i + 1) % cores}, cost: {cost()}}}" for i in range(cores)]
        for _ in range(draw(st.integers(0, 2))):
            a, b = draw(st.integers(0, cores - 1)), draw(st.integers(0, cores - 1))
            if abs(a - b) not in (0, 1, cores - 1):
                links.append(f"  - {{a: c{a}, b: c{b}, cost: {cost()}}}")
    elif cores == 2:
        links.append(f"  - {{a: c0, b: c1, cost: {cost()}}}")
    for i in range(trees):
        parent = draw(st.sampled_from(routers[:cores + i]))
        links.append(f"  - {{a: {parent}, b: t{i}, cost: {cost()}}}")
    for h in range(hosts):
        gateways = draw(st.lists(st.sampled_from(routers), min_size=1, max_size=2, unique=True))
        lan = f", lan: 10.8.{h}.0/24" if draw(st.booleans()) else ""
        lines.append(f"  h{h}: {{role: host{lan}}}")
        links += [f"  - {{a: h{h}, b: {r}, cost: {cost()}}}" for r in gateways]
    for r in routers:
        extra = ""
        linked = [x for line in links for x in _ends(line) if r in _ends(line) and x != r]
        if r in statics and linked:
            extra = f", routes: [{{prefix: 10.9.{routers.index(r)}.0/24, via: {draw(st.sampled_from(sorted(linked)))}}}]"
        if vrf and r == routers[0]:
            extra += ", interfaces: {toa: {vrf: A}}"
        router_lines.append(f"  {r}: {{role: router{extra}}}")
    lines += router_lines
    if vrf:
        lines.append("  ha: {role: host, vrf: A}")
        links.append(f"  - ha -- {routers[0]}:toa")
    if draw(st.booleans()):  # an island: routers joined to each other only
        lines += ["  x0: {role: router}", "  x1: {role: router, lan: 10.6.0.0/24}"]
        links.append("  - x0 -- x1")
    if draw(st.integers(0, 3)):
        lines.append("  inet: {role: cloud, domain: i}")
        for r in draw(st.lists(st.sampled_from(routers), min_size=1, max_size=2, unique=True)):
            links.append(f"  - {{a: {r}, b: inet, medium: internet, domain: i}}")
    return "\n".join(lines + ["links:"] + links) + "\n"


def _ends(line: str) -> tuple[str, str]:
    """The two nodes of a generated link line ``  - {a: X, b: Y, ...}``."""
    a = line.split("a: ", 1)[1].split(",", 1)[0]
    b = line.split("b: ", 1)[1].split(",", 1)[0].rstrip("}")
    return a, b


def points(bounds: list[int]) -> list[int]:
    cuts = [0] + bounds + [2**32]
    return sorted({p for lo, hi in pairwise(cuts) for p in (lo, hi - 1)})


def runs_disagree(net: Network) -> tuple[list[tuple], int]:
    """Every (node, VRF, address) where the node's runs give a decision other than dst_decision's, and how many
    addresses the runs decided (not left to be decided piece by piece)."""
    fw = build_forwarding(net)
    everywhere = points(fw.boundaries())
    wrong, decided = [], 0
    for node in net.nodes:
        for vrf in fw.routing.graphs:
            runs = fw.dst_runs(node, vrf, partition=True)
            if runs is None:
                continue
            for p in everywhere:
                decision = runs.decision_at(p)
                if decision is None:
                    continue
                decided += 1
                if fw.dst_decision(node, vrf, p).group != decision.group:
                    wrong.append((node, vrf, p))
    return wrong, decided


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=meshed_plans())
def test_every_run_is_decided_as_each_of_its_pieces(tmp_path, text):
    wrong, decided = runs_disagree(load_plan(write_plan(tmp_path, text)))
    assert not wrong
    assert decided, "the runs decided nothing"


@pytest.mark.parametrize("text", [sim_plans.LPM, sim_plans.ECMP, sim_plans.FIREWALL.replace("dst: WEB", "dst: web"),
                                  sim_plans.VRF, sim_plans.tunnel_plan(), sim_plans.ONE_WAY, sim_plans.LOOP],
                         ids=["lpm", "ecmp", "fw", "vrf", "tunnel", "oneway", "loop"])
def test_runs_hold_on_the_mechanism_plans(tmp_path, text):
    """Static routes over a shorter way, equal-cost paths, NAT, imported VRFs, tunnel ends and injected routes."""
    wrong, _ = runs_disagree(load_plan(write_plan(tmp_path, text)))
    assert not wrong


def test_runs_hold_on_the_chuxiong_plan():
    wrong, decided = runs_disagree(load_plan(scenario_plan("chuxiong")))
    assert not wrong and decided > 1000


def test_a_core_router_decides_its_static_route_piece_by_piece_and_a_far_tree_in_one_run(tmp_path):
    """Planted: a static route at a core router covers a tree's LAN reached otherwise by the IGP; the runs leave
    the static's pieces to be decided one by one (the static wins there), and send the rest of that tree one way."""
    net = load_plan(write_plan(tmp_path, """\
        name: planted
        domains: {d: {kind: extranet, pool: 10.0.0.0/20}, i: {kind: internet, pool: 198.51.100.0/24}}
        sites: {s: {}}
        defaults: {node: {domain: d, site: s}}
        nodes:
          c0: {role: router, routes: [{prefix: 10.5.0.0/24, via: c2}]}
          c1: {role: router}
          c2: {role: router}
          t0: {role: router, lan: 10.5.0.0/16}
          t1: {role: router, lan: 10.4.0.0/24}
          inet: {role: cloud, domain: i}
        links: [c0 -- c1, c1 -- c2, c2 -- c0, c1 -- t0, t0 -- t1, {a: c2, b: inet, medium: internet, domain: i}]
        """))
    fw = build_forwarding(net)
    runs = fw.dst_runs("c0", None, partition=True)
    assert runs.decision_at(0x0A050001) is None  # in the static route: decided on its own
    assert fw.dst_decision("c0", None, 0x0A050001).hops[0].neighbor == "c2"
    toward_t0 = runs.decision_at(0x0A050101)  # the rest of t0's LAN, beyond the static
    beyond = runs.decision_at(0x0A040001)  # t1's LAN, below t0
    assert toward_t0.kind == ROUTE and [h.neighbor for h in toward_t0.hops] == ["c1"]
    assert beyond.group == toward_t0.group
    assert runs.decision_at(int(net.nodes["c0"].loopback.ip)) is None  # its own address: decided on its own


def _key(answer):
    """What a reachability answer says: its classes and loops, with paths and choices."""
    return ([(c.src_node, c.dst_node, str(c.space), c.path, c.choices) for c in answer.classes],
            [(loop.src_node, str(loop.space), loop.path) for loop in answer.loops])


@pytest.mark.parametrize("wide", [True, False], ids=["whole-partition", "partition-of-the-flows-pieces"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=meshed_plans())
def test_reach_split_by_the_partition_equals_reach_piece_by_piece(tmp_path, text, monkeypatch, wide):
    """Every flow split by the whole partition of its node, or by the partition of its own pieces."""
    net = load_plan(write_plan(tmp_path, text))
    sources = list(net.nodes)
    monkeypatch.setattr(reach_module, "_wide", lambda fw, part: wide)
    monkeypatch.setattr(reach_module, "_windowed", lambda fw, part: not wide)
    split = reach_answer(net, sources, sources, check=1)
    fresh = load_plan(write_plan(tmp_path, text))
    monkeypatch.setattr(reach_module, "_wide", lambda fw, part: False)
    monkeypatch.setattr(reach_module, "_windowed", lambda fw, part: False)
    monkeypatch.setattr(type(build_forwarding(fresh)), "dst_rest", lambda self, node, vrf: None)
    assert _key(split) == _key(reach_answer(fresh, sources, sources, check=1))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=meshed_plans(), data=st.data())
def test_the_partition_of_some_pieces_decides_them_as_the_whole_partition_and_nothing_else(tmp_path, text, data):
    """The oracle: dst_decision at both ends of every piece, and the whole partition. Over the pieces ``over``
    meets, the runs of those pieces decide where the whole partition does, as dst_decision does; elsewhere
    they decide nothing."""
    net = load_plan(write_plan(tmp_path, text))
    fw = build_forwarding(net)
    everywhere = points(fw.boundaries())
    ends = data.draw(st.lists(st.tuples(st.sampled_from(everywhere), st.sampled_from(everywhere)), max_size=4))
    over = IntervalSet.of((min(a, b), max(a, b)) for a, b in ends)
    starts = [0, *fw.boundaries()]
    met = {i for lo, hi in over for i in range(bisect.bisect_right(starts, lo) - 1, bisect.bisect_right(starts, hi))}
    for node in net.nodes:
        for vrf in fw.routing.graphs:
            if fw.dst_rest(node, vrf) is not None:
                continue  # a node with a rest has its own runs, whatever is asked
            some = fw.dst_runs(node, vrf, over=over)
            whole = fw.dst_runs(node, vrf, partition=True)
            if whole is None:
                assert some is None
                continue
            assert some is not None
            for p in everywhere:
                piece = bisect.bisect_right(starts, p) - 1
                got = some.decision_at(p)
                if piece not in met:
                    assert got is None, (node, vrf, p)
                    continue
                full = whole.decision_at(p)
                assert (got is None) == (full is None), (node, vrf, p)
                if got is not None:
                    assert got.group == fw.dst_decision(node, vrf, p).group == full.group, (node, vrf, p)
