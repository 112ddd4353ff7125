"""Load assignment: where every demand's traffic goes, and how much each link carries.

Definition. A demand (:mod:`simulator.traffic`) is a packet of its service
(protocol, destination port, packet size) sent from its source's primary
address to its destination's (:meth:`Forwarder.primary_address`: loopback,
else first interface address, else its LAN's first host). Where it goes is
its forwarding DAG (:mod:`simulator.dag`): the packet decided hop by hop by
the one per-hop decision of :class:`simulator.forwarding.Forwarder` (routes
per VRF, ACLs, NAT, one-way gateways, tunnels and whether they are up, the
hop limit), every equal-cost branch followed and the traffic **split equally**
over the branches (the fluid limit of per-flow hashing). The loads of a
demand are therefore exactly the links its traces take.

- **Delivered traffic only.** Traffic that some branch does not deliver to
  the destination (denied by a rule, no route, tunnel down, a host asked to
  forward, the TTL run out) is reported as dropped with the node, the
  decision and the reason; it loads no link, not even before the hop where
  it dies (the plan's peak traffic is what arrives). The load of a link
  direction is the sum over demands of ``rate × delivered share × tunnel
  factor``. A demand that loses its path after a failure carries no load at
  all, which is what lets :mod:`simulator.failures` answer cut links in
  closed form.
- **Tunnel overhead.** Inside a tunnel the packet is the outer ESP or GRE
  packet, :func:`tunnel_overhead` bytes longer, so there the load is
  multiplied by ``(packet + overhead) / packet`` (nested tunnels add their
  overheads). ESP (tunnel mode, IPv4): outer header 20, ESP header 8, IV (16
  for AES-CBC, 8 for AES-GCM), padding to the cipher block, pad length and
  next header 2, ICV (12 for HMAC-SHA1-96, 16 for GCM). GRE: outer header 20
  + GRE header 4. Fragmentation is not modelled.
- Links are full duplex: each direction has the link's bandwidth. A direction
  is ``(link name, 0)`` for a→b and ``(link name, 1)`` for b→a.

Example: two hosts each send 2 Mb/s to a server behind one core router; the
link core→server carries 4 Mb/s::

    >>> from topology.loader import load_text
    >>> star = load_text('''
    ... name: load
    ... domains: {外网: {kind: extranet, pool: 10.1.0.0/16}}
    ... sites: {州: {level: prefecture}}
    ... defaults: {node: {domain: 外网, site: 州, role: host}}
    ... nodes: {core: {role: core_router}, h1: {}, h2: {}, srv: {role: server}}
    ... links: [{a: h1, b: core}, {a: h2, b: core}, {a: srv, b: core}]
    ... services: {审批: {kind: data, rate: 2M}}
    ... traffic: [{service: 审批, from: {role: host}, to: srv}]
    ... ''')
    >>> a = assign(star)
    >>> a.load[("srv--core", 1)], a.load[("h1--core", 0)]
    (4000000.0, 2000000.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from topology.collector import no_gc
from topology.model import Flow, Network, Tunnel
from topology.vocabulary import PROTO_NUMBERS

from .acl import RuleRef
from .dag import forwarding_dag
from .forwarding import Forwarder, build_forwarding
from .packets import Header
from .trace import Trace, trace_from_steps
from .traffic import demands as plan_demands

EPSILON = 1e-12
DEMAND_SPORT = 40000  # the source port demands are sent from (the one a trace uses by default)
Direction = tuple[str, int]  # (link name, 0 = a→b, 1 = b→a)


@dataclass(frozen=True, slots=True)
class Edge:
    """One link direction of a demand's forwarding DAG: the share of the demand delivered across it."""

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
    """Where some of a demand's traffic ends without reaching its destination."""

    node: str
    reason: str       # what the deciding step says (the rule, the missing route, the tunnel ...)
    share: float
    decision: str = "dropped"  # denied | no_route | ttl_expired | dropped | delivered (to another node)
    rule: RuleRef | None = None


