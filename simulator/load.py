"""Load assignment: where every demand's traffic goes, and how much each link carries.

Definition. A demand (:mod:`simulator.traffic`) is sent from its source towards
the address of its destination (loopback, else first interface address) and
forwarded hop by hop as the packet simulator forwards (:mod:`simulator.routing`
for routes, :mod:`simulator.tunnels` for tunnel selectors and underlay
addresses; the decision order is :class:`LoadForwarder`'s). At every node the
traffic is split **equally over every equal-cost next hop**
``RoutingState.next_hops`` returns (the fluid limit of per-flow hashing). The
result is the demand's *forwarding DAG*: for every link direction the share of
the demand that crosses it.

- **Delivered traffic only.** Traffic that some node cannot forward (no route,
  tunnel down, a host asked to forward) or that circles for :data:`MAX_HOPS`
  hops is reported as dropped, with the node and the reason; it does not count
  as load. The load of a link direction is the sum over demands of
  ``rate × delivered share × tunnel factor``. A demand that loses its path
  after a failure therefore carries no load at all, which is what lets
  :mod:`simulator.failures` answer cut links in closed form.
- **Tunnel overhead.** Traffic a tunnel end encapsulates travels to the far
  end's underlay address as outer packets that are :func:`tunnel_overhead`
  bytes longer, so on those links the load is multiplied by
  ``(packet + overhead) / packet``. ESP (tunnel mode, IPv4): outer header 20,
  ESP header 8, IV (16 for AES-CBC, 8 for AES-GCM), padding to the cipher
  block, pad length and next header 2, ICV (12 for HMAC-SHA1-96, 16 for GCM).
  GRE: outer header 20 + GRE header 4. Fragmentation is not modelled.
- ACLs, NAT and one-way gateways are not applied: capacity is about the
  planned traffic; the isolation rules judge whether it may pass.
- Links are full duplex: each direction has the link's bandwidth. A direction
  is ``(link name, 0)`` for a→b and ``(link name, 1)`` for b→a.

Example: two hosts each send 2 Mb/s to a server behind one core router; the
link core→server carries 4 Mb/s::

    >>> a = assign(net)                                         # doctest: +SKIP
    >>> a.load[("srv--core", 1)]                                # doctest: +SKIP
    4000000.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from topology.model import Flow, Network, Tunnel

from .routing import FORWARDING_ROLES, RoutingState, build_routing

from .traffic import demands as plan_demands
from .tunnels import TunnelEnd, tunnel_ends

MAX_HOPS = 64
EPSILON = 1e-12
Direction = tuple[str, int]  # (link name, 0 = a→b, 1 = b→a)


@dataclass(frozen=True, slots=True)
class Edge:
    """One link direction of a demand's forwarding DAG: the share of the demand that crosses it."""

    src: str
    dst: str
    link: str
    direction: int
    share: float      # delivered share of the demand's rate
    factor: float     # tunnel overhead multiplier on this stretch (1.0 outside tunnels)

    @property
    def key(self) -> Direction:
        return (self.link, self.direction)


@dataclass(frozen=True, slots=True)
class Drop:
    node: str
    reason: str  # "no route" | "loop" | "no address"
    share: float


@dataclass(frozen=True, slots=True)
class DemandPath:
    """Where one demand goes: its DAG edges, the share delivered, and where the rest is dropped."""

    edges: tuple[Edge, ...]
    delivered: float
    drops: tuple[Drop, ...]
    nodes: frozenset[str]            # every node the traffic (or its tunnels' outer traffic) touches
    tunnels: tuple[str, ...] = ()
    tunnel_links: frozenset[str] = frozenset()  # links of the outer paths of those tunnels (both ways)

    @property
    def links(self) -> frozenset[str]:
        return frozenset(e.link for e in self.edges)


def tunnel_overhead(tunnel: Tunnel | str, packet_size: int, cipher: str = "AES-CBC") -> int:
    """Bytes a tunnel adds to one packet of ``packet_size`` bytes (see the module docstring)."""
    kind = tunnel.kind if isinstance(tunnel, Tunnel) else tunnel
    if isinstance(tunnel, Tunnel):
        cipher = tunnel.cipher
    if kind == "gre":
        return 20 + 4
    if cipher == "AES-GCM":
        iv, block, icv = 8, 4, 16
    elif cipher == "NULL":
        iv, block, icv = 0, 4, 12
    else:
        iv, block, icv = 16, 16, 12
    pad = (-(packet_size + 2)) % block
    return 20 + 8 + iv + pad + 2 + icv


