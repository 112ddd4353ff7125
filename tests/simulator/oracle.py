"""An independent oracle of forwarding, for generated networks of routers, firewalls and hosts.

It shares no code with the simulator: it reads the expanded model (nodes,
links, addresses, ACL rules), routes with networkx shortest paths (every
equal-cost path, each with the share of traffic per-hop equal splitting
gives it), applies ACLs with a first-match loop written below, and
enumerates every packet of a tiny header space (a few source addresses, every
address of the network as destination, TCP/UDP/ICMP, ports 0-7). The
hypothesis strategy :func:`networks` draws trees and meshes of routers and
firewalls with random ACLs.
"""

from __future__ import annotations

import ipaddress
import itertools

import networkx as nx
from hypothesis import strategies as st

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
        return [path for path, _ in self.weighted_paths(src_host, dst)]

    def weighted_paths(self, src_host: str, dst: int):
        """Every path with the share of the traffic that takes it when each router splits equally."""
        owner = self.owner[dst]
        router, link = self.attach[src_host]
        out = []

        def walk(node, in_if, acc, share):
            if node == owner:
                out.append((acc + [(node, in_if, None)], share))
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
                    walk(owner, self.ifname(owner, l), acc + [(node, in_if, self.ifname(node, l))], share)
                    return
            if owner in self.attach and self.attach[owner][0] == node:
                l = self.attach[owner][1]
                walk(owner, self.ifname(owner, l), acc + [(node, in_if, self.ifname(node, l))], share)
                return
            target = self.attach[owner][0] if owner in self.attach else owner
            here = self.dist[node].get(target)
            if here is None:
                return
            hops = []
            for nb in sorted(self.graph[node]):
                edge = self.graph[node][nb]
                if self.dist[nb].get(target, 1e18) + edge["weight"] == here:
                    hops.append((nb, edge["link"]))
            for nb, l in hops:
                walk(nb, self.ifname(nb, l), acc + [(node, in_if, self.ifname(node, l))], share / len(hops))

        walk(router, self.ifname(router, link), [(src_host, None, self.ifname(src_host, link))], 1.0)
        return out

    def delivered_loads(self, src_host: str, packet) -> tuple[dict[tuple[str, int], float], float]:
        """(share of the packet's traffic per (link, direction) that is delivered, share delivered)."""
        loads: dict[tuple[str, int], float] = {}
        total = 0.0
        for path, share in self.weighted_paths(src_host, packet[1]):
            if not self.passes(path, packet):
                continue
            total += share
            for node, _, out_if in path:
                if out_if is None:
                    continue
                link = self.net.links[self.net.nodes[node].interfaces[out_if].link]
                key = (link.name, 0 if link.a == node else 1)
                loads[key] = loads.get(key, 0.0) + share
        return loads, total

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