@dataclass(frozen=True, slots=True)
class DemandPath:
    """Where one demand goes: its DAG edges, the share delivered, and where the rest is dropped."""

    edges: tuple[Edge, ...]
    delivered: float
    drops: tuple[Drop, ...]
    nodes: frozenset[str]            # every node the traffic (or its tunnels' outer traffic) touches
    tunnels: tuple[str, ...] = ()
    tunnel_links: frozenset[str] = frozenset()  # links of the outer paths of those tunnels (both ways)
    reached: frozenset[str] = frozenset()       # every link some branch crosses, delivered or not
    clear: frozenset[str] = frozenset()         # links some branch crosses with the payload readable

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


def wire_factor(net: Network, h: Header, packet_size: int) -> float:
    """How much longer than ``packet_size`` the packet is on the wire with ``h``'s encapsulations."""
    levels = []
    while h.inner is not None:
        levels.append(h.tunnel)
        h = h.inner
    size = packet_size
    for name in reversed(levels):  # innermost encapsulation first
        size += tunnel_overhead(net.tunnels[name], size) if name is not None and name in net.tunnels else 0
    return size / packet_size


def readable(net: Network, h: Header) -> bool:
    """Whether the payload of a packet with header ``h`` can be read on the wire (no encrypting tunnel)."""
    while h.inner is not None:
        tunnel = net.tunnels.get(h.tunnel or "")
        if tunnel is not None and tunnel.encrypted:
            return False
        h = h.inner
    return True


def demand_header(fw: Forwarder, demand: Flow) -> Header | None:
    """The packet a demand is sent as (None when an end has no address)."""
    src, dst = fw.primary_address(demand.src), fw.primary_address(demand.dst)
    if src is None or dst is None:
        return None
    return Header.make(src, dst, PROTO_NUMBERS.get(demand.protocol, 6), DEMAND_SPORT, demand.port)


def demand_trace(fw: Forwarder, demand: Flow) -> Trace | None:
    """One way the demand's packet goes: to where its largest undelivered share ends, else delivered.

    None when an end has no address. The trace is a real trace (its hops carry
    the rule that decided), the branch taken at each step chosen so that it
    ends where the traffic is lost.
    """
    header = demand_header(fw, demand)
    if header is None or demand.src not in fw.net.nodes or demand.dst not in fw.net.nodes:
        return None
    dag = forwarding_dag(fw, demand.src, header, target=demand.dst)
    drops = dag.drops()
    ending = drops[0] if drops else next(e for e in dag.endings if e.delivered)
    return trace_from_steps(fw.net, dag.trace_steps(ending), demand.src, demand.dst, None, demand.dst)


def clear_trace(fw: Forwarder, demand: Flow, links: set[str] | frozenset[str]) -> Trace | None:
    """A trace of the demand's packet that crosses one of ``links`` with its payload readable (None: none does).

    Delivered or not: the trace runs on to wherever that branch ends.
    """
    header = demand_header(fw, demand)
    if header is None or demand.src not in fw.net.nodes or demand.dst not in fw.net.nodes:
        return None
    dag = forwarding_dag(fw, demand.src, header, target=demand.dst)
    for i, t in enumerate(dag.transitions):
        if t.step.link in links and t.reached > EPSILON and readable(fw.net, t.step.header):
            return trace_from_steps(fw.net, dag.way_through(i), demand.src, demand.dst, None, demand.dst)
    return None


