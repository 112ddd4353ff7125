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
routes) and its LAN; a cloud node of an untrusted domain (the internet)
originates the default route. A static route is used by its own router and
is redistributed into the IGP as an *external* route: other routers use it
only where no router originates the same prefix internally (as OSPF prefers
intra-area routes to type-5 externals), so a static covering someone's LAN
never draws that LAN's traffic away from its owner. A lookup is
longest-prefix match over the prefixes the router has a route to (one whose
originators the IGP joins it to: an unreachable longer prefix gives way to a
shorter one, the default included, as in a link-state RIB); among equal
prefixes, connected beats the node's own static beats internal IGP beats
external. Equal-cost paths are all kept
(ECMP); callers choose (a trace hashes the flow, a load split shares it, a
reachability query follows every branch). A router with no path to a
route's owners has no next hop (it never forwards "up" into a part of the
network that cannot reach the destination).

:meth:`RoutingState.degraded` derives the routing after links and nodes fail
from an intact state, rebuilding only the VRF graphs the failure touches.

Why hand-written: networkx would need one Dijkstra per destination, which on a
10,000-node province is minutes. Plans are trees with a meshed core, so the
graph is split into the *core* (what remains after pruning degree-≤1 nodes
repeatedly) and pendant trees hanging off it. Next hops inside a tree follow
parent pointers; only core destinations need a shortest-path vector, which
scipy's C Dijkstra gives in about a millisecond and which is cached.

Example::

    >>> state = build_routing(net)      # the Chuxiong plan: a county core towards the prefecture's server
    >>> [h.neighbor for h in state.next_hops("双柏县外网核心", "10.53.4.225")]
    ['楚雄州外网核心']

and on a square of routers, two equal-cost next hops::

    >>> from topology.loader import load_text
    >>> square = load_text('''
    ... name: ecmp
    ... domains: {外网: {kind: extranet, pool: 10.1.0.0/16}}
    ... sites: {州: {level: prefecture}}
    ... defaults: {node: {domain: 外网, site: 州, role: core_router}}
    ... nodes: {h: {role: host}, r1: {}, r2: {}, r3: {}, r4: {}, srv: {role: server}}
    ... links: [{a: h, b: r1}, {a: r1, b: r2}, {a: r1, b: r3}, {a: r2, b: r4}, {a: r3, b: r4}, {a: r4, b: srv}]
    ... ''')
    >>> [h.neighbor for h in build_routing(square).next_hops("r1", str(square.nodes["srv"].loopback.ip))]
    ['r2', 'r3']
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from topology.model import Link, Network
from topology.vocabulary import FORWARDING_ROLES

from .patched import Patched

