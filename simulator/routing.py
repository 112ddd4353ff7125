"""Routing: every node's forwarding decision for a destination address.

Definition. The network runs one link-state IGP per VRF (the default VRF is
``None``). The IGP runs over *forwarding* nodes only (routers, switches,
firewalls, gateways, clouds); hosts, servers and MCUs are stubs that never
carry transit traffic. A VRF's routing graph holds the backbone links (no VRF
on either interface, shared by every VRF as MPLS transport would be) and the
links whose interfaces are in that VRF. Link cost is the plan's ``cost``; a
link between two security domains costs :data:`BOUNDARY_PENALTY` more, the way
external routes lose to internal ones, so traffic never detours through
another domain when an inside path exists.

Each node originates its loopback and interface addresses (as /32 host
routes) and its LAN; static routes win over IGP routes of the same length and
are redistributed into the IGP; a cloud node of an untrusted domain (the
internet) originates the default route. A lookup is longest-prefix match;
among equal prefixes, connected beats static beats IGP. Equal-cost paths are
all kept (ECMP); callers choose (a trace hashes the flow, a load split shares
it, a reachability query follows every branch).

Why hand-written: networkx would need one Dijkstra per destination, which on a
10,000-node province is minutes. Plans are trees with a meshed core, so the
graph is split into the *core* (what remains after pruning degree-≤1 nodes
repeatedly) and pendant trees hanging off it. Next hops inside a tree follow
parent pointers; only core destinations need a shortest-path vector, which
scipy's C Dijkstra gives in about a millisecond and which is cached.

Example::

    >>> state = build_routing(net)                           # doctest: +SKIP
    >>> [h.neighbor for h in state.next_hops("县核心", "10.53.0.9")]   # doctest: +SKIP
    ['州核心']
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from topology.model import Link, Network

FORWARDING_ROLES = frozenset({
    "core_router", "router", "aggregation", "access_switch", "switch", "firewall",
    "one_way_gateway", "vpn_gateway", "cloud",
})
BOUNDARY_PENALTY = 1_000_000
DISTANCE_CONNECTED, DISTANCE_STATIC, DISTANCE_IGP = 0, 1, 110


@dataclass(frozen=True, slots=True)
class NextHop:
    """Leave ``node`` through ``out_if`` over ``link`` to ``neighbor`` (arriving on ``in_if``)."""

    node: str
    out_if: str
    link: str
    neighbor: str
    in_if: str


@dataclass(frozen=True, slots=True)
class Route:
    """The route a lookup chose: its prefix, where it came from, who originates it."""

    prefix: ipaddress.IPv4Network
    source: str  # connected | static | igp | local
    owners: frozenset[str]
    vrf: str | None
    via: str | None = None  # for static routes: the next-hop text of the plan


@dataclass
class _VrfGraph:
    """The routing graph of one VRF, split into core and pendant trees."""

    vrf: str | None
    index: dict[str, int]
    names: list[str]
    adjacency: dict[str, dict[str, list[Link]]]  # node -> neighbour -> cheapest parallel links
    weights: dict[tuple[str, str], int]
    matrix: csr_matrix
    parent: dict[str, str | None] = field(default_factory=dict)  # pruned nodes only
    top: dict[str, str] = field(default_factory=dict)  # pruned node -> core node (or tree root)
    core: set[str] = field(default_factory=set)
    core_index: dict[str, int] = field(default_factory=dict)
    core_matrix: csr_matrix | None = None
    vectors: dict = field(default_factory=dict)


class RoutingState:
    """Routing of one network: built once, queried many times (lookups are cached)."""

    def __init__(self, net: Network):
        self.net = net
        self.vrfs: list[str | None] = [None] + sorted(net.vrfs)
        self.attach: dict[str, dict[str | None, list[tuple[str, Link]]]] = {}
        self.graphs: dict[str | None, _VrfGraph] = {}
        self.tables: dict[str | None, dict[int, dict[int, frozenset[str]]]] = {}
        self.statics: dict[str, list[tuple[ipaddress.IPv4Network, str, str | None]]] = {}
        self.connected: dict[str, list[tuple[ipaddress.IPv4Network, str]]] = {}
        self.address_owner: dict[int, tuple[str, str | None]] = {}
        self._build()

    # -- building --------------------------------------------------------------
    def _build(self) -> None:
        net = self.net
        for node in net.nodes.values():
            self.connected[node.name] = [(i.address.network, i.name) for i in node.interfaces.values() if i.address]
            if node.loopback is not None:
                self.address_owner[int(node.loopback.ip)] = (node.name, None)
            for iface in node.interfaces.values():
                if iface.address is not None:
                    self.address_owner[int(iface.address.ip)] = (node.name, iface.name)
        for vrf in self.vrfs:
            self.graphs[vrf] = self._graph(vrf)
            self.tables[vrf] = self._table(vrf)
        self._index_for_lookup()

    def _index_for_lookup(self) -> None:
        """Integer indexes of connected subnets and static routes, and a cache of Route objects (lookup is hot)."""
        self._routes: dict[tuple, Route] = {}
        self._conn_index: dict[str, tuple[tuple[int, int, dict[int, tuple[ipaddress.IPv4Network, str]]], ...]] = {}
        for node, entries in self.connected.items():
            by_len: dict[int, dict[int, tuple[ipaddress.IPv4Network, str]]] = {}
            for prefix, ifname in entries:  # the first of equal prefixes wins, as in a scan
                by_len.setdefault(prefix.prefixlen, {}).setdefault(int(prefix.network_address), (prefix, ifname))
            self._conn_index[node] = tuple((length, _mask(length), nets) for length, nets in sorted(by_len.items(), reverse=True))
        self._static_index: dict[str, tuple[tuple, ...]] = {
            node: tuple((prefix, via, rvrf, int(prefix.network_address), int(prefix.netmask)) for prefix, via, rvrf in entries)
            for node, entries in self.statics.items()
        }

    def link_vrf(self, link: Link) -> str | None | bool:
        """The VRF a link belongs to; ``False`` when its two ends disagree."""
        a = self.net.nodes[link.a].interfaces[link.a_if].vrf
        b = self.net.nodes[link.b].interfaces[link.b_if].vrf
        if a and b and a != b:
            return False
        return a or b

    def is_forwarding(self, node: str) -> bool:
        return self.net.nodes[node].role in FORWARDING_ROLES

    def _in_vrf(self, link: Link, vrf: str | None) -> bool:
        lv = self.link_vrf(link)
        return lv is None or lv == vrf

    def _cost(self, link: Link, node: str) -> int:
        iface = self.net.nodes[node].interfaces[link.a_if if node == link.a else link.b_if]
        cost = iface.cost or link.cost
        if self.net.nodes[link.a].domain != self.net.nodes[link.b].domain:
            cost += BOUNDARY_PENALTY
        return cost

    def _graph(self, vrf: str | None) -> _VrfGraph:
        adjacency: dict[str, dict[str, list[Link]]] = {}
        weights: dict[tuple[str, str], int] = {}
        for link in self.net.links.values():
            if not self._in_vrf(link, vrf):
                continue
            a, b = link.a, link.b
            fa, fb = self.is_forwarding(a), self.is_forwarding(b)
            if fa and fb:
                for u, v in ((a, b), (b, a)):
                    cost = self._cost(link, u)
                    best = weights.get((u, v))
                    if best is None or cost < best:
                        weights[(u, v)] = cost
                        adjacency.setdefault(u, {})[v] = [link]
                    elif cost == best:
                        adjacency[u][v].append(link)
            elif fa != fb:
                stub, router = (a, b) if fb else (b, a)
                self.attach.setdefault(stub, {}).setdefault(vrf, []).append((router, link))
        names = sorted(n for n in self.net.nodes if self.is_forwarding(n))
        index = {n: i for i, n in enumerate(names)}
        matrix = _csr(weights, index, len(names))
        graph = _VrfGraph(vrf, index, names, adjacency, weights, matrix)
        _split_core(graph)
        return graph

    def _table(self, vrf: str | None) -> dict[int, dict[int, frozenset[str]]]:
        """Prefixes originated into the IGP of ``vrf``: length -> network -> owners."""
        table: dict[int, dict[int, set[str]]] = {}

        def add(prefix: ipaddress.IPv4Network, owner: str) -> None:
            table.setdefault(prefix.prefixlen, {}).setdefault(int(prefix.network_address), set()).add(owner)

        for node in self.net.nodes.values():
            home = node.vrf
            for iface in node.interfaces.values():
                if iface.address is not None and (iface.vrf or home) == vrf:
                    add(ipaddress.IPv4Network(f"{iface.address.ip}/32"), node.name)
            if home != vrf:
                continue
            if node.loopback is not None:
                add(ipaddress.IPv4Network(f"{node.loopback.ip}/32"), node.name)
            if node.lan is not None:
                add(node.lan, node.name)
            if node.role == "cloud" and node.domain in self.net.domains and not self.net.domains[node.domain].trusted:
                add(ipaddress.IPv4Network("0.0.0.0/0"), node.name)
        for node in self.net.nodes.values():
            for route in node.routes:
                if (route.vrf or node.vrf) == vrf:
                    add(route.prefix, node.name)
                    self.statics.setdefault(node.name, []).append((route.prefix, route.via, route.vrf))
        return {length: {net_: frozenset(owners) for net_, owners in nets.items()}
                for length, nets in sorted(table.items(), reverse=True)}

    # -- queries ----------------------------------------------------------------
    def lookup(self, node: str, address: str | int | ipaddress.IPv4Address, vrf: str | None = None) -> Route | None:
        """The best route at ``node`` for ``address`` in ``vrf`` (None: no route)."""
        ip = int(ipaddress.IPv4Address(address)) if not isinstance(address, int) else address
        routes = self._routes
        owner = self.address_owner.get(ip)
        if owner is not None and owner[0] == node:
            key = ("local", node, ip, vrf)
            route = routes.get(key)
            if route is None:
                route = routes[key] = Route(ipaddress.IPv4Network((ip, 32)), "local", frozenset({node}), vrf)
            return route
        best: Route | None = None
        best_len = -1
        for length, mask, nets in self._conn_index.get(node, ()):
            hit = nets.get(ip & mask)
            if hit is not None:
                key = ("connected", node, length, ip & mask, vrf)
                best = routes.get(key)
                if best is None:
                    best = routes[key] = Route(hit[0], "connected", frozenset({node}), vrf, hit[1])
                if owner is not None:
                    return best  # the neighbour's own address on this link: reached over the link, as ARP would
                best_len = length
                break
        statics = self._static_index.get(node)
        if statics:
            home = self.net.nodes[node].vrf
            for prefix, via, rvrf, network, mask in statics:
                if (rvrf or home) == vrf and ip & mask == network and prefix.prefixlen > best_len:
                    key = ("static", node, prefix, via, vrf)
                    best = routes.get(key)
                    if best is None:
                        best = routes[key] = Route(prefix, "static", frozenset({node}), vrf, via)
                    best_len = prefix.prefixlen
        for vrf_ in self.visible_vrfs(vrf):
            for length, nets in self.tables[vrf_].items():
                if length <= best_len:
                    break
                network = ip >> (32 - length) << (32 - length) if length else 0
                owners = nets.get(network)
                if owners is not None:
                    key = ("igp", vrf_, length, network)
                    best = routes.get(key)
                    if best is None:
                        best = routes[key] = Route(ipaddress.IPv4Network((network, length)), "igp", owners, vrf_)
                    best_len = length
                    break
        return best

    def visible_vrfs(self, vrf: str | None) -> tuple[str | None, ...]:
        """``vrf`` and the VRFs it imports (route leaking for shared services)."""
        if vrf is None or vrf not in self.net.vrfs:
            return (vrf,)
        return (vrf,) + tuple(v for v in self.net.vrfs[vrf].imports if v in self.tables)

    def next_hops(self, node: str, address: str | int | ipaddress.IPv4Address, vrf: str | None = None) -> list[NextHop]:
        """Every equal-cost next hop from ``node`` towards ``address`` (empty: deliver here or no route)."""
        route = self.lookup(node, address, vrf)
        if route is None or route.source == "local":
            return []
        ip = int(ipaddress.IPv4Address(address)) if not isinstance(address, int) else address
        if route.source == "connected":
            return self._connected_hop(node, ip, route.via)
        if route.source == "static":
            return self._static_hops(node, route.via, vrf)
        return self.hops_towards(node, route.owners, route.vrf, ip)

    def _connected_hop(self, node: str, ip: int, ifname: str | None) -> list[NextHop]:
        owner = self.address_owner.get(ip)
        iface = self.net.nodes[node].interfaces.get(ifname or "")
        if owner is None or iface is None or iface.link is None:
            return []
        link = self.net.links[iface.link]
        neighbor = link.other(node)
        if owner[0] != neighbor:
            return []
        return [self._hop(node, link)]

    def _static_hops(self, node: str, via: str | None, vrf: str | None) -> list[NextHop]:
        if via is None:
            return []
        if via in self.net.nodes:
            return [self._hop(node, l) for l in self.net.links_of(node) if l.other(node) == via][:1]
        owner = self.address_owner.get(int(ipaddress.IPv4Address(via)))
        if owner is None:
            return []
        direct = [self._hop(node, l) for l in self.net.links_of(node) if l.other(node) == owner[0]]
        return direct[:1] if direct else self.hops_towards(node, frozenset({owner[0]}), vrf, None)

    def _hop(self, node: str, link: Link) -> NextHop:
        if link.a == node:
            return NextHop(node, link.a_if, link.name, link.b, link.b_if)
        return NextHop(node, link.b_if, link.name, link.a, link.a_if)

    def hops_towards(self, node: str, owners: frozenset[str], vrf: str | None, ip: int | None) -> list[NextHop]:
        """Equal-cost next hops from ``node`` to the nearest of ``owners`` in ``vrf``."""
        if node in owners:
            return []
        graph = self.graphs[vrf]
        targets: set[str] = set()
        final: dict[str, list[Link]] = {}
        for owner in owners:
            if self.is_forwarding(owner):
                targets.add(owner)
            else:
                for router, link in self.attach.get(owner, {}).get(vrf, []) + self._backbone_attach(owner, vrf):
                    targets.add(router)
                    final.setdefault(router, []).append(link)
        if not self.is_forwarding(node):
            return self._stub_egress(node, owners, vrf, ip)
        if node in final:
            return [self._hop(node, l) for l in sorted(final[node], key=lambda l: l.name)]
        if not targets or node not in graph.index:
            return []
        neighbors = _tree_or_core_hops(graph, node, frozenset(targets))
        out = []
        for neighbor in neighbors:
            out.extend(self._hop(node, l) for l in graph.adjacency[node][neighbor])
        return out

    def _backbone_attach(self, stub: str, vrf: str | None) -> list[tuple[str, Link]]:
        if vrf is None:
            return []
        return self.attach.get(stub, {}).get(None, [])

    def _stub_egress(self, node: str, owners: frozenset[str], vrf: str | None, ip: int | None) -> list[NextHop]:
        """A host sends to a directly linked owner, else to its first gateway (lowest cost, then name)."""
        links = sorted(self.net.links_of(node), key=lambda l: (l.cost, l.name))
        for link in links:
            if link.other(node) in owners:
                return [self._hop(node, link)]
        for link in links:
            if self.is_forwarding(link.other(node)):
                return [self._hop(node, link)]
        return []

    def prefixes(self, vrf: str | None = None) -> list[ipaddress.IPv4Network]:
        """Every prefix originated into ``vrf``'s IGP (for header-space splitting)."""
        return [ipaddress.IPv4Network((net_, length)) for length, nets in self.tables[vrf].items() for net_ in nets]

    def vrf_of_interface(self, node: str, ifname: str | None) -> str | None:
        n = self.net.nodes[node]
        if ifname is None:
            return n.vrf
        iface = n.interfaces.get(ifname)
        return (iface.vrf if iface else None) or n.vrf


