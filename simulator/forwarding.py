"""Forwarding: one hop's decision for one packet, from the plan's forwarding state.

Definition. The forwarding state of a network (:class:`Forwarder`, built once
per network and cached) holds each node's interfaces (address, link,
neighbour, ACLs in and out, VRF, NAT), its compiled ACLs, the tunnel ends it
terminates and, through :mod:`simulator.routing`, one routing table per VRF.
:meth:`Forwarder.step` decides what a node does with a packet that arrived on
an interface (or that it originates), in this order:

1. **inbound ACL** of the arrival interface: first match; no match = the
   node's ``default_action`` or deny. A reply of a session this node passed
   (:class:`~simulator.nat.Sessions`) skips ACLs and default actions.
2. **NAT return**: a reply to an address this node masqueraded to is
   translated back to the original host.
3. **VRF**: the arrival interface's VRF; a packet crossing a backbone link
   (no VRF on either end, the MPLS core) keeps the VRF it had.
4. **local delivery**: the destination is one of the node's addresses, or a
   prefix the node itself originates (its LAN; the internet cloud's default
   route). An ESP/GRE packet of a tunnel ending here is **decapsulated** and
   the inner packet is decided again at this node, arriving on the pseudo
   interface ``tunnel:NAME``.
5. a host, server or MCU does not forward transit packets (dropped);
6. **TTL** is decremented on every forwarded packet; 0 = ``ttl_expired``.
7. **tunnel selector**: at a tunnel endpoint, a destination in the selector is
   **encapsulated** (ESP or GRE, :mod:`simulator.tunnels`); the outer packet
   is routed instead; a tunnel that is down drops the packet. Each endpoint
   originates what its selector carries into the routing of the tunnel's
   domain (reverse route injection), so the far side's replies come back
   through the tunnel; a packet out of a tunnel counts as permitted at the
   endpoint that accepted the tunnel's outer packets.
8. **route**: longest prefix match in the VRF (and the VRFs it imports);
   equal-cost next hops are chosen by a hash of the 5-tuple (or, for a
   header-space query, each is followed); none = ``no_route``.
9. **one-way gateway** (:mod:`simulator.gateways`) direction and protocols.
10. **outbound ACL** of the egress interface (not for packets a router
    originates itself, as on real routers).
11. **boundary default**: a *boundary* node (role ``firewall``, or any node
    whose plan sets ``default_action``) passes a transit packet only if an ACL
    of the two interfaces it crosses permitted it; with no ACL on either, its
    default action decides (``deny`` unless the plan says ``permit``).
12. **NAT**: an egress interface with ``nat: true`` masquerades the source
    (of every packet a connection tracker follows: not ICMP errors and other
    ICMP messages that are no query, see :func:`simulator.nat.translated`).

Example::

    >>> fw = build_forwarding(net)      # the Chuxiong plan: 双柏县财政局 -> 州行政审批服务器
    >>> step = fw.step("双柏县外网核心", "e10", Header.make("10.53.5.155", "10.53.4.225"))
    >>> step.decision, step.next_node, step.detail
    ('forwarded', '楚雄州外网核心', 'igp route 10.53.4.225/32')
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from topology.collector import no_gc
from topology.diff import same_record
from topology.model import Gateway, Network, Node
from topology.vocabulary import FORWARDING_ROLES

from .acl import CompiledAcl, RuleRef, compile_acl, is_boundary
from .dst_runs import DstRuns, VrfPieces, owner_runs, rest_runs
from .gateways import gateway_allows
from .headerspace import IntervalSet, ip_text, prefix_interval
from .nat import Sessions, masquerade, translated
from .packets import DEFAULT_TTL, Header
from .patched import Patched
from .routing import NextHop, RoutingState, build_routing
from .tunnels import TunnelEnd, tunnel_ends

TERMINAL = frozenset({"delivered", "denied", "no_route", "ttl_expired", "dropped"})
TUNNEL_IF = "tunnel:"
MAX_STEPS = 1024
_PIECES_KEPT = 1 << 20  # (node, VRF, piece) decisions a forwarder keeps
LEARNT = ("igp", "external")  # route sources reached through the IGP towards their owners

# kinds of destination decision
LOCAL, DELIVER, TUNNEL, ROUTE, NOROUTE = "local", "deliver", "tunnel", "route", "noroute"


@dataclass(frozen=True, slots=True)
class IfState:
    name: str
    address: int | None
    link: str | None
    peer: str | None
    peer_if: str | None
    peer_domain: str | None
    acl_in: CompiledAcl | None
    acl_out: CompiledAcl | None
    vrf: str | None
    nat: bool


@dataclass(slots=True)
class NodeState:
    name: str
    role: str
    domain: str
    vrf: str | None
    forwarding: bool
    boundary: bool
    default_permit: bool
    addresses: frozenset[int]
    interfaces: dict[str, IfState]
    gateway: Gateway | None
    tunnel_ends: tuple[TunnelEnd, ...] = ()


class DstDecision(NamedTuple):
    kind: str
    hops: tuple[NextHop, ...] = ()
    end: TunnelEnd | None = None
    vrf: str | None = None  # the VRF whose table gave the route (route leaking)
    detail: str = ""
    group: tuple = ()  # equal for decisions that send a packet the same way (header-space grouping)


class Step(NamedTuple):
    """What one node did with one packet (the engine's form of a trace hop)."""

    decision: str  # forwarded | delivered | denied | no_route | ttl_expired | encapsulated | decapsulated | dropped
    node: str
    in_if: str | None
    out_if: str | None
    link: str | None
    next_node: str | None
    next_if: str | None
    header: Header  # as it leaves, or as dropped; the inner packet after decapsulation
    vrf: str | None
    rule: RuleRef | None = None
    detail: str = ""
    branches: int = 1  # equal-cost next hops there were to choose from
    nat: bool = False
    tunnel: str | None = None


# the caches of what a node decides by destination: the routing state and the tunnel ends decide them alone
_ROUTING_CACHES = ("_hops", "_decisions", "_keep", "_route_text", "_hops_interned", "_bounds", "_pieces", "_rests",
                   "_runs", "_vrf_pieces", "_owned")


class Forwarder:
    """The forwarding state of one network; see the module docstring.

    ``routing`` (default: the network's own, :func:`simulator.routing.build_routing`)
    and ``ends`` (tunnel name -> its :class:`~simulator.tunnels.TunnelEnd` pair;
    default: computed from the network) let a failure analysis build the
    forwarding of a degraded network on a derived routing state.
    """

    def __init__(self, net: Network, routing: RoutingState | None = None,
                 ends: Mapping[str, tuple[TunnelEnd, ...]] | None = None):
        self.net = net
        self.routing = routing if routing is not None else build_routing(net)
        self._acls: dict[tuple[str, bool], CompiledAcl] = {}
        self._reset_caches()
        self.nodes: MutableMapping[str, NodeState] = {name: self._node_state(node) for name, node in net.nodes.items()}
        self._set_tunnels(ends)

    def _reset_caches(self) -> None:
        self._hops: dict[tuple, tuple[NextHop, ...]] = {}
        self._decisions: dict[tuple, DstDecision] = {}
        self._keep: list = []  # the routes whose id() keys _decisions
        self._route_text: dict[int, str] = {}
        self._hops_interned: dict[tuple, tuple] = {}
        self._status: dict[str, tuple[bool, str]] = {}
        self._tunnel_links: dict[str, frozenset[str]] = {}
        self._tunnel_probe: dict[str, list[Step]] = {}
        self._bounds: list[int] | None = None
        self._pieces: dict[tuple[str, str | None, int], DstDecision] = {}
        self._rests: dict[tuple[str, str | None], tuple[IntervalSet, DstDecision] | None] = {}
        self._runs: dict[tuple[str, str | None, bool], DstRuns | None] = {}
        self._vrf_pieces: dict[str | None, VrfPieces] = {}
        self._resolving: set[tuple[str, str | None, int]] = set()
        self._owned: dict[str, tuple[tuple[int, int], ...]] = {}

    def _node_state(self, node: Node) -> NodeState:
        net = self.net
        default_permit = node.default_action == "permit"
        interfaces = {}
        for iface in node.interfaces.values():
            peer = peer_if = peer_domain = None
            if iface.link is not None and iface.link in net.links:
                link = net.links[iface.link]
                peer = link.other(node.name)
                peer_if = link.b_if if link.a == node.name else link.a_if
                peer_domain = net.nodes[peer].domain
            interfaces[iface.name] = IfState(
                iface.name, int(iface.address.ip) if iface.address is not None else None, iface.link, peer, peer_if,
                peer_domain, self._acl(iface.acl_in, default_permit), self._acl(iface.acl_out, default_permit),
                iface.vrf, iface.nat,
            )
        return NodeState(
            node.name, node.role, node.domain, node.vrf, node.role in FORWARDING_ROLES,
            is_boundary(node), default_permit,
            frozenset(int(a.ip) for a in node.addresses), interfaces, node.gateway,
        )

    def _set_tunnels(self, ends: Mapping[str, tuple[TunnelEnd, ...]] | None,
                     before: frozenset[str] | None = None) -> None:
        """The tunnel ends (``ends``, or computed) on the node states; ``before``: the nodes that held an end in
        the states these were copied from (only they and the new ends' nodes are looked at), None for all."""
        net = self.net
        self.tunnels: dict[str, tuple[TunnelEnd, ...]] = {}
        ends_at: dict[str, list[TunnelEnd]] = {}
        for tunnel in net.tunnels.values():
            found = ends.get(tunnel.name) if ends is not None else None
            pair = tuple(found) if found is not None else tuple(tunnel_ends(net, tunnel))
            self.tunnels[tunnel.name] = pair
            for end in pair:
                ends_at.setdefault(end.node, []).append(end)
        self._ends_at = frozenset(ends_at)
        names = self.nodes if before is None else sorted((before | self._ends_at) & self.nodes.keys())
        for name in names:
            state = self.nodes[name]
            mine = tuple(ends_at.get(name, ()))
            if state.tunnel_ends != mine:
                self.nodes[name] = replace(state, tunnel_ends=mine)
        # reverse route injection: an endpoint originates what it carries into its tunnel, learnt by
        # the nodes on its own side (behind it in the tunnel's domain), never towards the underlay
        self._injected: dict[str | None, dict[int, dict[int, frozenset[str]]]] = {}
        self._injected_sides: dict[str, frozenset[str]] = {}
        self._injected_cuts: set[int] = set()
        for pair in self.tunnels.values():
            for end in pair:
                for member in end.side:
                    self._injected_sides[member] = self._injected_sides.get(member, frozenset()) | {end.node}
                table = self._injected.setdefault(self.nodes[end.node].vrf, {})
                for key, length in end.routes:
                    nets = table.setdefault(length, {})
                    nets[key] = nets.get(key, frozenset()) | {end.node}
                    self._injected_cuts.update((key, key + (1 << (32 - length))))
        for vrf, table in self._injected.items():
            self._injected[vrf] = dict(sorted(table.items(), reverse=True))

    def derive(self, net: Network, routing: RoutingState, touched: Iterable[str] = (),
               ends: Mapping[str, tuple[TunnelEnd, ...]] | None = None, gone: Iterable[str] = ()) -> Forwarder:
        """The forwarding of ``net`` (this network with some links or nodes gone) on ``routing``.

        Only the nodes in ``touched`` (those that lost an interface or a
        neighbour) get a new state; the others' states and compiled ACLs are
        shared with this forwarder. ``ends`` overrides the tunnel ends, as in
        the constructor; ``gone`` names the nodes that failed (found by a scan
        when not given).
        """
        out = object.__new__(Forwarder)
        out.net = net
        out.routing = routing
        out._acls = self._acls
        out._reset_caches()
        nodes = Patched(self.nodes)  # read through the few changes, not copied
        for name in gone:
            del nodes[name]
        if len(nodes) != len(net.nodes):  # nodes gone that ``gone`` did not name
            for name in [n for n in nodes if n not in net.nodes]:
                del nodes[name]
        for name in touched:
            if name in net.nodes:
                nodes[name] = out._node_state(net.nodes[name])
        out.nodes = nodes
        out._set_tunnels(ends, self._ends_at)
        return out

    def carried(self, net: Network, changed: frozenset[str]) -> Forwarder:
        """The forwarding of ``net``, a later version of this forwarder's network whose routing inputs are the
        same (:func:`simulator.carry.same_routing`): the routing state, tunnel ends and every destination
        decision kept (they read nothing else), the state of each node of ``changed`` (those whose ACLs, NAT,
        gateway or default action may differ) built anew, an ACL compiled again only where its rules differ.
        """
        out = object.__new__(Forwarder)
        out.net = net
        out.routing = self.routing
        out._acls = {key: acl for key, acl in self._acls.items()
                     if key[0] in net.acls and same_record(self.net.acls.get(key[0]), net.acls[key[0]])}
        out._reset_caches()
        for name in _ROUTING_CACHES:
            setattr(out, name, getattr(self, name))
        out.nodes = {name: out._node_state(node) if name in changed else self.nodes[name]
                     for name, node in net.nodes.items()}
        out._set_tunnels(self.tunnels, self._ends_at)
        return out

    def _acl(self, name: str | None, default_permit: bool) -> CompiledAcl | None:
        if name is None or name not in self.net.acls:
            return None
        key = (name, default_permit)
        if key not in self._acls:
            self._acls[key] = compile_acl(self.net.acls[name], default_permit)
        return self._acls[key]

    # -- addresses ------------------------------------------------------------
    def primary_address(self, node: str) -> int | None:
        """The address a node sends from and is reached at: loopback, else its first interface address."""
        addresses = self.net.nodes[node].addresses
        if addresses:
            return int(addresses[0].ip)
        lan = self.net.nodes[node].lan
        return int(lan.network_address) + 1 if lan is not None and lan.num_addresses > 2 else None

    def owned_intervals(self, node: str) -> tuple[tuple[int, int], ...]:
        """Every address a node answers for: its addresses, its LAN, and for an internet cloud every address."""
        out = self._owned.get(node)
        if out is None:
            out = self._owned[node] = tuple(self._owned_intervals(node))
        return out

    def _owned_intervals(self, node: str) -> list[tuple[int, int]]:
        n = self.net.nodes[node]
        domain = self.net.domains.get(n.domain)
        if n.role == "cloud" and domain is not None and not domain.trusted:  # it originates the default route
            return [(0, 2**32 - 1)]
        out = [(int(a.ip), int(a.ip)) for a in n.addresses]
        if n.lan is not None:
            out.append(prefix_interval(n.lan))
        return out

    def boundaries(self) -> list[int]:
        """Every address where some route, address, subnet or tunnel selector starts or ends (sorted cut points)."""
        if self._bounds is None:
            cuts: set[int] = set()
            for table in [*self.routing.tables.values(), *self.routing.external.values()]:
                for length, nets in table.items():
                    size = 1 << (32 - length)
                    for net_ in nets:
                        cuts.add(net_)
                        cuts.add(net_ + size)
            for ip in self.routing.address_owner:
                cuts.add(ip)
                cuts.add(ip + 1)
            for connected in self.routing.connected.values():
                for prefix, _ in connected:
                    lo, hi = prefix_interval(prefix)
                    cuts.add(lo)
                    cuts.add(hi + 1)
            for statics in self.routing.statics.values():
                for prefix, _, _ in statics:
                    lo, hi = prefix_interval(prefix)
                    cuts.add(lo)
                    cuts.add(hi + 1)
            for ends in self.tunnels.values():
                for end in ends:
                    for lo, hi in end.selector:
                        cuts.add(lo)
                        cuts.add(hi + 1)
            cuts.update(self._injected_cuts)
            cuts.discard(0)
            cuts.discard(2**32)
            self._bounds = sorted(cuts)
        return self._bounds

    def elementary(self, dst: IntervalSet) -> list[tuple[int, int]]:
        """``dst`` cut at every boundary: pieces inside which every destination decision is the same."""
        bounds = self.boundaries()
        out = []
        for lo, hi in dst:
            i = bisect.bisect_right(bounds, lo)
            start = lo
            while i < len(bounds) and bounds[i] <= hi:
                out.append((start, bounds[i] - 1))
                start = bounds[i]
                i += 1
            out.append((start, hi))
        return out

    def piece_decision(self, node: str, vrf: str | None, piece: int) -> DstDecision:
        """:meth:`dst_decision` for every destination of the elementary piece that starts at ``piece`` (one of
        :meth:`elementary`'s), kept: a reachability query asks the same node about the same piece from many
        sources (a bounded cache, cleared when full)."""
        key = (node, vrf, piece)
        found = self._pieces.get(key)
        if found is None:
            if len(self._pieces) >= _PIECES_KEPT:
                self._pieces.clear()
            found = self._pieces[key] = self.dst_decision(node, vrf, piece)
        return found

    def piece_count(self, dst: IntervalSet) -> int:
        """How many elementary pieces (:meth:`elementary`) ``dst`` holds, counted without listing them."""
        bounds = self.boundaries()
        return sum(bisect.bisect_right(bounds, hi) - bisect.bisect_right(bounds, lo) + 1 for lo, hi in dst)

    def dst_runs(self, node: str, vrf: str | None, partition: bool = False,
                 over: IntervalSet | None = None) -> DstRuns | None:
        """The runs of destinations ``node`` decides alike in ``vrf`` (:mod:`simulator.dst_runs`): from its
        rest (:meth:`dst_rest`) where it has one, else, with ``partition``, its owner partition (a pass over
        every piece of the network: worth it for a wide flow), or with ``over`` the owner partition of the
        pieces ``over`` meets (a pass over those alone, not kept); None when neither is shown or asked."""
        key = (node, vrf, partition)
        if key in self._runs:
            found = self._runs[key]
        else:
            found = self._runs[key] = self._find_runs(node, vrf, partition)
        if found is None and over is not None and not partition and self._partitioned(vrf):
            return owner_runs(self, self._pieces_of(vrf), node, vrf, over)
        return found

    def _find_runs(self, node: str, vrf: str | None, partition: bool) -> DstRuns | None:
        rest = self.dst_rest(node, vrf)
        if rest is not None:
            return rest_runs(*rest)
        if partition and self._partitioned(vrf):
            return owner_runs(self, self._pieces_of(vrf), node, vrf)
        return None

    def _partitioned(self, vrf: str | None) -> bool:
        return vrf in self.routing.graphs and vrf in self.routing.tables

    def _pieces_of(self, vrf: str | None) -> VrfPieces:
        pieces = self._vrf_pieces.get(vrf)
        if pieces is None:
            pieces = self._vrf_pieces[vrf] = VrfPieces(self, vrf)
        return pieces

    def tunnel_route_spans(self, node: str, vrf: str | None) -> list[tuple[int, int]]:
        """The address intervals of the tunnel routes ``node`` may learn in ``vrf`` (and the VRFs it imports):
        those an endpoint injects on its own side (empty for a node on no endpoint's side)."""
        sides = self._injected_sides.get(node)
        if not sides:
            return []
        return [(key, key + (1 << (32 - length)) - 1) for v in self.routing.visible_vrfs(vrf)
                for length, nets in self._injected.get(v, {}).items() for key, owners in nets.items() if owners & sides]

    def dst_rest(self, node: str, vrf: str | None) -> tuple[IntervalSet, DstDecision] | None:
        """``(exceptions, decision)`` such that every destination outside ``exceptions`` is decided by
        :meth:`dst_decision` at ``node`` in ``vrf`` as ``decision`` is (the same :attr:`DstDecision.group`);
        None where that is not shown (the caller then decides piece by piece). Shown for two kinds of node
        with no static route, tunnel end or tunnel route, every VRF they see their own, and a default route
        in that VRF that they do not originate:

        - a *host* (a node that forwards nothing) looks a destination up in its own addresses, its connected
          subnets and the longest prefix of the IGP (which it always "reaches": it hands everything to a
          gateway), and sends what it does not own to a linked owner, else to its first gateway
          (:meth:`RoutingState.hops_towards`). The decision can only differ from the first gateway's at its
          own addresses and LAN, its connected subnets, and what a neighbour other than that gateway
          originates (addresses, LAN, static routes): those are the exceptions.
        - a *router of a pendant tree* (:meth:`RoutingState.pendant_below`, the default route's owners
          outside the tree and reachable): every way out of the tree under it leaves through its parent, so
          a destination whose every matching prefix is originated outside that tree (a prefix is chosen:
          the default at least is reached) goes to the parent. The exceptions are its own addresses, LAN
          and subnets and what the nodes below it originate.

        A reachability query so splits a flow at the exceptions only, not at every piece of the network.
        """
        key = (node, vrf)
        if key not in self._rests:
            self._rests[key] = self._find_rest(node, vrf)
        return self._rests[key]

    def _find_rest(self, node: str, vrf: str | None) -> tuple[IntervalSet, DstDecision] | None:
        routing = self.routing
        ns = self.nodes[node]
        if (ns.tunnel_ends or node in self._injected_sides or routing.statics.get(node)
                or routing.visible_vrfs(vrf) != (vrf,) or vrf not in routing.tables):
            return None
        default = routing.tables[vrf].get(0, {}).get(0)
        if not default or node in default:
            return None
        spans = list(self.owned_intervals(node))  # its addresses and LAN
        spans += [prefix_interval(prefix) for prefix, _ in routing.connected.get(node, ())]
        if routing.is_forwarding(node):
            below = routing.pendant_below(node, vrf)
            if below is None or default & below or not routing.reaches(node, default, vrf):
                return None
            others = below - {node}
        else:
            links = sorted(self.net.links_of(node), key=lambda link: (link.cost, link.name))
            gateway = next((link.other(node) for link in links if routing.is_forwarding(link.other(node))), None)
            others = frozenset(link.other(node) for link in links) - {gateway}
        for other in others:
            spans += self.owned_intervals(other)
            spans += [prefix_interval(prefix) for prefix, _, _ in routing.statics.get(other, ())]
        exceptions = IntervalSet.of(spans)
        rest = IntervalSet.span(0, 2**32 - 1) - exceptions
        if not rest:
            return None
        return exceptions, self.dst_decision(node, vrf, rest.first())

    # -- decisions ------------------------------------------------------------
    def dst_decision(self, node: str, vrf: str | None, dst: int) -> DstDecision:
        """Where ``node`` sends a packet for ``dst`` in ``vrf``: local, deliver, tunnel, route or no route."""
        ns = self.nodes[node]
        if dst in ns.addresses:
            return _LOCAL
        for end in ns.tunnel_ends:
            if end.selector.contains(dst):
                return self._decision(TUNNEL, (), end, None, "")
        route = self.routing.lookup(node, dst, vrf)
        injected = self._injected_route(node, vrf, dst) if self._injected else None
        if injected is not None and (route is None or injected[0] > route.prefix.prefixlen
                                     or (injected[0] == route.prefix.prefixlen and route.source in LEARNT)):
            length, key, owners, ivrf = injected
            endpoints = owners
            if route is not None and length == route.prefix.prefixlen:
                owners = owners | route.owners
            if node in owners:
                return self._decision(DELIVER, (), None, ivrf, "originated here")
            cache_key = (node, owners, ivrf)
            hops = self._hops.get(cache_key)
            if hops is None:
                hops = self._intern(tuple(self.routing.hops_towards(node, owners, ivrf, dst)))
                self._hops[cache_key] = hops
            prefix = f"{ip_text(key)}/{length}"
            if not hops:
                return self._decision(NOROUTE, (), None, ivrf, f"tunnel route {prefix} has no usable next hop")
            return self._decision(ROUTE, hops, None, ivrf, f"tunnel route {prefix} (injected by {', '.join(sorted(endpoints))})")
        if route is None:
            return self._decision(NOROUTE, (), None, vrf, f"no route in {_vrf_name(vrf)}")
        if route.source == "local":
            return _LOCAL
        # routes are interned by the routing state, so one decision per (node, VRF, route) is kept
        key = (node, vrf, id(route), dst if route.source == "connected" else None)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decide_route(node, vrf, dst, route)
            self._decisions[key] = decision
            self._keep.append(route)
        return decision

    def _decide_route(self, node: str, vrf: str | None, dst: int, route) -> DstDecision:
        text = self._route_text.get(id(route))
        if text is None:
            text = f"{route.source} route {ip_text(int(route.prefix.network_address))}/{route.prefix.prefixlen}"
            self._route_text[id(route)] = text
        if route.source in LEARNT and node in route.owners:
            return self._decision(DELIVER, (), None, route.vrf, f"{text.split(' route ', 1)[1]} is originated here")
        if route.source in LEARNT:
            key = (node, route.owners, route.vrf)
            hops = self._hops.get(key)
            if hops is None:
                hops = self._intern(tuple(self.routing.hops_towards(node, route.owners, route.vrf, dst)))
                self._hops[key] = hops
        else:
            resolved = self._recursive_next_hop(node, vrf, route)
            if resolved is not None:
                return self._decision(ROUTE, resolved.hops, None, route.vrf, f"{text} via {route.via} ({resolved.detail})")
            hops = self._intern(tuple(self.routing.next_hops(node, dst, vrf)))
        if not hops:
            return self._decision(NOROUTE, (), None, route.vrf, f"{text} has no usable next hop")
        return self._decision(ROUTE, hops, None, route.vrf, text)

    def _recursive_next_hop(self, node: str, vrf: str | None, route) -> DstDecision | None:
        """For a static route whose next hop is an address of a node not cabled to ``node``: the decision for
        that address, as a router resolves such a route through its own table (tunnel routes included), when
        it is a route; None otherwise (the route is then resolved by :meth:`RoutingState.next_hops`)."""
        via = route.via
        if route.source != "static" or via is None or via in self.net.nodes:
            return None
        ip = int(ipaddress.IPv4Address(via))
        owner = self.routing.address_owner.get(ip)
        if owner is None or any(l.other(node) == owner[0] for l in self.net.links_of(node)):
            return None
        key = (node, vrf, ip)
        if key in self._resolving:  # the next hop is reached by the route itself: no resolution
            return None
        self._resolving.add(key)
        try:
            found = self.dst_decision(node, vrf, ip)
        finally:
            self._resolving.discard(key)
        return found if found.kind == ROUTE and found.hops else None

    def _intern(self, hops: tuple[NextHop, ...]) -> tuple[NextHop, ...]:
        return self._hops_interned.setdefault(hops, hops)

    @staticmethod
    def _decision(kind: str, hops: tuple, end: TunnelEnd | None, vrf: str | None, detail: str) -> DstDecision:
        return DstDecision(kind, hops, end, vrf, detail, (kind, id(hops), end.tunnel if end is not None else None, vrf))

    def _injected_route(self, node: str, vrf: str | None, dst: int):
        """The longest tunnel route ``node`` learnt for ``dst`` in ``vrf``: (length, network, endpoints, VRF) or None."""
        sides = self._injected_sides.get(node)
        if not sides:
            return None
        for v in self.routing.visible_vrfs(vrf):
            table = self._injected.get(v)
            if not table:
                continue
            for length, nets in table.items():
                key = dst >> (32 - length) << (32 - length) if length else 0
                owners = nets.get(key)
                if owners is not None:
                    owners = owners & sides
                    if owners:
                        return (length, key, owners, v)
        return None

    def in_domain(self, ns: NodeState, in_if: str | None) -> str | None:
        """The domain a packet comes from at ``ns``: the neighbour's, a tunnel's, or the node's own."""
        if in_if is None:
            return ns.domain
        if in_if.startswith(TUNNEL_IF):
            tunnel = self.net.tunnels.get(in_if[len(TUNNEL_IF):])
            return (tunnel.domain if tunnel is not None else None) or ns.domain
        iface = ns.interfaces.get(in_if)
        return iface.peer_domain if iface is not None and iface.peer_domain is not None else ns.domain

    def step(self, node: str, in_if: str | None, h: Header, vrf: str | None = None,
             sessions: Sessions | None = None, branch: int | None = None) -> Step:
        """One node's decision on packet ``h`` arriving on ``in_if`` (None: the node sends it)."""
        ns = self.nodes[node]
        iface = ns.interfaces.get(in_if) if in_if is not None else None
        transit = in_if is not None
        session = sessions is not None and sessions.is_reply(node, h)
        permitted_by: RuleRef | None = None
        # out of a tunnel whose packets this node accepted: permitted, as VPN gateways do by default
        tunnelled = transit and iface is None and in_if.startswith(TUNNEL_IF)  # type: ignore[union-attr]
        # 1. inbound ACL
        acl_in = iface.acl_in if iface is not None else None
        if acl_in is not None and not session:
            idx, permit = acl_in.first_match(h.src, h.dst, h.proto, h.sport, h.dport)
            ref = RuleRef(acl_in.name, idx, "permit" if permit else "deny", node, in_if, "in")
            if not permit:
                return Step("denied", node, in_if, None, None, None, None, h, vrf, ref, str(ref))
            permitted_by = ref
        # 2. NAT return
        if sessions is not None and h.dst in ns.addresses:
            back = sessions.translate_reply(node, h)
            if back is not None:
                h = back
        # 3. VRF
        if iface is not None and iface.vrf is not None:
            vrf = iface.vrf
        # 4. local delivery / decapsulation
        d = self.dst_decision(node, vrf, h.dst)
        if d.kind == LOCAL or d.kind == DELIVER:
            if h.tunnel is not None and h.inner is not None and d.kind == LOCAL and self._ends_here(h, node):
                if sessions is not None:
                    sessions.record(node, h)
                return Step("decapsulated", node, in_if, None, None, node, TUNNEL_IF + h.tunnel, h.inner, ns.vrf,
                            permitted_by, f"decapsulated from tunnel {h.tunnel}", tunnel=h.tunnel)
            if transit and ns.boundary and permitted_by is None and not tunnelled and not session and not ns.default_permit:
                ref = RuleRef("default", 0, "deny", node, in_if, "in")
                return Step("denied", node, in_if, None, None, None, None, h, vrf, ref,
                            f"{node} is a boundary with default deny and no ACL permits this packet")
            if sessions is not None:
                sessions.record(node, h)
            return Step("delivered", node, in_if, None, None, None, None, h, vrf, permitted_by,
                        d.detail or f"delivered to {node}")
        # 5. hosts do not forward
        if transit and not ns.forwarding:
            return Step("dropped", node, in_if, None, None, None, None, h, vrf, None,
                        f"{node} is a {ns.role} and does not forward packets for others")
        # 6. TTL
        if transit:
            if h.ttl <= 1:
                return Step("ttl_expired", node, in_if, None, None, None, None, h._replace(ttl=0), vrf, None,
                            "TTL expired (a forwarding loop?)")
            h = h._replace(ttl=h.ttl - 1)
        arrived = h
        # 7. tunnel
        encap: TunnelEnd | None = None
        if d.kind == TUNNEL:
            encap = d.end
            assert encap is not None  # dst_decision makes a TUNNEL decision only with the end whose selector matched
            up, why = self.tunnel_up(encap.tunnel)
            if not up:
                return Step("dropped", node, in_if, None, None, None, None, h, vrf, None,
                            f"tunnel {encap.tunnel} is down: {why}", tunnel=encap.tunnel)
            # tunnel_up reports a tunnel up only when both its ends have underlay addresses
            assert encap.address is not None and encap.peer_address is not None
            h = Header(encap.address, encap.peer_address, encap.proto, 0, 0, DEFAULT_TTL, h, encap.tunnel, h.reply)
            under_vrf = self._underlay_vrf(encap)
            d = self.dst_decision(node, under_vrf, h.dst)
            if d.kind != ROUTE:
                return Step("dropped", node, in_if, None, None, None, None, h, vrf, None,
                            f"tunnel {encap.tunnel}: no route to the far end {encap.peer}", tunnel=encap.tunnel)
        # 8. route
        if d.kind == NOROUTE:
            return Step("no_route", node, in_if, None, None, None, None, h, vrf, None, d.detail)
        hops = d.hops
        n = len(hops)
        if branch is None:
            pick = hash((h.src, h.dst, h.proto, h.sport, h.dport)) % n if n > 1 else 0
        else:
            pick = branch
        hop = hops[pick]
        out = ns.interfaces[hop.out_if]
        out_vrf = d.vrf if out.vrf is None else out.vrf
        # 9. one-way gateway
        if ns.gateway is not None:
            from_domain, to_domain = self.in_domain(ns, in_if), out.peer_domain
            if not gateway_allows(ns.gateway, from_domain, to_domain, h.proto):
                ref = RuleRef(f"one-way {ns.gateway.from_domain}->{ns.gateway.to_domain}", 0, "deny", node, hop.out_if, "out")
                return Step("denied", node, in_if, hop.out_if, None, None, None, h, vrf, ref,
                            f"one-way gateway {node} passes only {'/'.join(ns.gateway.allow)} from {ns.gateway.from_domain} "
                            f"to {ns.gateway.to_domain}; this packet goes {from_domain} -> {to_domain}", n)
        # 10. outbound ACL
        acl_out = self.out_acl(ns, out, transit, encap is not None or h.tunnel is not None)
        if acl_out is not None and not session:
            idx, permit = acl_out.first_match(h.src, h.dst, h.proto, h.sport, h.dport)
            ref = RuleRef(acl_out.name, idx, "permit" if permit else "deny", node, hop.out_if, "out")
            if not permit:
                return Step("denied", node, in_if, hop.out_if, None, None, None, h, vrf, ref, str(ref), n)
            permitted_by = ref
        # 11. boundary default
        if transit and ns.boundary and permitted_by is None and not tunnelled and not session and not ns.default_permit:
            ref = RuleRef("default", 0, "deny", node, hop.out_if, "out")
            return Step("denied", node, in_if, hop.out_if, None, None, None, h, vrf, ref,
                        f"{node} is a boundary with default deny and no ACL permits this packet", n)
        # 12. NAT
        natted = False
        if out.nat and out.address is not None and not session and translated(h):
            h = masquerade(h, out.address, node, sessions)
            natted = True
        if sessions is not None:
            sessions.record(node, arrived)
            sessions.record(node, h)
        if encap is not None:
            return Step("encapsulated", node, in_if, hop.out_if, hop.link, hop.neighbor, hop.in_if, h, out_vrf,
                        permitted_by, f"encapsulated into {encap.kind} tunnel {encap.tunnel} to {encap.peer}", n,
                        natted, encap.tunnel)
        return Step("forwarded", node, in_if, hop.out_if, hop.link, hop.neighbor, hop.in_if, h, out_vrf,
                    permitted_by, d.detail + (" (source NAT)" if natted else ""), n, natted)

    @staticmethod
    def out_acl(ns: NodeState, out: IfState, transit: bool, encapsulated: bool) -> CompiledAcl | None:
        """The outbound ACL a packet meets leaving through ``out`` (a router's own packets are not filtered)."""
        if out.acl_out is not None and (transit or encapsulated or not ns.forwarding):
            return out.acl_out
        return None

    def outer_hops(self, end: TunnelEnd) -> tuple[NextHop, ...]:
        """The equal-cost next hops of a tunnel's outer packets leaving endpoint ``end``."""
        d = self.dst_decision(end.node, self._underlay_vrf(end), end.peer_address) if end.peer_address is not None else None
        return d.hops if d is not None and d.kind == ROUTE else ()

    def _ends_here(self, h: Header, node: str) -> bool:
        return any(end.node == node and end.address == h.dst for end in self.tunnels.get(h.tunnel or "", ()))

    def _underlay_vrf(self, end: TunnelEnd) -> str | None:
        ns = self.nodes[end.node]
        if end.underlay_if is not None and ns.interfaces[end.underlay_if].vrf is not None:
            return ns.interfaces[end.underlay_if].vrf
        return ns.vrf

    # -- tunnels --------------------------------------------------------------
    def tunnel_up(self, name: str) -> tuple[bool, str]:
        """Whether a tunnel is up: both endpoints exist and each one's outer packets reach the other."""
        status = self._status.get(name)
        if status is not None:
            return status
        self._status[name] = (False, "it carries its own underlay")  # re-entered while checking: a loop
        ends = self.tunnels.get(name, ())
        status = (True, "")
        links: set[str] = set()
        if len(ends) != 2:
            status = (False, "an endpoint is missing")
        else:
            for end in ends:
                if end.address is None or end.peer_address is None:
                    status = (False, f"{end.node} has no underlay address")
                    break
                # the outer packet itself, without a payload: filtered like the tunnel's traffic will be
                probe = Header(end.address, end.peer_address, end.proto, 0, 0, DEFAULT_TTL, None, end.tunnel)
                steps = self.walk(end.node, probe, vrf=self._underlay_vrf(end))
                links.update(s.link for s in steps if s.link is not None)
                last = steps[-1]
                if last.decision != "delivered" or last.node != end.peer:
                    status = (False, f"outer packets from {end.node} to {end.peer} are {last.decision} at {last.node}"
                                     + (f" ({last.detail})" if last.detail else ""))
                    self._tunnel_probe[name] = steps
                    break
        self._status[name] = status
        self._tunnel_links[name] = frozenset(links)
        return status

    def source_blind(self, node: str, tunnel_routes: bool = False) -> bool:
        """Whether ``node`` decides every packet without looking at its source.

        True for a node with no ACL, no NAT, no one-way gateway, no default
        action, no tunnel end and no tunnel route it learnt: only the
        destination, the arrival interface and the VRF decide there. With
        ``tunnel_routes`` a route learnt from a tunnel endpoint is allowed
        (it too is looked up by destination; only the path it leads on may
        differ by where the packet came from).
        """
        ns = self.nodes[node]
        return (not ns.boundary and ns.gateway is None and not ns.tunnel_ends
                and (tunnel_routes or node not in self._injected_sides)
                and all(i.acl_in is None and i.acl_out is None and not i.nat for i in ns.interfaces.values()))

    def attachment(self, node: str) -> tuple | None:
        """What a packet of ``node`` meets first, when that is all that tells it from other senders.

        For a host, server or MCU with one interface and no ACL, NAT, static
        route, gateway, tunnel end or default action of its own: the router R it
        hangs off, R's settings on that interface (ACLs, NAT, VRF), its own VRF
        and domain. Two nodes with the same attachment send every header alike
        to R, which decides it alike (nothing at R differs between the two
        interfaces); None for any other node.

        >>> fw = build_forwarding(net)       # the Chuxiong plan: two bureaus of one county
        >>> fw.attachment("双柏县财政局") == fw.attachment("双柏县教育局") != None
        True
        """
        state = self.nodes[node]
        if state.forwarding or len(state.interfaces) != 1 or state.gateway is not None or state.tunnel_ends:
            return None
        if self.net.nodes[node].routes or state.boundary:
            return None
        (iface,) = state.interfaces.values()
        if iface.peer is None or iface.acl_in is not None or iface.acl_out is not None or iface.nat:
            return None
        peer = self.nodes[iface.peer].interfaces.get(iface.peer_if or "")
        if peer is None:
            return None
        return (iface.peer, peer.acl_in.name if peer.acl_in else None, peer.acl_out.name if peer.acl_out else None,
                peer.nat, peer.vrf, iface.vrf, state.vrf, state.domain)

    def tunnel_probe(self, name: str) -> list[Step] | None:
        """The steps of the outer packet that did not get through when the tunnel is down (None when up)."""
        self.tunnel_up(name)
        return self._tunnel_probe.get(name)

    def tunnel_links(self, name: str) -> frozenset[str]:
        """The links a tunnel's outer packets take between its endpoints (both ways, as far as they get)."""
        self.tunnel_up(name)
        return self._tunnel_links.get(name, frozenset())

    # -- walking --------------------------------------------------------------
    def walk(self, src: str, h: Header, sessions: Sessions | None = None, choices: dict[int, int] | None = None,
             vrf: str | None = None, max_steps: int = MAX_STEPS) -> list[Step]:
        """Every step of ``h`` sent by ``src`` until it is delivered or dropped.

        ``choices`` maps a step's position to the equal-cost branch taken there
        (default: the hash of the 5-tuple). When the TTL runs out, the last
        step says whether the packet went round a forwarding loop or its path
        was simply longer than the hop limit.
        """
        node, in_if = src, None
        vrf = self.nodes[src].vrf if vrf is None else vrf
        steps: list[Step] = []
        for i in range(max_steps):
            s = self.step(node, in_if, h, vrf, sessions, choices.get(i) if choices else None)
            steps.append(s)
            if s.decision in TERMINAL:
                if s.decision == "ttl_expired":
                    steps[-1] = s._replace(detail=expiry_detail(steps))
                return steps
            node, in_if, h, vrf = s.next_node, s.next_if, s.header, s.vrf  # type: ignore[assignment]
        steps.append(Step("dropped", node, in_if, None, None, None, None, h, vrf, None, "too many hops"))
        return steps


def state_key(node: str, in_if: str | None, h: Header, vrf: str | None) -> tuple:
    """What a node's decision depends on, apart from the TTL: equal keys are decided alike."""
    return (node, in_if, _without_ttl(h), vrf)


def _without_ttl(h: Header) -> Header:
    return h._replace(ttl=0, inner=_without_ttl(h.inner) if h.inner is not None else None)


def expiry_detail(steps: Sequence[Step]) -> str:
    """Why the TTL ran out on the way ``steps`` took: the forwarding loop, or a path longer than the hop limit.

    A loop is a state (node, arrival interface, header but its TTL, VRF)
    that comes back: from then on the packet is decided exactly as before.
    """
    seen: dict[tuple, int] = {}
    for i in range(1, len(steps)):
        s, before = steps[i], steps[i - 1]
        key = state_key(s.node, s.in_if, before.header, before.vrf)
        if key in seen:
            cycle = [steps[j].node for j in range(seen[key], i + 1)]
            return f"TTL expired in a forwarding loop: {' -> '.join(_dedupe_runs(cycle))}"
        seen[key] = i
    return f"TTL expired after {len(steps) - 1} hops: the path is longer than the hop limit ({DEFAULT_TTL}), no loop"


def _dedupe_runs(names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if not out or out[-1] != n:
            out.append(n)
    return out


_LOCAL = DstDecision(LOCAL, group=(LOCAL,))


def build_forwarding(net: Network) -> Forwarder:
    """The forwarding state of ``net`` (cached on the network, which is immutable)."""
    with no_gc():  # the routing and forwarding state of every node: millions of small objects and no cycles
        return net.cached(Forwarder)


def _vrf_name(vrf: str | None) -> str:
    return "the global table" if vrf is None else f"VRF {vrf}"