BOUNDARY_PENALTY = 1_000_000
DISTANCE_CONNECTED, DISTANCE_STATIC, DISTANCE_IGP = 0, 1, 110
Table = dict[int, dict[int, frozenset[str]]]  # prefix length (longest first) -> network -> originating nodes


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
    source: str  # connected | static | igp | external | local
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
    parent: dict[str, str | None] = field(default_factory=dict)  # pruned nodes only
    top: dict[str, str] = field(default_factory=dict)  # pruned node -> core node (or tree root)
    core: set[str] = field(default_factory=set)
    core_index: dict[str, int] = field(default_factory=dict)
    core_matrix: csr_matrix | None = None
    vectors: dict = field(default_factory=dict)
    derived_from: tuple[_VrfGraph, frozenset[str], tuple[str, ...]] | None = None  # see :meth:`labels`
    _matrix: csr_matrix | None = None
    _labels: np.ndarray | None = None
    _tops: np.ndarray | None = None
    _symmetric: bool | None = None

    @property
    def symmetric(self) -> bool:
        """Whether every neighbour of a node has the node as its neighbour (what pruning by degree assumes)."""
        if self._symmetric is None:
            adj = self.adjacency
            self._symmetric = all(u in adj.get(v, {}) for u, nbrs in adj.items() for v in nbrs)
        return self._symmetric

    @property
    def tops(self) -> np.ndarray:
        """The index (in :attr:`names`) of the core node each node is or hangs off (a coreless tree: its root)."""
        if self._tops is None:
            tops = np.arange(len(self.names), dtype=np.int64)
            for node, top in self.top.items():
                tops[self.index[node]] = self.index[top]
            self._tops = tops
        return self._tops

    @property
    def matrix(self) -> csr_matrix:
        """The whole VRF graph as a sparse matrix (built on first use: only anycast lookups need it)."""
        if self._matrix is None:
            self._matrix = _csr(self.weights, self.index, len(self.names))
        return self._matrix

    @property
    def labels(self) -> np.ndarray:
        """The connected component of each node of :attr:`names` (equal labels: some path joins them)."""
        if self._labels is None:
            if self.derived_from is not None:
                self._labels = self._labels_after(*self.derived_from)
            else:
                _, self._labels = connected_components(self.matrix, directed=True, connection="weak")
        return self._labels

    def _labels_after(self, base: _VrfGraph, ends: frozenset[str], retopped: tuple[str, ...]) -> np.ndarray:
        """The components of this graph, ``base`` less edges and nodes at ``ends`` whose split into core and
        trees was derived from ``base``'s (``retopped``: the nodes whose top changed): the components ``base``
        had away from ``ends`` stay; in those it had at ``ends``, two nodes are joined exactly when their tops
        are (a tree leads only to its top), which the core alone tells. Nodes with no core top (failed ones)
        are each a component of their own.
        """
        labels = base.labels.copy()
        if not ends:
            return labels
        tops = base.tops.copy()
        for node in retopped:
            tops[self.index[node]] = self.index[self.top[node]]
        touched = np.isin(labels, [labels[self.index[x]] for x in ends])
        _, comp = connected_components(self.core_matrix, directed=True, connection="weak")
        core_label = np.full(len(self.names), -1, dtype=np.int64)
        for name, i in self.core_index.items():
            core_label[self.index[name]] = comp[i]
        offset = int(labels.max()) + 1
        where = np.flatnonzero(touched)
        values = core_label[tops[where]]
        alone = values < 0
        values[~alone] += offset
        values[alone] = offset + len(self.core_index) + np.arange(int(alone.sum()))
        labels[where] = values
        self._tops = tops
        return labels

    def connected(self, a: str, b: str) -> bool:
        """Whether some path of the VRF graph joins ``a`` and ``b``."""
        labels = self.labels
        return bool(labels[self.index[a]] == labels[self.index[b]])