def destination_address(net: Network, node: str) -> int | None:
    """The address demands to ``node`` go to: loopback, else first interface address, else its LAN's first host.

    The same choice as :meth:`simulator.forwarding.Forwarder.primary_address`.
    """
    n = net.nodes.get(node)
    if n is None:
        return None
    addresses = n.addresses
    if addresses:
        return int(addresses[0].ip)
    if n.lan is not None and n.lan.num_addresses > 2:
        return int(n.lan.network_address) + 1
    return None


State = tuple[str, "str | None", "tuple[str, str] | None"]  # (node, VRF, (tunnel, encapsulating end) or None)
DELIVERED = "delivered"


class LoadForwarder:
    """Builds demand DAGs on one routing state, deciding at each node as :mod:`simulator.forwarding` does.

    At a node, for traffic towards address *ip* in VRF *v* (ACLs, NAT and
    one-way gateways are not applied: capacity is about the planned traffic,
    the isolation rules judge whether it may pass):

    1. *ip* is one of the node's addresses: delivered (decapsulated first, when
       it is the far end of the tunnel the traffic is in);
    2. a host, server or MCU does not forward transit traffic (dropped);
    3. at a tunnel end whose selector holds *ip* (:func:`simulator.tunnels.tunnel_ends`),
       traffic is encapsulated and routed to the far end's underlay address in
       the underlay VRF; a tunnel whose outer traffic does not get through in
       both directions is down (dropped); nested tunnels are not modelled;
    4. the route lookup in *v*: none = dropped; a prefix the node originates
       itself = delivered here (dropped as "absorbed" unless this is the
       destination); otherwise every ECMP next hop, traffic split equally. The
       VRF on arrival is the arrival interface's, else the egress interface's,
       else the route's.
    """

    def __init__(self, routing: RoutingState, tunnels: bool = True,
                 ends: dict[str, tuple[TunnelEnd, ...]] | None = None):
        self.routing = routing
        self.net = routing.net
        self.tunnels = tunnels
        self._resolved: dict[tuple, object] = {}
        self._addresses: dict[str, frozenset[int]] = {}
        if ends is None:
            ends = {t.name: tuple(tunnel_ends(self.net, t)) for t in self.net.tunnels.values()} if tunnels else {}
        self.ends = ends
        self._ends_at: dict[str, list[TunnelEnd]] = {}
        for name in sorted(ends):
            for end in ends[name]:
                self._ends_at.setdefault(end.node, []).append(end)
        self._up: dict[str, tuple[bool, frozenset[str], frozenset[str]]] = {}

    # -- one node's decision ---------------------------------------------------------------
    def addresses(self, node: str) -> frozenset[int]:
        found = self._addresses.get(node)
        if found is None:
            found = frozenset(int(a.ip) for a in self.net.nodes[node].addresses)
            self._addresses[node] = found
        return found

    def resolve(self, state: State, ip: int, transit: bool):
        """``DELIVERED``, ``("drop", reason)`` or a tuple of (NextHop, direction, next state)."""
        key = (state, ip, transit)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(state, ip, transit)
            self._resolved[key] = found
        return found

    def _resolve(self, state: State, ip: int, transit: bool):
        node, vrf, tun = state
        n = self.net.nodes[node]
        if tun is None:
            target = ip
        else:
            end = self._end(tun)
            target = end.peer_address
        if target in self.addresses(node):
            if tun is None:
                return DELIVERED
            if node != self._end(tun).peer:
                return ("drop", "outer packet delivered to the wrong node")
            return self.resolve((node, n.vrf, None), ip, True)  # decapsulated, decided again here
        if tun is None and self._ends_at.get(node):
            for end in self._ends_at[node]:
                if end.selector.contains(ip):
                    if transit and n.role not in FORWARDING_ROLES:
                        return ("drop", "not forwarding")
                    if end.address is None or end.peer_address is None:
                        return ("drop", f"tunnel {end.tunnel} has no underlay address")
                    if not self.tunnel_up(end.tunnel)[0]:
                        return ("drop", f"tunnel {end.tunnel} is down")
                    inner = (node, self._underlay_vrf(end), (end.tunnel, end.node))
                    return self.resolve(inner, ip, transit)
        route = self.routing.lookup(node, target, vrf)
        if route is None:
            return ("drop", "no route")
        if route.source == "local":
            return DELIVERED if tun is None else ("drop", "outer packet delivered to the wrong node")
        if route.source == "igp" and node in route.owners:
            return ("drop", f"absorbed by {route.prefix} originated here")
        if transit and n.role not in FORWARDING_ROLES:
            return ("drop", "not forwarding")
        out = []
        links = self.net.links
        if route.source == "igp":  # what next_hops does for an IGP route, without a second lookup
            hops = self.routing.hops_towards(node, route.owners, route.vrf, target)
        else:
            hops = self.routing.next_hops(node, target, vrf)
        for hop in hops:
            direction = 0 if links[hop.link].a == node else 1
            out_vrf = n.interfaces[hop.out_if].vrf
            out_vrf = route.vrf if out_vrf is None else out_vrf
            arrive = self.net.nodes[hop.neighbor].interfaces[hop.in_if].vrf
            out.append((hop, direction, (hop.neighbor, out_vrf if arrive is None else arrive, tun)))
        if not out:
            return ("drop", "no route")
        return tuple(out)

    def _end(self, tun: tuple[str, str]) -> TunnelEnd:
        for end in self.ends[tun[0]]:
            if end.node == tun[1]:
                return end
        raise KeyError(tun)

    def _underlay_vrf(self, end: TunnelEnd) -> str | None:
        n = self.net.nodes[end.node]
        if end.underlay_if is not None and n.interfaces[end.underlay_if].vrf is not None:
            return n.interfaces[end.underlay_if].vrf
        return n.vrf

    def tunnel_up(self, name: str) -> tuple[bool, frozenset[str], frozenset[str]]:
        """(up, links, nodes): up when each end's outer traffic fully reaches the other; the outer paths used."""
        found = self._up.get(name)
        if found is not None:
            return found
        self._up[name] = (False, frozenset(), frozenset())  # re-entered while checking: carries its own underlay
        ends = self.ends.get(name, ())
        up = len(ends) == 2
        links: set[str] = set()
        nodes: set[str] = {e.node for e in ends}
        for end in ends:
            if end.address is None or end.peer_address is None:
                up = False
                continue
            start = (end.node, self._underlay_vrf(end), (end.tunnel, end.node))
            walk = self.walk(start, end.peer_address, None)
            links |= {e[2] for e in walk.edges}
            nodes |= walk.nodes
            if walk.delivered < 1.0 - 1e-9:
                up = False
        found = (up, frozenset(links), frozenset(nodes))
        self._up[name] = found
        return found

    # -- a demand's DAG ---------------------------------------------------------------------
    def path(self, demand: Flow) -> DemandPath:
        net = self.net
        src, dst = demand.src, demand.dst
        if src not in net.nodes or dst not in net.nodes:
            return DemandPath((), 0.0, (Drop(src if dst in net.nodes else dst, "node failed", 1.0),), frozenset({src, dst}))
        ip = destination_address(net, dst)
        if ip is None:
            return DemandPath((), 0.0, (Drop(dst, "no address", 1.0),), frozenset({src, dst}))
        walk = self.walk((src, net.nodes[src].vrf, None), ip, dst)
        edges = {}
        tunnels = set()
        extra_links: set[str] = set()
        extra_nodes: set[str] = set()
        for (u, v, link, d, tun), share in walk.edges.items():
            edges[(u, v, link, d, tun)] = share
            if tun is not None:
                tunnels.add(tun[0])
        for name in sorted(tunnels):
            _, links, nodes = self.tunnel_up(name)
            extra_links |= links
            extra_nodes |= nodes
        size = max(1, demand.packet_size)
        out_edges = []
        for (u, v, link, d, tun), share in edges.items():
            factor = 1.0
            if tun is not None:
                t = net.tunnels[tun[0]]
                factor = (size + tunnel_overhead(t, size)) / size
            out_edges.append(Edge(u, v, link, d, share, factor))
        drops = tuple(Drop(n, r, s) for (n, r), s in walk.drops.items() if s > EPSILON)
        return DemandPath(tuple(out_edges), walk.delivered, drops, walk.nodes | {src, dst} | extra_nodes,
                          tuple(sorted(tunnels)), frozenset(extra_links))

    def walk(self, start: State, ip: int, dst: str | None) -> "_Walk":
        """Follow traffic from ``start`` towards ``ip``: the delivered share on every edge."""
        chain = self._chain(start, ip)
        if chain is not None:
            return chain
        frontier: dict[State, float] = {start: 1.0}
        succ: dict[State, object] = {}
        drops: dict[tuple[str, str], float] = {}
        reached: set[str] = {start[0]}
        for _ in range(MAX_HOPS):
            if not frontier:
                break
            nxt: dict[State, float] = {}
            for state, share in frontier.items():
                r = succ.get(state)
                if r is None:
                    r = self.resolve(state, ip, state != start)
                    succ[state] = r
                if r == DELIVERED:
                    continue
                if r[0] == "drop":
                    key = (state[0], r[1])
                    drops[key] = drops.get(key, 0.0) + share
                    continue
                part = share / len(r)
                for hop, _, s in r:
                    nxt[s] = nxt.get(s, 0.0) + part
                    reached.add(s[0])
            frontier = nxt
        for state, share in frontier.items():
            key = (state[0], "loop")
            drops[key] = drops.get(key, 0.0) + share
        p = _delivery(start, succ)
        flow = _forward_shares(start, succ, p)
        edges: dict[tuple, float] = {}
        for state, amount in flow.items():
            r = succ.get(state)
            if r is None or r == DELIVERED or r[0] == "drop":
                continue
            good = [(h, d, s) for h, d, s in r if p.get(s, 0.0) > EPSILON]
            total = sum(p[s] for _, _, s in good)
            for hop, direction, s in good:
                key = (state[0], hop.neighbor, hop.link, direction, s[2])
                edges[key] = edges.get(key, 0.0) + amount * p[s] / total
        return _Walk(edges, min(1.0, p.get(start, 0.0)), drops, frozenset(reached))

    def _chain(self, start: State, ip: int) -> "_Walk | None":
        """The common case without any ECMP split: follow single next hops (None on a split or loop)."""
        state = start
        edges: dict[tuple, float] = {}
        nodes = {start[0]}
        for _ in range(MAX_HOPS):
            r = self.resolve(state, ip, state != start)
            if r == DELIVERED:
                return _Walk(edges, 1.0, {}, frozenset(nodes))
            if r[0] == "drop":
                return _Walk({}, 0.0, {(state[0], r[1]): 1.0}, frozenset(nodes))
            if len(r) != 1:
                return None
            hop, direction, nxt = r[0]
            key = (state[0], hop.neighbor, hop.link, direction, nxt[2])
            if key in edges:
                return None
            edges[key] = 1.0
            nodes.add(hop.neighbor)
            state = nxt
        return None


