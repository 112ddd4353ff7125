"""Header-space reach is complete: it equals a brute-force enumeration, and finds any planted hole.

The oracle (:mod:`tests.simulator.oracle`) shares no code with the simulator:
it routes with networkx shortest paths, applies ACLs with its own first-match
loop and enumerates every packet of a tiny header space. On hypothesis-generated networks (trees and meshes of routers and
firewalls with random ACLs) ``reach`` must give exactly the packets the
oracle delivers.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.headerspace import HeaderSpace, IntervalSet, box, int_ip, universe
from simulator.reach import reach
from tests.helpers import write_plan
from topology import load_plan

from .oracle import Oracle, networks, plan_text, tiny_packets


def compare(net, source: str, src_picks, outside: bool, classes=None):
    """``reach`` from ``source`` (or the ``classes`` of it a wider query gave) against the oracle, packet by packet."""
    oracle = Oracle(net)
    addresses = sorted(oracle.owner)
    srcs = {int(net.nodes[source].addresses[0].ip)} | {addresses[p % len(addresses)] for p in src_picks}
    if outside:
        srcs.add(int_ip("192.0.2.1"))
    dsts = [a for a in addresses if oracle.owner[a] != source]
    others = [n for n in net.nodes if n != source]
    if classes is None:
        classes = reach(net, [source], others, check=2)
    by_dst: dict[str, list[HeaderSpace]] = {}
    for c in classes:
        assert c.trace.delivered and c.trace.hops[-1].node == c.dst_node
        by_dst.setdefault(c.dst_node, []).append(c.space)
    paths = {dst: oracle.paths(source, dst) for dst in dsts}
    mismatches = []
    for packet in tiny_packets(sorted(srcs), dsts):
        expected = any(oracle.passes(p, packet) for p in paths[packet[1]])
        got = any(space.contains(packet) for space in by_dst.get(oracle.owner[packet[1]], ()))
        if expected != got:
            mismatches.append((packet, expected, got))
    assert not mismatches, f"{len(mismatches)} mismatches, first {mismatches[:3]}"


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None)
@given(spec=networks())
def test_reach_equals_brute_force(tmp_path, spec):
    n, edges, hosts, kinds, acls, outside, src_picks = spec
    bare = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, [])))
    addresses = sorted(str(a.ip) for node in bare.nodes.values() for a in node.addresses)
    net = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, addresses)))
    compare(net, "h0", src_picks, outside)


# -- planted holes ---------------------------------------------------------------------
HOLE_PLAN = """\
name: hole
domains:
  d: {kind: extranet, pool: 10.53.0.0/24}
  inet: {kind: internet, pool: 198.51.100.0/24}
sites: {s: {}}
defaults: {node: {domain: d, site: s}}
nodes:
  isp: {role: cloud, domain: inet}
  fw:
    role: firewall
    interfaces: {outside: {acl_in: from-internet}, inside: {}}
  core: {role: core_router}
  s0: {role: server}
  s1: {role: server}
  s2: {role: server}
links:
  - {a: "fw:outside", b: isp, domain: inet, medium: internet}
  - fw:inside -- core
  - s0 -- core
  - s1 -- core
  - s2 -- core
acls:
  from-internet:
"""


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(position=st.integers(0, 3), port=st.integers(0, 65535), proto=st.sampled_from(["tcp", "udp"]),
       server=st.integers(0, 2), which=st.sampled_from(["loopback", "link"]), kind=st.sampled_from(["port", "source"]),
       source=st.integers(0, 2**32 - 1))
def test_a_single_planted_hole_is_found_exactly(tmp_path, position, port, proto, server, which, kind, source):
    bare = load_plan(write_plan(tmp_path, HOLE_PLAN + "    - {action: deny}\n"))
    node = bare.nodes[f"s{server}"]
    target = node.loopback.ip if which == "loopback" else next(iter(node.interfaces.values())).address.ip
    p = 6 if proto == "tcp" else 17
    other = 17 if p == 6 else 6
    t = int(target)
    low, high = min(port + 1, 65535), min(port + 5, 65535)
    decoys = [  # rules around the hole that must not hide it or widen it
        (f"{{action: deny, proto: {proto}, dst: {target}, dport: {low}-{high}}}", box(dst=(t, t), proto=(p, p), dport=(low, high))),
        ("{action: deny, proto: icmp}", box(proto=(1, 1))),
        (f"{{action: deny, proto: {'udp' if p == 6 else 'tcp'}, dst: 10.53.0.0/24, dport: {port}}}",
         box(dst=(int_ip("10.53.0.0"), int_ip("10.53.0.255")), proto=(other, other), dport=(port, port))),
    ]
    if kind == "port":
        hole = f"{{action: permit, proto: {proto}, dst: {target}, dport: {port}}}"
        hole_box = box(dst=(t, t), proto=(p, p), dport=(port, port))
    else:
        src = ipaddress.IPv4Address(source)
        hole = f"{{action: permit, src: {src}}}"
        hole_box = box(src=(source, source))
    rules = [d for d, _ in decoys[:position]] + [hole] + [d for d, _ in decoys[position:]]
    owned = IntervalSet.of((int(a.ip), int(a.ip)) for n in bare.nodes.values() if n.domain == "d" for a in n.addresses)
    want = universe(dst=owned).intersect_box(hole_box)
    for _, b in decoys[:position]:
        want = want.subtract_box(b)
    text = HOLE_PLAN + "".join(f"    - {r}\n" for r in rules) + "    - {action: deny}\n"
    net = load_plan(write_plan(tmp_path, text))
    inside = [n for n in net.nodes if net.nodes[n].domain == "d"]
    classes = reach(net, ["isp"], inside, check=1)
    got = HeaderSpace()
    for c in classes:
        got = got.union(c.space)
        assert c.trace.delivered
        assert any(h.rule is not None and h.rule.action == "permit" and h.rule.acl == "from-internet" for h in c.trace.hops)
    assert got.subtract(want).size() == 0 and want.subtract(got).size() == 0, (str(got), str(want))


# -- reach against every packet stepped through the engine (NAT, tunnels, gateways, VRFs) -------------
def stepped_deliveries(fw, source: str, packet) -> set[str]:
    """Where the concrete engine delivers one packet, following every equal-cost branch."""
    from simulator.forwarding import TERMINAL
    from simulator.packets import Header

    out: set[str] = set()
    stack = [(source, None, Header(*packet), fw.nodes[source].vrf)]
    while stack:
        node, in_if, h, vrf = stack.pop()
        first = fw.step(node, in_if, h, vrf)
        for branch in range(first.branches) if first.branches > 1 else (None,):
            s = first if branch is None else fw.step(node, in_if, h, vrf, None, branch)
            if s.decision in TERMINAL:
                if s.decision == "delivered":
                    out.add(s.node)
            else:
                stack.append((s.next_node, s.next_if, s.header, s.vrf))
    return out


@pytest.mark.parametrize("plan_name,source", [
    ("FIREWALL", "out"), ("FIREWALL", "pc"), ("TUNNEL", "ha"), ("TUNNEL-GRE", "hb"), ("ONE_WAY", "e1"),
    ("ONE_WAY", "i1"), ("VRF", "ha"), ("VRF", "srv"), ("LPM", "h4"), ("ECMP", "h0"),
])
def test_reach_equals_every_packet_stepped(tmp_path, plan_name, source):
    from simulator.forwarding import build_forwarding
    from tests.simulator import sim_plans

    text = {"TUNNEL": sim_plans.tunnel_plan("ipsec"), "TUNNEL-GRE": sim_plans.tunnel_plan("gre"),
            "FIREWALL": sim_plans.FIREWALL.replace("dst: WEB", "dst: 10.0.0.0/28")}.get(plan_name)
    net = load_plan(write_plan(tmp_path, text or getattr(sim_plans, plan_name)))
    fw = build_forwarding(net)
    owner = {int(a.ip): n.name for n in net.nodes.values() for a in n.addresses}
    lans = [(int(n.lan.network_address) + 5, n.name) for n in net.nodes.values() if n.lan is not None]
    dsts = sorted(a for a in owner if owner[a] != source) + [ip for ip, n in lans if n != source]
    srcs = sorted({fw.primary_address(source), min(owner), max(owner), int_ip("192.0.2.1")})
    others = [n for n in net.nodes if n != source]
    classes = reach(net, [source], others, check=2)
    for packet in tiny_packets(srcs, dsts):
        expected = stepped_deliveries(fw, source, packet) & set(others)
        got = {c.dst_node for c in classes if c.space.contains(packet)}
        assert got == expected, (packet, got, expected)
