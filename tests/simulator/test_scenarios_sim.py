"""End-to-end traces and reach on the shipped scenarios; every planted fault shows up in a trace or a reach answer."""

from __future__ import annotations

import functools
import re

import pytest

from simulator.forwarding import build_forwarding
from simulator.packets import plain_scapy
from simulator.pcap import pcap_bytes
from simulator.reach import reach
from simulator.trace import reply, trace
from tests.helpers import SCENARIOS, scenario_plan
from topology import load_plan

BASES = sorted(p.parent.name for p in SCENARIOS.glob("*/plan.yaml"))
FAULTS = sorted((p.parent.parent.name, p.stem) for p in SCENARIOS.glob("*/faults/*.yaml"))


@functools.lru_cache(maxsize=4)
def plan(path: str):
    return load_plan(path)


def base(name: str):
    return plan(str(scenario_plan(name)))


def fault(name: str, fault_name: str):
    return plan(str(SCENARIOS / name / "faults" / f"{fault_name}.yaml"))


def untrusted(net) -> list[str]:
    return [n.name for n in net.nodes.values() if not net.domains[n.domain].trusted]


def protected(net) -> list[str]:
    """Nodes of trusted domains other than DMZs (what the internet must not reach freely)."""
    return [n.name for n in net.nodes.values() if net.domains[n.domain].trusted and net.domains[n.domain].kind != "dmz"]


@pytest.mark.skipif(not BASES, reason="no scenarios shipped")
@pytest.mark.parametrize("name", BASES)
def test_planned_traffic_is_delivered(name):
    """Every traffic flow of the plan (one per service and kind of sender) gets through, hop by hop."""
    net = base(name)
    seen = set()
    for flow in net.flows:
        key = (flow.service, net.nodes[flow.src].role, net.nodes[flow.src].site if net.nodes[flow.src].role != "host" else "", flow.dst)
        if key in seen or len(seen) >= 150:
            continue
        seen.add(key)
        t = trace(net, flow.src, flow.dst, proto=flow.protocol, dport=flow.port)
        assert t.hops and t.hops[0].node == flow.src
        assert all(h.packet is not None for h in t.hops)
        # a plan declares only traffic it means to carry: every flow must arrive, VRFs included
        assert t.delivered, f"{flow.service} {flow.src} -> {flow.dst}: {t.reason}"
        assert t.hops[-1].node == flow.dst


@pytest.mark.skipif(not BASES, reason="no scenarios shipped")
@pytest.mark.parametrize("name", BASES)
def test_internet_crossings_are_decided_by_a_rule(name):
    """Logical isolation in the base plans: whatever crosses from the internet was permitted by an ACL rule."""
    net = base(name)
    sources = untrusted(net)
    if not sources:
        pytest.skip("no internet in this plan")
    for c in reach(net, sources, protected(net)):
        permits = [h.rule for h in c.trace.hops if h.rule is not None and h.rule.action == "permit" and h.rule.index > 0]
        assert permits, f"{c.src_node} -> {c.dst_node} ({c.space}) crosses without any permit rule"


@pytest.mark.skipif(not BASES, reason="no scenarios shipped")
@pytest.mark.parametrize("name", BASES)
def test_tunnels_are_up_and_hide_their_traffic(name):
    net = base(name)
    fw = build_forwarding(net)
    tunnels = list(net.tunnels.values())
    if not tunnels:
        pytest.skip("no tunnels in this plan")
    for tunnel in tunnels[:6]:
        assert fw.tunnel_up(tunnel.name) == (True, ""), tunnel.name
        t = tunnel_trace(net, tunnel)
        assert t.delivered, t.reason
        assert any(h.decision == "encapsulated" for h in t.hops) and any(h.decision == "decapsulated" for h in t.hops)
        if tunnel.encrypted:
            assert not readable_hops(net, t), f"{tunnel.name}: inner header readable on an untrusted hop"
        assert reply(net, t).delivered
        data = pcap_bytes(t)
        assert data[:4] == b"\xd4\xc3\xb2\xa1" and len(data) > 24 * len(t.hops)


def tunnel_trace(net, tunnel):
    fw = build_forwarding(net)
    ends = {e.node: e for e in fw.tunnels[tunnel.name]}

    def inside(end_node: str) -> str:
        side = sorted(ends[end_node].side - {end_node}, key=lambda n: (net.nodes[n].role not in ("host", "server"), n))
        return side[0] if side else end_node

    return trace(net, inside(tunnel.a), inside(tunnel.b), dport=443)


def readable_hops(net, t) -> list[str]:
    """Hops on untrusted nodes whose packet shows the innermost addresses and ports past its outer header."""
    out = []
    for hop in t.hops:
        if net.domains[net.nodes[hop.node].domain].trusted or hop.header is None or hop.header.inner is None:
            continue
        inner = bytes(plain_scapy(hop.header.innermost()))
        wire = bytes(hop.packet)[20:]
        if inner[12:24] in wire:  # source, destination and both ports
            out.append(hop.node)
    return out