@dataclass(frozen=True, slots=True)
class _Walk:
    edges: dict  # (u, v, link, direction, tunnel) -> delivered share
    delivered: float
    drops: dict  # (node, reason) -> share
    nodes: frozenset[str]


def _delivery(start: State, succ: dict) -> dict:
    """For every state reachable from ``start``: the share of its traffic that is delivered.

    Iterative depth-first evaluation; an edge back into a state still being
    evaluated (a forwarding loop) delivers nothing.
    """
    p: dict = {}
    on_stack = {start}
    stack = [(start, 0)]
    while stack:
        state, i = stack[-1]
        r = succ.get(state)
        if r is None or r == DELIVERED or r[0] == "drop":
            p[state] = 1.0 if r == DELIVERED else 0.0
            on_stack.discard(state)
            stack.pop()
            continue
        if i < len(r):
            stack[-1] = (state, i + 1)
            child = r[i][2]
            if child not in p and child not in on_stack:
                on_stack.add(child)
                stack.append((child, 0))
            continue
        p[state] = sum(p.get(s, 0.0) for _, _, s in r) / len(r)
        on_stack.discard(state)
        stack.pop()
    return p


def _forward_shares(start: State, succ: dict, p: dict) -> dict:
    """Delivered traffic arriving at each state (summed over every step it arrives in)."""
    total: dict = {}
    frontier = {start: p.get(start, 0.0)} if p.get(start, 0.0) > EPSILON else {}
    for _ in range(MAX_HOPS):
        if not frontier:
            break
        nxt: dict = {}
        for state, amount in frontier.items():
            total[state] = total.get(state, 0.0) + amount
            r = succ.get(state)
            if r is None or r == DELIVERED or r[0] == "drop":
                continue
            good = [s for _, _, s in r if p.get(s, 0.0) > EPSILON]
            norm = sum(p[s] for s in good)
            for s in good:
                nxt[s] = nxt.get(s, 0.0) + amount * p[s] / norm
        frontier = nxt
    return total


