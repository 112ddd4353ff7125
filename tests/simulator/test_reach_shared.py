"""Sharing what a state delivers between sources (simulator.reach._Suffix) changes the work, never the answer.

Every query is asked twice, with ``share`` and without (every flow walked anew, the plain definition), and
the answers must be identical: every class (source, destination, headers, path, branch choices) and every
loop. On generated networks every node is a source, so ways meet everywhere; the answer of each source is
also held to the independent oracle of tests/simulator/oracle.py.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from simulator import reach as reach_module
from simulator.reach import ReachAnswer, reach_answer
from tests.helpers import scenario_plan, write_plan
from topology import load_plan
from topology.selectors import select_nodes

from . import sim_plans
from .oracle import networks, plan_text
from .test_one_decision import LOOP_OVER_PARALLEL_LINKS, LOOP_TOWARDS_A_DESTINATION
from .test_reach_oracle import compare


@pytest.fixture
def every_suffix(monkeypatch):
    """Keep every clean suffix, however little work it took (the default keeps the larger ones only), so that
    the small plans here share wherever they can."""
    monkeypatch.setattr(reach_module, "SHARED_WORK", 1)


def answer_key(answer: ReachAnswer) -> tuple:
    classes = [(c.src_node, c.dst_node, str(c.space), c.path, c.choices) for c in answer.classes]
    loops = [(l.src_node, str(l.space), l.path) for l in answer.loops]
    return classes, loops


def assert_same(net, sources, destinations) -> tuple[ReachAnswer, ReachAnswer]:
    shared = reach_answer(net, sources, destinations, check=1)
    alone = reach_answer(net, sources, destinations, check=1, share=False)
    assert answer_key(shared) == answer_key(alone)
    assert shared.expanded <= alone.expanded
    return shared, alone


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          deadline=None)
@given(spec=networks())
def test_every_source_at_once_answers_as_each_alone_and_as_the_oracle(tmp_path, spec, every_suffix):
    n, edges, hosts, kinds, acls, outside, src_picks = spec
    bare = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, [])))
    addresses = sorted(str(a.ip) for node in bare.nodes.values() for a in node.addresses)
    net = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, addresses)))
    nodes = list(net.nodes)
    shared, _ = assert_same(net, nodes, nodes)
    for source in ("h0", nodes[-1]):
        others = [c for c in shared.classes if c.src_node == source]
        compare(net, source, src_picks, outside, classes=others)


PLANS = {"LPM": sim_plans.LPM, "ECMP": sim_plans.ECMP, "FIREWALL": sim_plans.FIREWALL.replace("dst: WEB", "dst: 10.0.0.0/28"),
         "VRF": sim_plans.VRF, "IPSEC": sim_plans.tunnel_plan("ipsec"), "GRE": sim_plans.tunnel_plan("gre"),
         "ONE_WAY": sim_plans.ONE_WAY, "LOOP": sim_plans.LOOP, "LOOP-TO-LAN": LOOP_TOWARDS_A_DESTINATION,
         "LOOP-PARALLEL": LOOP_OVER_PARALLEL_LINKS}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_hand_written_plans_answer_alike_shared_or_not(tmp_path, name, every_suffix):
    net = load_plan(write_plan(tmp_path, PLANS[name]))
    nodes = list(net.nodes)
    shared, _ = assert_same(net, nodes, nodes)
    if name == "LOOP-TO-LAN":
        assert {l.src_node for l in shared.loops} >= {"h", "a"}  # sources whose ways meet in the loop each have it


def test_sources_whose_ways_meet_share_the_work():
    net = load_plan(scenario_plan("chuxiong"))
    extranet = select_nodes(net, "domain:kind:extranet")
    shared, alone = assert_same(net, extranet[:40], select_nodes(net, "domain:kind:internet"))
    assert shared.classes and shared.expanded < alone.expanded / 2


def chain_plan(length: int, near: int) -> str:
    """Routers r0 … r{length-1} in a line, a host at each end of it and one on router ``near``."""
    lines = ["name: chain", "domains: {d: {kind: extranet, pool: 10.0.0.0/16}}", "sites: {s: {}}",
             "defaults: {node: {domain: d, site: s}}", "nodes:", "  far: {role: host}", "  near: {role: host}",
             "  srv: {role: server}"]
    lines += [f"  r{i}: {{role: router}}" for i in range(length)]
    lines += ["links:", "  - far -- r0", f"  - near -- r{near}", f"  - r{length - 1} -- srv"]
    lines += [f"  - r{i} -- r{i + 1}" for i in range(length - 1)]
    return "\n".join(lines) + "\n"


def test_a_flow_with_less_ttl_left_is_not_given_what_a_fresher_one_delivered(tmp_path, every_suffix):
    """``near`` reaches ``srv`` in a few hops; ``far``'s packets, 70 routers away, run out of TTL on the same way
    (they arrive where ``near``'s did in the same state, with less TTL): only ``near`` is delivered."""
    net = load_plan(write_plan(tmp_path, chain_plan(70, 60)))
    shared, _ = assert_same(net, ["near", "far"], ["srv"])
    assert {c.src_node for c in shared.classes} == {"near"}