# -- planted faults -----------------------------------------------------------------------
def fault_kind(name: str, fault_name: str) -> str:
    head = (SCENARIOS / name / "faults" / f"{fault_name}.yaml").read_text(encoding="utf-8")[:600]
    match = re.search(r"rule kind:\s*(\w+)", head)
    return match.group(1) if match else "unknown"


def new_links(net, ref):
    return [l for name, l in net.links.items() if name not in ref.links]


@pytest.mark.skipif(not FAULTS, reason="no planted faults shipped")
@pytest.mark.parametrize("name,fault_name", FAULTS)
def test_planted_fault_shows_up(name, fault_name):
    kind = fault_kind(name, fault_name)
    net, ref = fault(name, fault_name), base(name)
    if kind == "logical_isolation":
        found = reach(net, untrusted(net), protected(net))
        before: dict[tuple, list] = {}
        for c in reach(ref, untrusted(ref), protected(ref)):
            before.setdefault((c.src_node, c.dst_node), []).append(c.space)
        new = []
        for c in found:
            rest = c.space
            for space in before.get((c.src_node, c.dst_node), ()):
                rest = rest.subtract(space)
            if rest:
                new.append((c, rest))
        assert new, "the hole lets nothing new through"
        c, rest = new[0]
        assert c.trace.delivered and c.trace.hops[0].node in untrusted(net)
    elif kind == "encrypted_over" and changed_routes(net, ref):
        (node,) = changed_routes(net, ref)  # a static route at the internet exit
        route = net.nodes[node].routes[0]
        t = trace(net, node, str(route.prefix.network_address))
        assert not t.delivered, "the misrouted packet is dropped later on"
        leaks = [h for h in t.hops if h.link and net.links[h.link].medium == "internet" and h.header.inner is None]
        assert leaks and leaks[0].node == node, t.text()
    elif kind == "encrypted_over":
        clear = [t for t in net.tunnels.values() if not t.encrypted]
        assert clear, "no unencrypted tunnel in the fault"
        t = tunnel_trace(net, clear[0])
        assert t.delivered, t.reason
        assert readable_hops(net, t), "the clear tunnel's inner header should be readable on the internet"
        same = ref.tunnels.get(clear[0].name) or next(iter(ref.tunnels.values()), None)
        if same is not None and same.encrypted:
            assert not readable_hops(ref, tunnel_trace(ref, same))
    elif kind == "physical_isolation":
        joins = [l for l in new_links(net, ref) if net.nodes[l.a].domain != net.nodes[l.b].domain]
        assert joins, "the fault adds no link between two domains"
        link = joins[0]
        a, b = link.a, link.b
        a_side = [n for n in net.nodes if net.nodes[n].domain == net.nodes[a].domain]
        b_side = [n for n in net.nodes if net.nodes[n].domain == net.nodes[b].domain]
        crossing = reach(net, [a], b_side) or reach(net, [b], a_side)
        assert crossing and all(c.trace.delivered for c in crossing)
    elif kind == "unified_channel":
        outside = [l for l in new_links(net, ref) if not l.channel]
        assert outside
        link = outside[0]
        t = trace(net, link.a, link.b)
        assert t.delivered and link.name in [h.link for h in t.hops]
    elif kind == "capacity":
        changed = [l for name, l in net.links.items() if name in ref.links and l.bandwidth < ref.links[name].bandwidth]
        assert changed
        link = changed[0]
        t = trace(net, link.a, link.b)
        assert t.delivered and link.name in [h.link for h in t.hops]
    elif kind == "delivery":
        fw = build_forwarding(net)
        down = [t for t in net.tunnels if not fw.tunnel_up(t)[0]]
        lost = [f for f in net.flows if not trace(net, f.src, f.dst, f.protocol, 40000, f.port).delivered]
        assert lost, "some declared flow of the fault does not arrive"
        assert all(trace(ref, f.src, f.dst, f.protocol, 40000, f.port).delivered for f in lost if f in ref.flows)
        assert down or any(f not in ref.flows for f in lost)
    elif kind == "coverage":
        (node,) = changed_routes(net, ref)
        route = net.nodes[node].routes[0]
        there = trace(net, node, str(route.prefix.network_address))
        assert not there.delivered and trace(ref, node, str(route.prefix.network_address)).delivered
    else:
        pytest.skip(f"rule kind {kind} is not a packet-level property")


def changed_routes(net, ref) -> list[str]:
    return [n for n in net.nodes if n in ref.nodes and net.nodes[n].routes != ref.nodes[n].routes]