def demand_path(fw: Forwarder, demand: Flow) -> DemandPath:
    """Where ``demand`` goes in the network of ``fw`` (see the module docstring)."""
    net = fw.net
    src, dst = demand.src, demand.dst
    if src not in net.nodes or dst not in net.nodes:
        return DemandPath((), 0.0, (Drop(src if dst in net.nodes else dst, "node failed", 1.0),), frozenset({src, dst}))
    header = demand_header(fw, demand)
    if header is None:
        missing = src if fw.primary_address(src) is None else dst
        return DemandPath((), 0.0, (Drop(missing, f"{missing} has no address", 1.0),), frozenset({src, dst}))
    dag = forwarding_dag(fw, src, header, target=dst)
    size = max(1, demand.packet_size)
    edges: dict[tuple, float] = {}
    reached: set[str] = set()
    clear: set[str] = set()
    tunnels: set[str] = set()
    for t in dag.transitions:
        s = t.step
        if s.link is None or t.reached <= EPSILON:
            continue
        reached.add(s.link)
        h = s.header
        if readable(net, h):
            clear.add(s.link)
        while h.inner is not None:
            tunnels.add(h.tunnel or "")
            h = h.inner
        if t.delivered <= EPSILON:
            continue
        direction = 0 if net.links[s.link].a == s.node else 1
        key = (s.node, s.next_node, s.link, direction, wire_factor(net, s.header, size))
        edges[key] = edges.get(key, 0.0) + t.delivered
    drops = []
    for e in dag.drops():
        if e.share <= EPSILON:
            continue
        step = dag.trace_steps(e)[-1] if e.step.decision == "ttl_expired" else e.step
        reason = step.detail or step.decision
        if step.decision == "delivered":
            reason = f"delivered to {step.node}, not to {dst}"
        drops.append(Drop(step.node, reason, e.share, step.decision, step.rule))
    tunnel_links: set[str] = set()
    for name in sorted(tunnels):
        tunnel_links |= fw.tunnel_links(name)
    return DemandPath(
        tuple(Edge(u, v, link, d, share, factor) for (u, v, link, d, factor), share in edges.items()),
        dag.delivered, tuple(drops), dag.nodes | {src, dst}, tuple(sorted(tunnels)), frozenset(tunnel_links),
        frozenset(reached), frozenset(clear))


class DemandPaths:
    """The path of every demand asked on one network's own forwarding, by what decides it (ends, protocol,
    port, packet size): demands alike share one path, and a later version of the network with the same
    forwarding but at some nodes keeps every path that touches none of them (:meth:`carried`)."""

    def __init__(self, net: Network):
        self.net = net
        self.kept: dict[tuple, DemandPath] = {}

    def path(self, fw: Forwarder, demand: Flow) -> DemandPath:
        """:func:`demand_path` of ``demand`` on ``fw`` (the network's own forwarding), computed once."""
        key = (demand.src, demand.dst, demand.protocol, demand.port, demand.packet_size)
        found = self.kept.get(key)
        if found is None:
            found = self.kept[key] = demand_path(fw, demand)
        return found

    def carried(self, net: Network, changed: frozenset[str]) -> DemandPaths:
        """The paths for ``net``, a later version of this network with the same forwarding but at the nodes of
        ``changed`` (:func:`simulator.carry.carry_over`): each path whose packets met none of them."""
        out = DemandPaths(net)
        out.kept = {key: path for key, path in self.kept.items() if path.nodes.isdisjoint(changed)}
        return out


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
                for link in sorted(path.reached | path.tunnel_links | _address_links(self.net, self.demands[i])):
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


def assign(net: Network, demands: Sequence[Flow] | None = None, forwarder: Forwarder | None = None) -> Assignment:
    """Route every demand of ``net`` (default: :func:`simulator.traffic.demands`) and sum the loads.

    ``forwarder`` (default: the network's own) is the forwarding state to use,
    e.g. one derived after a failure.
    """
    if demands is None:
        demands = plan_demands(net)
    fw = forwarder if forwarder is not None else build_forwarding(net)
    with no_gc():  # a path per demand, millions of small objects and no cycles
        if forwarder is None:
            own = net.cached(DemandPaths)
            paths = [own.path(fw, d) for d in demands]
        else:
            paths = [demand_path(fw, d) for d in demands]
    load: dict[Direction, float] = {}
    for demand, path in zip(demands, paths):
        for e in path.edges:
            load[e.key] = load.get(e.key, 0.0) + demand.rate * e.share * e.factor
    return Assignment(net, tuple(demands), paths, load)


def base_assignment(net: Network) -> Assignment:
    """:func:`assign` of the plan's own demands, cached on the (immutable) network."""
    return net.cached(assign)