class RoutingState:
    """Routing of one network: built once, queried many times (lookups are cached)."""

    def __init__(self, net: Network):
        self.net = net
        self.vrfs: list[str | None] = [None] + sorted(net.vrfs)
        self.attach: MutableMapping[str, dict[str | None, list[tuple[str, Link]]]] = {}
        self.graphs: dict[str | None, _VrfGraph] = {}
        self.tables: dict[str | None, Table] = {}  # internal: what nodes originate
        self.external: dict[str | None, Table] = {}  # redistributed static routes
        self.statics: MutableMapping[str, list[tuple[ipaddress.IPv4Network, str, str | None]]] = {}
        self.connected: MutableMapping[str, list[tuple[ipaddress.IPv4Network, str]]] = {}
        self.address_owner: MutableMapping[int, tuple[str, str | None]] = {}
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
            self.tables[vrf], self.external[vrf] = self._table(vrf)
        self._index_for_lookup()
        self._degrader: _Degrader | None = None
        self._children: dict[str | None, dict[str, list[str]]] = {}  # pendant trees: parent -> children
        self._hosts_of: dict[str | None, dict[str, list[str]]] = {}  # router -> the hosts attached to it

    def _index_for_lookup(self) -> None:
        """Integer indexes of connected subnets and static routes, and caches of routes and next hops (hot)."""
        self._routes: dict[tuple, Route] = {}
        self._toward: dict[tuple, list[NextHop]] = {}
        self._reach: dict[tuple, bool] = {}
        self._candidates: dict[tuple[int, str | None], tuple] = {}
        self._neighbours: dict[str, frozenset[str]] = {}
        self._conn_index: MutableMapping[str, tuple[tuple[int, int, dict[int, tuple[ipaddress.IPv4Network, str]]], ...]] = {}
        for node, entries in self.connected.items():
            by_len: dict[int, dict[int, tuple[ipaddress.IPv4Network, str]]] = {}
            for prefix, ifname in entries:  # the first of equal prefixes wins, as in a scan
                by_len.setdefault(prefix.prefixlen, {}).setdefault(int(prefix.network_address), (prefix, ifname))
            self._conn_index[node] = tuple((length, _mask(length), nets) for length, nets in sorted(by_len.items(), reverse=True))
        self._static_index: MutableMapping[str, tuple[tuple, ...]] = {
            node: tuple((prefix, via, rvrf, int(prefix.network_address), int(prefix.netmask)) for prefix, via, rvrf in entries)
            for node, entries in self.statics.items()
        }

    def link_vrf(self, link: Link) -> str | bool | None:
        """The VRF a link belongs to; ``False`` when its two ends disagree."""
        a = self.net.nodes[link.a].interfaces[link.a_if].vrf
        b = self.net.nodes[link.b].interfaces[link.b_if].vrf
        if a and b and a != b:
            return False
        return a or b

    def is_forwarding(self, node: str) -> bool:
        return self.net.nodes[node].role in FORWARDING_ROLES

    def cost_moot(self, link: Link) -> bool:
        """Whether no route of this routing, intact or after any failure, changes with ``link``'s cost alone.

        True when, in every VRF graph, the link is either no edge (an end forwards nothing: the link
        attaches a stub, whose choice among its links :class:`~simulator.forwarding.Forwarder` makes by
        cost and must be compared apart) or the only link joining a pendant node to its parent. Such a link
        is a bridge, and stays one after any failure. Every path between its two sides crosses it, and no
        path within one side does. Its cost therefore adds the same amount to every candidate path of a
        destination, or to none, and no next hop moves.

        >>> routing = build_routing(net)                                   # the Chuxiong plan
        >>> [routing.cost_moot(net.links[n]) for n in ("楚雄州互联网接入防火墙--互联网", "州驻昆明办事处VPN网关--互联网")]
        [False, True]
        """
        if not (self.is_forwarding(link.a) and self.is_forwarding(link.b)):
            return True
        for vrf, graph in self.graphs.items():
            if link.b not in graph.adjacency.get(link.a, {}):
                continue
            if graph.parent.get(link.a) != link.b and graph.parent.get(link.b) != link.a:
                return False
            if sum(1 for other in self.net.links_of(link.a) if other.other(link.a) == link.b
                   and self._in_vrf(other, vrf)) > 1:
                return False
        return True

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
        graph = _VrfGraph(vrf, index, names, adjacency, weights)
        _split_core(graph)
        return graph

    def _table(self, vrf: str | None) -> tuple[Table, Table]:
        """Prefixes originated into the IGP of ``vrf`` (internal) and the static routes redistributed into it."""
        table: dict[int, dict[int, set[str]]] = {}
        external: dict[int, dict[int, set[str]]] = {}

        def add(into: dict, length: int, key: int, owner: str) -> None:  # a prefix as (length, network as int)
            into.setdefault(length, {}).setdefault(key, set()).add(owner)

        for node in self.net.nodes.values():
            home = node.vrf
            for iface in node.interfaces.values():
                if iface.address is not None and (iface.vrf or home) == vrf:
                    add(table, 32, int(iface.address), node.name)
            if home != vrf:
                continue
            if node.loopback is not None:
                add(table, 32, int(node.loopback), node.name)
            if node.lan is not None:
                add(table, node.lan.prefixlen, int(node.lan.network_address), node.name)
            if node.role == "cloud" and node.domain in self.net.domains and not self.net.domains[node.domain].trusted:
                add(table, 0, 0, node.name)
        for node in self.net.nodes.values():
            for route in node.routes:
                if (route.vrf or node.vrf) == vrf:
                    add(external, route.prefix.prefixlen, int(route.prefix.network_address), node.name)
                    self.statics.setdefault(node.name, []).append((route.prefix, route.via, route.vrf))
        return _frozen(table), _frozen(external)

    # -- queries ----------------------------------------------------------------
    def lookup(self, node: str, address: str | int | ipaddress.IPv4Address, vrf: str | None = None) -> Route | None:
        """The best route at ``node`` for ``address`` in ``vrf`` (None: no route)."""
        ip = int(ipaddress.IPv4Address(address)) if not isinstance(address, int) else address
        routes = self._routes
        owner = self.address_owner.get(ip)
        if owner is not None and owner[0] == node:
            key: tuple = ("local", node, ip, vrf)
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
        for source, vrf_, matches in self._matching(ip, vrf):
            for length, network, owners in matches:  # longest first
                if length <= best_len:
                    break
                if self.reaches(node, owners, vrf_):
                    key = (source, vrf_, length, network)
                    best = routes.get(key)
                    if best is None:
                        best = routes[key] = Route(ipaddress.IPv4Network((network, length)), source, owners, vrf_)
                    best_len = length
                    break
        return best

    def _matching(self, ip: int, vrf: str | None) -> tuple:
        """The prefixes originated anywhere that contain ``ip``, as seen from ``vrf``: per source (every
        internal route first, so that an external one wins only with a longer prefix) and visible VRF, the
        matching (length, network, owners), longest first. It does not depend on the asking node, so it is
        kept per address (a bounded cache: cleared when full)."""
        key = (ip, vrf)
        found = self._candidates.get(key)
        if found is not None:
            return found
        out = []
        for source, tables in (("igp", self.tables), ("external", self.external)):
            for vrf_ in self.visible_vrfs(vrf):
                matches = []
                for length, owned in tables[vrf_].items():
                    network = ip >> (32 - length) << (32 - length) if length else 0
                    owners = owned.get(network)
                    if owners is not None:
                        matches.append((length, network, owners))
                if matches:
                    out.append((source, vrf_, tuple(matches)))
        if len(self._candidates) >= _CANDIDATES_KEPT:
            self._candidates.clear()
        found = self._candidates[key] = tuple(out)
        return found

    def reaches(self, node: str, owners: frozenset[str], vrf: str | None) -> bool:
        """Whether the IGP of ``vrf`` joins ``node`` to one of ``owners`` (a route to them is in its table).

        A link-state router has no route to a prefix whose originators it
        cannot reach; a lookup then falls back to a shorter prefix.
        """
        key = (node, owners, vrf)
        found = self._reach.get(key)
        if found is None:
            found = self._reach[key] = self._joined(node, owners, vrf)
        return found

    def _joined(self, node: str, owners: frozenset[str], vrf: str | None) -> bool:
        if node in owners or not self.is_forwarding(node):
            return True  # a host hands everything to its gateway, which decides
        graph = self.graphs[vrf]

        def routers(name: str) -> list[str]:
            if self.is_forwarding(name):
                return [name]
            return [r for r, _ in self.attachments(name, vrf)]

        neighbours = self._neighbours.get(node)
        if neighbours is None:
            neighbours = self._neighbours[node] = frozenset(link.other(node) for link in self.net.links_of(node))
        if not neighbours.isdisjoint(owners):
            return True  # cabled to an owner: the connected route or the owner's own address
        targets = {r for owner in owners for r in routers(owner)}
        return node in graph.index and any(t in graph.index and graph.connected(node, t) for t in targets)

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
                for router, link in self.attachments(owner, vrf):
                    targets.add(router)
                    final.setdefault(router, []).append(link)
        if not self.is_forwarding(node):
            return self._stub_egress(node, owners, vrf, ip)
        if node in final:
            return [self._hop(node, l) for l in sorted(final[node], key=lambda l: l.name)]
        if not targets or node not in graph.index:
            return []
        key = (node, frozenset(targets), vrf)  # owners hanging off the same routers share the way to them
        found = self._toward.get(key)
        if found is None:
            found = []
            for neighbor in _tree_or_core_hops(graph, node, key[1]):
                found.extend(self._hop(node, l) for l in graph.adjacency[node][neighbor])
            self._toward[key] = found
        return list(found)

    def attachments(self, stub: str, vrf: str | None) -> list[tuple[str, Link]]:
        """The routers a stub (a node that forwards nothing) hangs off in ``vrf``, each with its link: those of
        ``vrf``'s own links and, in a VRF, those of backbone links (shared by every VRF)."""
        by_vrf = self.attach.get(stub, {})
        own = by_vrf.get(vrf, [])
        return own if vrf is None else own + by_vrf.get(None, [])

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

    def pendant_below(self, node: str, vrf: str | None) -> frozenset[str] | None:
        """For a router of a pendant tree of ``vrf``'s routing graph (pruned from the core, not a tree's root):
        the nodes below it (itself, every router of the tree under it and every host attached to one of them);
        None for any other node. Every way from these nodes to the rest of the network leaves through ``node``
        to its parent, the one neighbour outside them.
        """
        graph = self.graphs.get(vrf)
        if graph is None or graph.parent.get(node) is None:
            return None
        if any(graph.weights[(node, v)] <= 0 for v in graph.adjacency.get(node, {})):
            return None  # a free link: a way through a child could cost as little as the way up
        children = self._children.get(vrf)
        if children is None:
            children = self._children[vrf] = {}
            for child, parent in graph.parent.items():
                if parent is not None:
                    children.setdefault(parent, []).append(child)
            hosts = self._hosts_of[vrf] = {}
            for stub in self.attach:
                for router, _ in self.attachments(stub, vrf):
                    hosts.setdefault(router, []).append(stub)
        below, todo = {node}, [node]
        while todo:
            for child in children.get(todo.pop(), ()):
                below.add(child)
                todo.append(child)
        hosts = self._hosts_of[vrf]
        below |= {h for r in list(below) for h in hosts.get(r, ())}
        return frozenset(below)

    def prefixes(self, vrf: str | None = None) -> list[ipaddress.IPv4Network]:
        """Every prefix in ``vrf``'s IGP, internal and external (for header-space splitting)."""
        return [ipaddress.IPv4Network((net_, length)) for table in (self.tables[vrf], self.external[vrf])
                for length, nets in table.items() for net_ in nets]

    def degraded(self, net: Network, links: Iterable[str] = (), nodes: Iterable[str] = ()) -> RoutingState:
        """The routing after ``links`` and ``nodes`` fail; ``net`` is the network without them.

        Equal to ``RoutingState(net)`` in every lookup and next hop, but derived
        from this state: only the VRF graphs the failure touches are rebuilt,
        and when it removes core links whose ends keep two core neighbours the
        pendant trees are reused and only the core matrix changes.
        """
        if self._degrader is None:
            self._degrader = _Degrader(self)
        return self._degrader.derive(net, links, nodes)

    def vrf_of_interface(self, node: str, ifname: str | None) -> str | None:
        n = self.net.nodes[node]
        if ifname is None:
            return n.vrf
        iface = n.interfaces.get(ifname)
        return (iface.vrf if iface else None) or n.vrf