def build_routing(net: Network) -> RoutingState:
    """The routing state of ``net`` (cached on the network, which is immutable)."""
    return net.cached("routing", RoutingState)


def _mask(length: int) -> int:
    return (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF


def _contains(prefix: ipaddress.IPv4Network, ip: int) -> bool:
    return int(prefix.network_address) == (ip & int(prefix.netmask))


def _csr(weights: dict[tuple[str, str], int], index: dict[str, int], n: int) -> csr_matrix:
    if not weights:
        return csr_matrix((n, n))
    rows = np.fromiter((index[u] for u, _ in weights), dtype=np.int64, count=len(weights))
    cols = np.fromiter((index[v] for _, v in weights), dtype=np.int64, count=len(weights))
    data = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
    return csr_matrix((data, (rows, cols)), shape=(n, n))


def _split_core(graph: _VrfGraph) -> None:
    """Prune degree-≤1 nodes repeatedly; record each pruned node's parent and top."""
    degree = {n: len(graph.adjacency.get(n, {})) for n in graph.names}
    removed: set[str] = set()
    queue = [n for n in graph.names if degree[n] <= 1]
    order = []
    while queue:
        node = queue.pop()
        if node in removed:
            continue
        removed.add(node)
        order.append(node)
        parent = None
        for neighbor in graph.adjacency.get(node, {}):
            if neighbor not in removed:
                parent = neighbor
                degree[neighbor] -= 1
                if degree[neighbor] <= 1:
                    queue.append(neighbor)
        graph.parent[node] = parent
    graph.core = set(graph.names) - removed
    for node in reversed(order):  # parents are resolved before children
        parent = graph.parent[node]
        graph.top[node] = node if parent is None else (parent if parent in graph.core else graph.top[parent])
    core = sorted(graph.core)
    graph.core_index = {n: i for i, n in enumerate(core)}
    core_weights = {(u, v): w for (u, v), w in graph.weights.items() if u in graph.core and v in graph.core}
    graph.core_matrix = _csr(core_weights, graph.core_index, len(core))


def _ancestors(graph: _VrfGraph, node: str) -> Iterable[str]:
    while node in graph.parent and graph.parent[node] is not None:
        node = graph.parent[node]  # type: ignore[assignment]
        yield node


def _tree_or_core_hops(graph: _VrfGraph, node: str, targets: frozenset[str]) -> list[str]:
    if len(targets) == 1:
        (target,) = targets
        if target == node:
            return []
        if target not in graph.index:
            return []
        # target below node in a pendant tree: go down towards it
        child = target
        for ancestor in _ancestors(graph, target):
            if ancestor == node:
                return [child]
            child = ancestor
        if node in graph.parent:  # node in a pendant tree, target not below it: go up
            parent = graph.parent[node]
            return [parent] if parent is not None else []
        top = graph.top.get(target, target)
        if top not in graph.core or node not in graph.core:
            return []
        return _core_hops(graph, node, frozenset({top}))
    return _multi_hops(graph, node, targets)


def _core_hops(graph: _VrfGraph, node: str, targets: frozenset[str]) -> list[str]:
    dist = graph.vectors.get(targets)
    if dist is None:
        indices = [graph.core_index[t] for t in sorted(targets)]
        # distances *to* the targets: Dijkstra from them over the reversed graph
        dist = dijkstra(graph.core_matrix.T.tocsr(), directed=True, indices=indices, min_only=True)
        graph.vectors[targets] = dist
    here = dist[graph.core_index[node]]
    if not np.isfinite(here):
        return []
    out = []
    for neighbor in sorted(graph.adjacency.get(node, {})):
        if neighbor in graph.core_index:
            w = graph.weights[(node, neighbor)]
            if dist[graph.core_index[neighbor]] + w == here:
                out.append(neighbor)
    return out


def _multi_hops(graph: _VrfGraph, node: str, targets: frozenset[str]) -> list[str]:
    """Towards the nearest of several owners: one Dijkstra over the whole VRF graph, cached."""
    key = ("multi", targets)
    dist = graph.vectors.get(key)
    if dist is None:
        indices = [graph.index[t] for t in sorted(targets) if t in graph.index]
        if not indices:
            return []
        dist = dijkstra(graph.matrix.T.tocsr(), directed=True, indices=indices, min_only=True)
        graph.vectors[key] = dist
    here = dist[graph.index[node]]
    if not np.isfinite(here) or here == 0:
        return []
    return [v for v in sorted(graph.adjacency.get(node, {}))
            if dist[graph.index[v]] + graph.weights[(node, v)] == here]
