"""Header-space reach is complete: it equals a brute-force enumeration, and finds any planted hole.

The oracle here shares no code with the simulator: it reads the expanded
model (nodes, links, addresses, ACL rules), routes with networkx shortest
paths (every equal-cost path), applies ACLs with a first-match loop written
below, and enumerates every packet of a tiny header space (a few source
addresses, every address of the network as destination, TCP/UDP/ICMP, ports
0-7). On hypothesis-generated networks (trees and meshes of routers and
firewalls with random ACLs) ``reach`` must give exactly the packets the
oracle delivers.
"""

from __future__ import annotations

import ipaddress
import itertools

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.headerspace import HeaderSpace, IntervalSet, box, int_ip, universe
from simulator.reach import reach
from tests.helpers import write_plan
from topology import load_plan

PROTOS = {"tcp": 6, "udp": 17, "icmp": 1}
PORT_RANGES = st.tuples(st.integers(0, 9), st.integers(0, 9)).map(lambda p: (min(p), max(p)))
PREFIX_LENGTHS = (32, 31, 30, 29, 28, 0)


@st.composite
def abstract_rule(draw):
    proto = draw(st.sampled_from(["ip", "tcp", "udp", "icmp", "tcp", "udp"]))
    return {
        "action": draw(st.sampled_from(["permit", "permit", "deny"])),
        "src": draw(st.tuples(st.integers(0, 10**6), st.sampled_from(PREFIX_LENGTHS))),
        "dst": draw(st.tuples(st.integers(0, 10**6), st.sampled_from(PREFIX_LENGTHS))),
        "proto": proto,
        "sport": draw(st.none() | PORT_RANGES) if proto in ("tcp", "udp") and draw(st.booleans()) else None,
        "dport": draw(st.none() | PORT_RANGES) if proto in ("tcp", "udp") else None,
        "icmp_type": draw(st.none() | st.integers(0, 7)) if proto == "icmp" else None,
    }


@st.composite
def networks(draw):
    n = draw(st.integers(2, 5))
    edges = {}
    for child in range(1, n):
        edges[(draw(st.integers(0, child - 1)), child)] = draw(st.integers(1, 3))
    for _ in range(draw(st.integers(0, 3))):  # meshes: extra links make equal-cost paths
        a, b = sorted((draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
        if a != b:
            edges.setdefault((a, b), draw(st.integers(1, 3)))
    hosts = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=3))
    kinds = [draw(st.sampled_from(["router", "router", "firewall", "firewall-permit", "router-deny"])) for _ in range(n)]
    interfaces = [(r, f"r{o}") for (a, b) in edges for r, o in ((a, b), (b, a))]
    interfaces += [(r, f"h{j}") for j, r in enumerate(hosts)]
    acls = {}
    for r, ifname in interfaces:
        for direction in ("in", "out"):
            if draw(st.integers(0, 9)) < 3:
                acls[(r, ifname, direction)] = draw(st.lists(abstract_rule(), min_size=1, max_size=4))
    outside = draw(st.booleans())
    src_picks = draw(st.lists(st.integers(0, 10**6), min_size=2, max_size=3))
    return n, edges, hosts, kinds, acls, outside, src_picks


def plan_text(n, edges, hosts, kinds, acls, addresses) -> str:
    lines = ["name: gen", "domains: {d: {kind: extranet, pool: 10.0.0.0/24}}", "sites: {s: {}}",
             "defaults: {node: {domain: d, site: s}}", "nodes:"]
    ifaces: dict[int, list[str]] = {r: [] for r in range(n)}
    for a, b in edges:
        ifaces[a].append(f"r{b}")
        ifaces[b].append(f"r{a}")
    for j, r in enumerate(hosts):
        ifaces[r].append(f"h{j}")
    for r in range(n):
        role = "firewall" if kinds[r].startswith("firewall") else "router"
        extra = ", default_action: permit" if kinds[r] == "firewall-permit" else (
            ", default_action: deny" if kinds[r] == "router-deny" else "")
        specs = []
        for ifname in ifaces[r]:
            parts = [f"acl_{d}: a_{r}_{ifname}_{d}" for d in ("in", "out") if (r, ifname, d) in acls and addresses]
            specs.append(f"{ifname}: {{{', '.join(parts)}}}")
        lines.append(f"  r{r}: {{role: {role}{extra}, interfaces: {{{', '.join(specs)}}}}}")
    for j in range(len(hosts)):
        lines.append(f"  h{j}: {{role: host}}")
    lines.append("links:")
    lines += [f"  - {{a: 'r{a}:r{b}', b: 'r{b}:r{a}', cost: {c}}}" for (a, b), c in sorted(edges.items())]
    lines += [f"  - {{a: h{j}, b: 'r{r}:h{j}'}}" for j, r in enumerate(hosts)]
    if addresses and acls:
        lines.append("acls:")
        for (r, ifname, d), rules in acls.items():
            lines.append(f"  a_{r}_{ifname}_{d}:")
            for rule in rules:
                lines.append("    - " + rule_text(rule, addresses))
    return "\n".join(lines) + "\n"