def build_routing(net: Network) -> RoutingState:
    """The routing state of ``net`` (cached on the network, which is immutable)."""
    return net.cached(RoutingState)


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
        if node in graph.parent:  # node in a pendant tree, target not below it: go up, if that leads there
            parent = graph.parent[node]
            return [parent] if parent is not None and graph.connected(node, target) else []
        top = graph.top.get(target, target)
        if top not in graph.core or node not in graph.core:
            return []
        return _core_hops(graph, node, frozenset({top}))
    return _multi_hops(graph, node, targets)


def _core_hops(graph: _VrfGraph, node: str, targets: frozenset[str]) -> list[str]:
    dist = graph.vectors.get(targets)
    if dist is None:
        indices = [graph.core_index[t] for t in sorted(targets)]
        assert graph.core_matrix is not None  # set by _split_core (or derive) whenever a _VrfGraph is built
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


_CANDIDATES_KEPT = 1 << 18  # addresses whose matching prefixes a routing state keeps


def _frozen(table: dict[int, dict[int, set[str]]]) -> Table:
    return {length: {net_: frozenset(owners) for net_, owners in nets.items()}
            for length, nets in sorted(table.items(), reverse=True)}


class _Degrader:
    """Derives the routing of ``base.net`` minus some links and nodes from ``base`` (see RoutingState.degraded)."""

    def __init__(self, base: RoutingState):
        self.base = base
        self.owner_entries: dict[str, list[tuple[str, str | None, int, int]]] = {}
        for name, tables in (("tables", base.tables), ("external", base.external)):
            for vrf, table in tables.items():
                for length, nets in table.items():
                    for key, owners in nets.items():
                        for owner in owners:
                            self.owner_entries.setdefault(owner, []).append((name, vrf, length, key))
        self.core_weights = {
            vrf: {(u, v): w for (u, v), w in g.weights.items() if u in g.core and v in g.core}
            for vrf, g in base.graphs.items()
        }
        self.forwarding = {n for n in base.net.nodes if base.is_forwarding(n)}
        self.hangers: dict[str | None, dict[str, list[str]]] = {}  # vrf -> core node -> the tree nodes below it
        for vrf, g in base.graphs.items():
            below: dict[str, list[str]] = {}
            for node, top in g.top.items():
                below.setdefault(top, []).append(node)
            self.hangers[vrf] = below

    def derive(self, derived_net: Network, links: Iterable[str], nodes: Iterable[str]) -> RoutingState:
        base = self.base
        net = base.net
        failed_nodes = set(nodes)
        failed_links = set(links) | {l.name for n in failed_nodes for l in net.links_of(n)}
        state = object.__new__(RoutingState)
        state.net = derived_net
        state.vrfs = base.vrfs
        state._degrader = None
        state._children, state._hosts_of = {}, {}
        gone: list[tuple[str, str]] = []  # interfaces that disappear with a failed link, on surviving nodes
        for name in failed_links:
            link = net.links[name]
            for end, ifname in ((link.a, link.a_if), (link.b, link.b_if)):
                if end not in failed_nodes:
                    gone.append((end, ifname))
        statics = Patched(base.statics)  # the base's mappings read through the few entries the failure changes
        for node in failed_nodes & base.statics.keys():
            del statics[node]
        state.statics = statics
        connected = Patched(base.connected)
        for node in failed_nodes:
            connected.pop(node, None)
        for node, ifname in gone:
            connected[node] = [(p, i) for p, i in connected.get(node, ()) if i != ifname]
        state.connected = connected
        address_owner = Patched(base.address_owner)
        removed: list[tuple[str, str, str | None, int, int]] = []
        for node in failed_nodes:
            for address in net.nodes[node].addresses:
                address_owner.pop(int(address.ip), None)
            removed += [(node,) + e for e in self.owner_entries.get(node, ())]
        for node, ifname in gone:
            iface = net.nodes[node].interfaces[ifname]
            if iface.address is not None:
                ip = int(iface.address.ip)
                if address_owner.get(ip, (None, None))[0] == node:
                    address_owner.pop(ip)
                removed.append((node, "tables", iface.vrf or net.nodes[node].vrf, 32, ip))
        state.address_owner = address_owner
        state.tables = _remove_owners(base.tables, [(o, v, l, k) for o, t, v, l, k in removed if t == "tables"])
        state.external = _remove_owners(base.external, [(o, v, l, k) for o, t, v, l, k in removed if t == "external"])
        attach = Patched(base.attach)
        stubs = {end for name in failed_links for end in net.links[name].ends if end not in self.forwarding}
        for stub in stubs:
            if stub in failed_nodes:
                attach.pop(stub, None)
            elif stub in attach:
                attach[stub] = {vrf: [(r, l) for r, l in entries if l.name not in failed_links and r not in failed_nodes]
                                for vrf, entries in base.attach[stub].items()}
        state.attach = attach
        state.graphs = {vrf: self._graph(state, vrf, failed_links, failed_nodes) for vrf in base.vrfs}
        self._reindex(state, failed_nodes | {node for node, _ in gone})
        return state

    def _reindex(self, state: RoutingState, touched: set[str]) -> None:
        """The lookup indexes of the derived state: the base's, rebuilt for the ``touched`` nodes only."""
        base = self.base
        probe = object.__new__(RoutingState)
        probe.net = state.net
        probe.connected = {n: state.connected[n] for n in touched if n in state.connected}
        probe.statics = {n: state.statics[n] for n in touched if n in state.statics}
        probe._index_for_lookup()
        conn = Patched(base._conn_index)
        statics = Patched(base._static_index)
        for k in touched:
            conn.pop(k, None)
            statics.pop(k, None)
        conn.update(probe._conn_index)
        statics.update(probe._static_index)
        state._conn_index = conn
        state._static_index = statics
        state._routes = {}
        state._toward = {}
        state._reach = {}
        state._candidates = {}
        state._neighbours = {}

    def _graph(self, state: RoutingState, vrf: str | None, failed_links: set[str], failed_nodes: set[str]) -> _VrfGraph:
        base = self.base
        g = base.graphs[vrf]
        net = base.net
        pairs: set[tuple[str, str]] = set()
        for name in failed_links:
            link = net.links[name]
            if link.a in self.forwarding and link.b in self.forwarding and base._in_vrf(link, vrf):
                pairs.add((link.a, link.b))
                pairs.add((link.b, link.a))
        if not pairs and not (failed_nodes & self.forwarding):
            return g
        adjacency = dict(g.adjacency)
        weights = dict(g.weights)
        removed: list[tuple[str, str]] = []
        changed: list[tuple[str, str]] = []
        touched = {u for u, _ in pairs} | (failed_nodes & self.forwarding)
        for u in touched:
            if u in adjacency:
                adjacency[u] = dict(adjacency[u])
        for node in failed_nodes & self.forwarding:
            for v in list(g.adjacency.get(node, {})):
                removed += [(node, v), (v, node)]
                weights.pop((node, v), None)
                weights.pop((v, node), None)
                if v in adjacency and v not in touched:
                    adjacency[v] = dict(adjacency[v])
                    touched.add(v)
                adjacency.get(v, {}).pop(node, None)
            adjacency[node] = {}
        for u, v in sorted(pairs):
            if u in failed_nodes or v in failed_nodes:
                continue
            best = None
            kept: list[Link] = []
            for link in state.net.links_of(u):
                if link.other(u) != v or not base._in_vrf(link, vrf):
                    continue
                cost = state._cost(link, u)
                if best is None or cost < best:
                    best, kept = cost, [link]
                elif cost == best:
                    kept.append(link)
            if best is None:
                adjacency[u].pop(v, None)
                weights.pop((u, v), None)
                removed.append((u, v))
            else:
                adjacency[u][v] = kept
                if weights.get((u, v)) != best:
                    changed.append((u, v))
                weights[(u, v)] = best
        graph = _VrfGraph(vrf, g.index, g.names, adjacency, weights)
        if not self._prune_further(graph, g, removed, changed, failed_nodes & self.forwarding):
            _split_core(graph)
        return graph

    def _prune_further(self, graph: _VrfGraph, g: _VrfGraph, removed: list[tuple[str, str]],
                       changed: list[tuple[str, str]], failed: set[str]) -> bool:
        """Split ``graph`` (``g`` less the ``removed`` edges and the ``failed`` nodes, ``changed`` edges
        re-weighted) into core and pendant trees from ``g``'s split, as :func:`_split_core` would; False (and
        nothing set) when that needs the whole graph.

        The core is what repeated pruning of degree-≤1 nodes leaves (the 2-core). Removing core edges and core
        nodes only lowers the degrees of their ends, so the new core is the old one pruned again from those
        ends, and each node pruned now hangs off its one neighbour left towards the core; the pendant trees
        of ``g`` keep their parents, and those whose top was pruned now hang off its top. That holds when every
        removed or re-weighted edge joins two core nodes, no failed node has a pendant tree (its trees would
        be cut loose, their roots :func:`_split_core`'s choice) and no part of the core is pruned away whole.
        """
        core = g.core
        if not g.symmetric or any(u not in core or v not in core for u, v in removed + changed):
            return False
        if any(w not in core for x in failed for w in g.adjacency.get(x, {})) or not failed <= core:
            return False
        left = set(core) - failed
        adjacency = graph.adjacency

        def degree(u: str) -> list[str]:
            return [w for w in adjacency.get(u, {}) if w in left]

        queue = sorted({u for pair in removed for u in pair if u in left})
        parent = dict(g.parent)
        order: list[str] = []
        while queue:
            node = queue.pop()
            if node not in left:
                continue
            rest = degree(node)
            if len(rest) > 1:
                continue
            if not rest:
                return False  # a part of the core pruned away whole: a tree whose root the full split chooses
            left.discard(node)
            order.append(node)
            parent[node] = rest[0]
            if len(degree(rest[0])) <= 1:
                queue.append(rest[0])
        top = dict(g.top)
        for node in reversed(order):  # nearest the core first
            up = parent[node]
            top[node] = up if up in left else top[up]  # type: ignore[index]
        hangers = self.hangers[g.vrf]
        retopped = list(order)
        for node in order:
            for below in hangers.get(node, ()):
                top[below] = top[node]
                retopped.append(below)
        for node in failed:  # as the full split leaves a node with no neighbour: a tree of its own
            parent[node], top[node] = None, node
        graph.parent, graph.top, graph.core = parent, top, left
        if order or failed:
            graph.core_index = {n: i for i, n in enumerate(sorted(left))}
        else:
            graph.core_index = g.core_index
        weights = self.core_weights[g.vrf]
        cw = {k: w for k, w in weights.items() if k[0] in left and k[1] in left} if order or failed else dict(weights)
        for key in removed:
            cw.pop(key, None)
        for key in changed:
            if key[0] in left and key[1] in left:
                cw[key] = graph.weights[key]
        graph.core_matrix = _csr(cw, graph.core_index, len(graph.core_index))
        graph.derived_from = (g, frozenset(u for pair in removed + changed for u in pair) | failed, tuple(retopped))
        return True


def _remove_owners(tables: dict, entries: list[tuple[str, str | None, int, int]]) -> dict:
    """``tables`` without the given (owner, vrf, length, network) entries, copying only what changes."""
    if not entries:
        return tables
    out = dict(tables)
    copied: set = set()
    for owner, vrf, length, key in entries:
        if vrf not in out or length not in out[vrf]:
            continue
        if ("vrf", vrf) not in copied:
            out[vrf] = dict(out[vrf])
            copied.add(("vrf", vrf))
        if (vrf, length) not in copied:
            out[vrf][length] = Patched(out[vrf][length])
            copied.add((vrf, length))
        owners = out[vrf][length].get(key)
        if owners is None or owner not in owners:
            continue
        rest = owners - {owner}
        if rest:
            out[vrf][length][key] = rest
        else:
            del out[vrf][length][key]
    for _tag, vrf in [c for c in copied if c[0] == "vrf"]:
        out[vrf] = {length: nets for length, nets in out[vrf].items() if nets}
    return out