@dataclass
class Assignment:
    """The loads of one network: every demand's path and the load of every link direction."""

    net: Network
    demands: tuple[Flow, ...]
    paths: list[DemandPath]
    load: dict[Direction, float]
    _by_link: dict[str, list[int]] | None = field(default=None, repr=False)
    _by_node: dict[str, list[int]] | None = field(default=None, repr=False)

    def contributions(self, index: int) -> Iterable[tuple[Direction, float]]:
        demand = self.demands[index]
        for e in self.paths[index].edges:
            yield e.key, demand.rate * e.share * e.factor

    def by_link(self) -> dict[str, list[int]]:
        """Link → indices of the demands whose DAG uses it (or whose address sits on it)."""
        if self._by_link is None:
            index: dict[str, list[int]] = {}
            for i, path in enumerate(self.paths):
                for link in sorted(path.links | path.tunnel_links | _address_links(self.net, self.demands[i])):
                    index.setdefault(link, []).append(i)
            self._by_link = index
        return self._by_link

    def by_node(self) -> dict[str, list[int]]:
        """Node → indices of the demands whose DAG touches it (endpoints included)."""
        if self._by_node is None:
            index: dict[str, list[int]] = {}
            for i, path in enumerate(self.paths):
                for node in path.nodes:
                    index.setdefault(node, []).append(i)
            self._by_node = index
        return self._by_node

    def utilisation(self, key: Direction) -> float:
        return self.load.get(key, 0.0) / self.net.links[key[0]].bandwidth

    def link_utilisation(self, link: str) -> float:
        """The larger utilisation of the link's two directions."""
        return max(self.utilisation((link, 0)), self.utilisation((link, 1)))

    def undelivered(self) -> list[int]:
        return [i for i, p in enumerate(self.paths) if p.delivered < 1.0 - 1e-9]

    def delay(self, index: int, queueing: bool = True, loads: dict[Direction, float] | None = None) -> float:
        """Worst one-way delay (s) over the demand's delivered branches: propagation, serialisation, queueing.

        Per link direction: the link's latency, the time to send one packet at the
        link's rate, and (``queueing``) the M/M/1 waiting time ``ρ/(1-ρ)`` packet
        times at the direction's utilisation ρ (infinite at ρ ≥ 1). ``inf`` when
        nothing is delivered.
        """
        path = self.paths[index]
        demand = self.demands[index]
        if path.delivered <= EPSILON:
            return math.inf
        loads = self.load if loads is None else loads
        succ: dict[str, list[tuple[str, float]]] = {}
        for e in path.edges:
            link = self.net.links[e.link]
            tx = demand.packet_size * 8 * e.factor / link.bandwidth
            d = link.latency + tx
            if queueing:
                rho = loads.get(e.key, 0.0) / link.bandwidth
                d += math.inf if rho >= 1.0 else tx * rho / (1.0 - rho)
            succ.setdefault(e.src, []).append((e.dst, d))
        return _longest(demand.src, demand.dst, succ)


