"""A random sample of generated plans in the lab: the kernel and the simulator agree on every packet.

The plans are trees and meshes of routers and firewalls (equal-cost paths
from the meshes), hosts, random ACLs in and out over the plan's own
addresses, default actions, and sometimes an internet exit with source NAT.
Packets: every pair of nodes (TCP answered, UDP, ICMP) and random ones with
addresses of the plan and one outside it. CI checks a fixed sample of seeds;
a local run draws new ones (printed on failure).
"""

from __future__ import annotations

import ipaddress
import os
import random

import pytest

from simulator.forwarding import build_forwarding
from simulator.lab import report_text, run
from simulator.lab.checks import random_checks
from simulator.lab.network import lab_network
from tests.helpers import write_plan
from topology import load_plan

from .conftest import lab_of

SAMPLE = 4
# elsewhere a new sample each run, the same in every xdist worker of the run (they must collect alike)
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID")
SEEDS = list(range(1, SAMPLE + 1)) if os.environ.get("CI") else random.Random(RUN).sample(range(10**6), SAMPLE)


def _rule(rng: random.Random, addresses: list[str]) -> str:
    proto = rng.choice(["ip", "tcp", "udp", "icmp", "tcp"])
    parts = [f"action: {rng.choice(['permit', 'permit', 'deny'])}"]
    for field in ("src", "dst"):
        if addresses and rng.random() < 0.6:
            prefix = ipaddress.IPv4Network(f"{rng.choice(addresses)}/{rng.choice([32, 31, 30, 24])}", strict=False)
            parts.append(f"{field}: {prefix}")
    parts.append(f"proto: {proto}")
    if proto in ("tcp", "udp") and rng.random() < 0.5:
        lo = rng.choice([0, 50, 443, 1000])
        parts.append(f"dport: {lo}-{lo + rng.choice([0, 10, 60000])}")
    if proto == "icmp" and rng.random() < 0.5:
        parts.append(f"icmp_type: {rng.choice([0, 8])}")
    return "{" + ", ".join(parts) + "}"


def plan_text(seed: int, addresses: list[str]) -> str:
    rng = random.Random(seed)
    n = rng.randint(3, 6)
    edges: dict[tuple[int, int], int] = {}
    for child in range(1, n):
        edges[(rng.randrange(child), child)] = rng.randint(1, 3)
    for _ in range(rng.randint(0, 3)):
        a, b = sorted(rng.sample(range(n), 2))
        edges.setdefault((a, b), rng.randint(1, 3))
    hosts = [rng.randrange(n) for _ in range(rng.randint(2, 4))]
    internet = rng.random() < 0.5
    exit_router = rng.randrange(n)
    lines = [f"name: gen{seed}", "domains:", "  d: {kind: extranet, pool: 10.0.0.0/24}",
             "  inet: {kind: internet, pool: 198.51.100.0/24}", "sites: {s: {}}",
             "defaults: {node: {domain: d, site: s}}", "nodes:"]
    ifaces: dict[int, list[str]] = {r: [] for r in range(n)}
    for a, b in edges:
        ifaces[a].append(f"r{b}")
        ifaces[b].append(f"r{a}")
    for j, r in enumerate(hosts):
        ifaces[r].append(f"h{j}")
    acls: dict[str, list[str]] = {}
    for r in range(n):
        kind = rng.choice(["router", "router", "firewall", "firewall-permit", "router-deny"])
        role = "firewall" if kind.startswith("firewall") else "router"
        extra = {"firewall-permit": ", default_action: permit", "router-deny": ", default_action: deny"}.get(kind, "")
        specs = []
        for ifname in ifaces[r]:
            parts = []
            for direction in ("in", "out"):
                if addresses and rng.random() < 0.3:
                    name = f"a{r}{ifname}{direction}"
                    acls[name] = [_rule(rng, addresses) for _ in range(rng.randint(1, 4))]
                    parts.append(f"acl_{direction}: {name}")
            specs.append(f"{ifname}: {{{', '.join(parts)}}}")
        if internet and r == exit_router:
            specs.append("wan: {nat: true}")
        lines.append(f"  r{r}: {{role: {role}{extra}, interfaces: {{{', '.join(specs)}}}}}")
    for j in range(len(hosts)):
        lines.append(f"  h{j}: {{role: host}}")
    if internet:
        lines.append("  isp: {role: cloud, domain: inet}")
    lines.append("links:")
    lines += [f"  - {{a: 'r{a}:r{b}', b: 'r{b}:r{a}', cost: {c}}}" for (a, b), c in sorted(edges.items())]
    lines += [f"  - {{a: h{j}, b: 'r{r}:h{j}'}}" for j, r in enumerate(hosts)]
    if internet:
        lines.append(f"  - {{a: 'r{exit_router}:wan', b: isp, domain: inet, medium: internet}}")
    if acls:
        lines.append("acls:")
        for name, rules in acls.items():
            lines.append(f"  {name}:")
            lines += [f"    - {rule}" for rule in rules]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_plan_agrees_packet_for_packet(tmp_path, lab_capable, seed):
    bare = load_plan(write_plan(tmp_path, plan_text(seed, [])))
    addresses = sorted(str(a.ip) for node in bare.nodes.values() for a in node.addresses)
    text = plan_text(seed, addresses)
    path = write_plan(tmp_path, text)
    net = lab_network(path)
    extra = random_checks(net, build_forwarding(net), 60, seed)
    with lab_of(tmp_path, text) as (name, folder):
        report = run(name, folder, kinds=("pairs", "reach"), extra=extra)
    assert report.ok, f"seed {seed}\n{text}\n{report_text(report)}"
    assert any(not v.delivered for v in report.verdicts) or all(v.delivered for v in report.verdicts)
