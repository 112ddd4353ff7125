"""The packet-level simulator on the Yunnan plan: hop decisions, scapy's floor, reach, state build.

    python -m benchmarks.bench_simulator              (prints the figures and the ratio)
    pytest benchmarks/bench_simulator.py --benchmark-enable

1. **Forwarding state build** (target < 5 s): routing (one IGP per VRF) and
   the forwarding state (interfaces, compiled ACLs, tunnel ends and selectors)
   for a fresh copy of the plan.
2. **Hop decisions per second** (target >= 20,000): single-packet walks
   between 2,000 random pairs of nodes, decided on integer headers. *Cold* is
   the first pass over a fresh state (next hops computed on first use), *warm*
   the same pairs again. Printed beside the cost of scapy building and
   serialising the very packets those hops produce (``bytes(IP()/TCP()/...)``,
   ESP encrypted where a hop is in a tunnel): scapy is the floor a trace with
   real packets cannot go under, and the ratio says how much of a trace is the
   decision.
3. **Reach from the internet to the whole extranet** (target < 10 s): every
   header class from the internet nodes to every node of the extranet, on the
   plan as shipped; and, as a worst case, with the internet-side ACLs
   replaced by "permit everything", so every class travels to every node.

Without ``scenarios/yunnan/plan.yaml`` a generated province-size plan is used.
"""

from __future__ import annotations

import ipaddress
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest

from simulator.forwarding import Forwarder, build_forwarding
from simulator.packets import Header, to_scapy
from simulator.reach import reach
from topology import load_plan
from topology.collector import no_gc
from topology.model import Acl, Rule, freeze

from .common import YUNNAN

PAIRS = 2000
SEED = 20260101

GENERATED = """\
name: generated-province
domains:
  ext: {kind: extranet, pool: 10.48.0.0/12}
  inet: {kind: internet, pool: 198.51.100.0/24}
sites:
  省: {children: {"州{i:02d}": {}}}
defaults: {node: {domain: ext}}
level_templates:
  prefecture: [pref]
  county: [county]
  township: [town]
templates:
  pref:
    nodes: {"{site}核心": {role: core_router}}
    links: ["{site}核心 -- 省核心"]
    stars: [{core: "{site}核心", count: 40, name: "{site}单位{i:02d}"}]
  county:
    nodes: {"{site}核心": {role: core_router}}
    links: ["{site}核心 -- {prefecture}核心"]
    stars: [{core: "{site}核心", count: 15, name: "{site}部门{i:02d}"}]
  town:
    nodes: {"{site}路由器": {role: router}, "{site}政府": {role: host}}
    links: ["{site}路由器 -- {county}核心", "{site}政府 -- {site}路由器"]
nodes:
  省核心: {role: core_router, site: 省}
  fw: {role: firewall, site: 省, interfaces: {inside: {acl_in: out}, internet: {acl_in: in, nat: true}}}
  isp: {role: cloud, site: 省, domain: inet}
links:
  - fw:inside -- 省核心
  - {a: "fw:internet", b: isp, domain: inet, medium: internet}
acls:
  in: [{action: permit, proto: tcp, dst: 10.48.0.1, dport: 443}, {action: deny}]
  out: [{action: permit, proto: tcp, dport: 443}, {action: deny}]
"""


def province():
    """The Yunnan plan, or a generated plan of province size when it is not shipped."""
    if YUNNAN.is_file():
        return load_plan(YUNNAN)
    sites = "\n".join(f"    州{i:02d}: {{children: {{" + ", ".join(f"州{i:02d}县{j}: {{generate: {{count: 12}}}}" for j in range(10)) + "}}"
                      for i in range(16))
    text = GENERATED.replace('  省: {children: {"州{i:02d}": {}}}', "  省:\n    children:\n" + sites.replace("    州", "      州"))
    folder = Path(tempfile.mkdtemp(prefix="govnet-bench-"))
    (folder / "plan.yaml").write_text(text, encoding="utf-8")
    return load_plan(folder / "plan.yaml")


def fresh(net):
    """The same network without any cached state (routing, forwarding)."""
    return replace(net, _cache={})


def pairs(net, fw: Forwarder, count: int = PAIRS) -> list[tuple[str, Header]]:
    rng = random.Random(SEED)
    names = [n for n in net.nodes if fw.primary_address(n) is not None]
    out = []
    for _ in range(count):
        a, b = rng.choice(names), rng.choice(names)
        out.append((a, Header(fw.primary_address(a), fw.primary_address(b), 6, rng.randrange(1024, 65536), 443)))
    return out


def walk_all(fw: Forwarder, work: list[tuple[str, Header]]) -> list:
    with no_gc():
        return [fw.walk(src, h) for src, h in work]


def scapy_all(net, steps: list) -> int:
    cache: dict = {}
    n = 0
    for walk in steps:
        for s in walk:
            bytes(to_scapy(s.header, net.tunnels, cache))
            n += 1
    return n