def rule_text(rule: dict, addresses: list[str]) -> str:
    def prefix(choice):
        index, length = choice
        return str(ipaddress.IPv4Network(f"{addresses[index % len(addresses)]}/{length}", strict=False))

    parts = [f"action: {rule['action']}", f"src: {prefix(rule['src'])}", f"dst: {prefix(rule['dst'])}",
             f"proto: {rule['proto']}"]
    for key in ("sport", "dport"):
        if rule[key] is not None:
            parts.append(f"{key}: {rule[key][0]}-{rule[key][1]}")
    if rule["icmp_type"] is not None:
        parts.append(f"icmp_type: {rule['icmp_type']}")
    return "{" + ", ".join(parts) + "}"


# -- the independent oracle -----------------------------------------------------------
def oracle_first_match(acl, packet, default_permit: bool) -> bool:
    src, dst, proto, sport, dport = packet
    for rule in acl.rules:
        if ipaddress.IPv4Address(src) not in rule.src or ipaddress.IPv4Address(dst) not in rule.dst:
            continue
        if rule.proto != "ip" and PROTOS.get(rule.proto) != proto:
            continue
        if rule.sport is not None and not rule.sport[0] <= sport <= rule.sport[1]:
            continue
        if rule.dport is not None and not rule.dport[0] <= dport <= rule.dport[1]:
            continue
        if rule.icmp_type is not None and dport != rule.icmp_type:
            continue
        return rule.action == "permit"
    return default_permit


class Oracle:
    def __init__(self, net):
        self.net = net
        self.graph = nx.Graph()
        self.attach = {}
        for link in net.links.values():
            a, b = net.nodes[link.a], net.nodes[link.b]
            if a.role == "host" or b.role == "host":
                host, router = (a, b) if a.role == "host" else (b, a)
                self.attach[host.name] = (router.name, link)
            else:
                self.graph.add_edge(a.name, b.name, weight=link.cost, link=link)
        for node in net.nodes.values():
            if node.role != "host":
                self.graph.add_node(node.name)
        self.dist = dict(nx.all_pairs_dijkstra_path_length(self.graph))
        self.owner = {int(a.ip): n.name for n in net.nodes.values() for a in n.addresses}

    def ifname(self, node: str, link) -> str:
        return link.a_if if link.a == node else link.b_if

    def paths(self, src_host: str, dst: int):
        """Every path as [(node, in_if, out_if)], ending at the owner (out_if None)."""
        owner = self.owner[dst]
        router, link = self.attach[src_host]
        out = []

        def walk(node, in_if, acc):
            if node == owner:
                out.append(acc + [(node, in_if, None)])
                return
            if self.net.nodes[node].role == "host":
                return
            # the owner's address on a link to this node is reached over that link (connected);
            # any other address is a /32 host route of its owner: routers go there by the IGP,
            # hosts hang off their router
            for l in self.net.links_of(node):
                far = l.other(node)
                address = self.net.nodes[far].interfaces[self.ifname(far, l)].address
                if far == owner and address is not None and int(address.ip) == dst:
                    walk(owner, self.ifname(owner, l), acc + [(node, in_if, self.ifname(node, l))])
                    return
            if owner in self.attach and self.attach[owner][0] == node:
                l = self.attach[owner][1]
                walk(owner, self.ifname(owner, l), acc + [(node, in_if, self.ifname(node, l))])
                return
            target = self.attach[owner][0] if owner in self.attach else owner
            here = self.dist[node].get(target)
            if here is None:
                return
            for nb in sorted(self.graph[node]):
                edge = self.graph[node][nb]
                if self.dist[nb].get(target, 1e18) + edge["weight"] == here:
                    l = edge["link"]
                    walk(nb, self.ifname(nb, l), acc + [(node, in_if, self.ifname(node, l))])

        walk(router, self.ifname(router, link), [(src_host, None, self.ifname(src_host, link))])
        return out

    def passes(self, path, packet) -> bool:
        for node_name, in_if, out_if in path[1:]:
            node = self.net.nodes[node_name]
            if node.role == "host":
                continue
            default_permit = node.default_action == "permit"
            boundary = node.role == "firewall" or node.default_action is not None
            acl_in = node.interfaces[in_if].acl_in
            acl_out = node.interfaces[out_if].acl_out if out_if is not None else None
            if acl_in and not oracle_first_match(self.net.acls[acl_in], packet, default_permit):
                return False
            if acl_out and not oracle_first_match(self.net.acls[acl_out], packet, default_permit):
                return False
            if boundary and not acl_in and not acl_out and not default_permit:
                return False
        return True


def tiny_packets(srcs, dsts):
    for src, dst in itertools.product(srcs, dsts):
        for proto in (6, 17):
            for sport, dport in itertools.product((0, 2, 5, 7), range(8)):
                yield (src, dst, proto, sport, dport)
        for icmp_type in range(8):
            yield (src, dst, 1, 0, icmp_type)


def compare(net, source: str, src_picks, outside: bool):
    oracle = Oracle(net)
    addresses = sorted(oracle.owner)
    srcs = {int(net.nodes[source].addresses[0].ip)} | {addresses[p % len(addresses)] for p in src_picks}
    if outside:
        srcs.add(int_ip("192.0.2.1"))
    dsts = [a for a in addresses if oracle.owner[a] != source]
    others = [n for n in net.nodes if n != source]
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