def _longest(src: str, dst: str, succ: dict[str, list[tuple[str, float]]]) -> float:
    memo: dict[str, float] = {dst: 0.0}
    stack = [src]
    on_stack = {src}
    while stack:
        node = stack[-1]
        if node in memo:
            stack.pop()
            on_stack.discard(node)
            continue
        pending = [v for v, _ in succ.get(node, ()) if v not in memo and v not in on_stack]
        if pending:
            for v in pending:
                on_stack.add(v)
                stack.append(v)
            continue
        best = -math.inf
        for v, d in succ.get(node, ()):
            if v in memo:
                best = max(best, d + memo[v])
        memo[node] = best
        stack.pop()
        on_stack.discard(node)
    return memo.get(src, -math.inf)


def _address_links(net: Network, demand: Flow) -> set[str]:
    """Links whose interface carries the destination address (nodes without loopback)."""
    node = net.nodes.get(demand.dst)
    if node is None or node.loopback is not None:
        return set()
    for _, iface in sorted(node.interfaces.items()):
        if iface.address is not None:
            return {iface.link} if iface.link else set()
    return set()


def assign(net: Network, demands: Sequence[Flow] | None = None, routing: RoutingState | None = None,
           tunnels: bool = True) -> Assignment:
    """Route every demand of ``net`` (default: :func:`simulator.traffic.demands`) and sum the loads."""
    if demands is None:
        demands = plan_demands(net)
    forwarder = LoadForwarder(routing or build_routing(net), tunnels)
    paths = [forwarder.path(d) for d in demands]
    load: dict[Direction, float] = {}
    for demand, path in zip(demands, paths):
        for e in path.edges:
            load[e.key] = load.get(e.key, 0.0) + demand.rate * e.share * e.factor
    return Assignment(net, tuple(demands), paths, load)


def base_assignment(net: Network) -> Assignment:
    """:func:`assign` of the plan's own demands, cached on the (immutable) network."""
    return net.cached("assignment", assign)