def internet_and_extranet(net) -> tuple[list[str], list[str]]:
    inet = [n.name for n in net.nodes.values() if not net.domains[n.domain].trusted]
    ext = [n.name for n in net.nodes.values() if net.domains[n.domain].kind == "extranet"]
    return inet, ext


def opened(net):
    """The network with every ACL on an interface facing the internet replaced by 'permit everything'."""
    any4 = ipaddress.IPv4Network("0.0.0.0/0")
    names = set()
    for node in net.nodes.values():
        for iface in node.interfaces.values():
            if iface.link and iface.link in net.links:
                peer = net.nodes[net.links[iface.link].other(node.name)]
                if not net.domains[peer.domain].trusted and iface.acl_in:
                    names.add(iface.acl_in)
    acls = dict(net.acls)
    for name in names:
        acls[name] = Acl(name, (Rule(1, "permit", any4, any4, "ip", None, None, None),))
    return replace(net, acls=freeze(acls), _cache={})


def figures() -> dict:
    net = province()
    out: dict = {"plan": net.name, "nodes": len(net.nodes), "links": len(net.links)}
    builds = []
    for _ in range(3):
        copy = fresh(net)
        start = time.perf_counter()
        build_forwarding(copy)
        builds.append(time.perf_counter() - start)
    out["build_s"] = min(builds)

    copy = fresh(net)
    fw = build_forwarding(copy)
    work = pairs(copy, fw)
    start = time.perf_counter()
    steps = walk_all(fw, work)
    cold = time.perf_counter() - start
    hops = sum(len(w) for w in steps)
    warm = min(_timed(lambda: walk_all(fw, work)) for _ in range(3))
    start = time.perf_counter()
    packets = scapy_all(copy, steps)
    scapy_time = time.perf_counter() - start
    out.update(hops=hops, cold_hops_per_s=hops / cold, warm_hops_per_s=hops / warm,
               scapy_packets_per_s=packets / scapy_time,
               ratio_cold=(cold / hops) / (scapy_time / packets), ratio_warm=(warm / hops) / (scapy_time / packets))

    inet, ext = internet_and_extranet(net)
    copy = fresh(net)
    start = time.perf_counter()
    build_forwarding(copy)
    built = time.perf_counter() - start
    start = time.perf_counter()
    classes = reach(copy, inet, ext)
    out.update(reach_s=time.perf_counter() - start, reach_classes=len(classes), reach_state_s=built)
    wide = opened(net)
    build_forwarding(wide)
    start = time.perf_counter()
    classes = reach(wide, inet, ext)
    out.update(reach_open_s=time.perf_counter() - start, reach_open_classes=len(classes))
    return out


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    f = figures()
    print(f"plan: {f['plan']} ({f['nodes']} nodes, {f['links']} links)")
    print(f"forwarding state build (routing + forwarding): {f['build_s']:.2f} s   (target < 5 s)")
    print(f"single-packet traces, {PAIRS} random pairs, {f['hops']} hops:")
    print(f"  hop decisions/s   cold {f['cold_hops_per_s']:>10,.0f}   warm {f['warm_hops_per_s']:>10,.0f}   (target >= 20,000)")
    print(f"  scapy build+serialise of the same packets: {f['scapy_packets_per_s']:>10,.0f} packets/s")
    print(f"  ratio decision / scapy packet: cold {f['ratio_cold']:.2f}x   warm {f['ratio_warm']:.2f}x   (scapy is the floor)")
    print(f"reach internet -> whole extranet: {f['reach_s']:.2f} s, {f['reach_classes']} classes   (target < 10 s)")
    print(f"  worst case, internet ACLs opened to everything: {f['reach_open_s']:.2f} s, {f['reach_open_classes']} classes")


# -- pytest-benchmark -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def net():
    return province()


def test_forwarding_state_build(benchmark, net):
    benchmark.pedantic(lambda copy: build_forwarding(copy), setup=lambda: ((fresh(net),), {}), rounds=3, iterations=1)


def test_hop_decisions_warm(benchmark, net):
    fw = build_forwarding(net)
    work = pairs(net, fw)
    steps = walk_all(fw, work)
    hops = sum(len(w) for w in steps)
    benchmark.extra_info["hops"] = hops
    benchmark(walk_all, fw, work)
    benchmark.extra_info["hops_per_s"] = hops / benchmark.stats.stats.min


def test_scapy_build_serialise_same_packets(benchmark, net):
    fw = build_forwarding(net)
    steps = walk_all(fw, pairs(net, fw))
    packets = benchmark.pedantic(scapy_all, args=(net, steps), rounds=2, iterations=1)
    benchmark.extra_info["packets_per_s"] = packets / benchmark.stats.stats.min


def test_reach_internet_to_extranet(benchmark, net):
    inet, ext = internet_and_extranet(net)
    build_forwarding(net)
    classes = benchmark.pedantic(reach, args=(net, inet, ext), rounds=1, iterations=1)
    benchmark.extra_info["classes"] = len(classes)


if __name__ == "__main__":
    sys.exit(main())
