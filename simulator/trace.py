"""Traces: what happens to one packet from a node to a node or address, hop by hop.

Definition. ``trace(net, src, dst, ...)`` builds one packet (scapy, from
``src``'s primary address unless ``src_ip`` is given) and walks it through
:class:`simulator.forwarding.Forwarder` until it is delivered or dropped.
Each :class:`Hop` records the node, the interfaces in and out, the decision
(``forwarded``, ``delivered``, ``denied``, ``no_route``, ``ttl_expired``,
``encapsulated``, ``decapsulated``, ``dropped``), the rule that decided
(:class:`RuleRef`; index 0 = the default action), the link the packet leaves
on, and the real scapy packet as it leaves (or as dropped): an ESP or GRE
packet on the hops inside a tunnel. Equal-cost paths are chosen by a hash of
the 5-tuple, deterministically. ``reply(net, trace)`` sends the answer back
through the same firewalls and NAT, which let it pass as part of the session.

Example::

    >>> t = trace(net, "双柏县财政局", "楚雄州行政审批服务器", proto="tcp", dport=443)
    >>> t.delivered, [(h.node, h.decision) for h in t.hops][-2:]
    (True, [('州网管中心服务器区交换机', 'forwarded'), ('楚雄州行政审批服务器', 'delivered')])
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from topology.errors import SelectorError
from topology.model import Network
from topology.selectors import select_nodes

from .acl import RuleRef
from .forwarding import Forwarder, Step, build_forwarding
from .nat import Sessions
from .packets import Header, plain_scapy, to_scapy
from .tunnels import decapsulate

__all__ = [
    "Hop",
    "RoundTrip",
    "RoundTrips",
    "RuleRef",
    "Trace",
    "hops_from_steps",
    "reply",
    "resolve_destination",
    "round_trip",
    "trace",
    "trace_from_steps",
    "trace_text",
]


class _Packets:
    """Builds the scapy packets of one trace's hops on first use (scapy costs about a millisecond a packet)."""

    def __init__(self, net: Network, steps: list[Step]):
        self.tunnels = net.tunnels
        self.steps = steps
        self.built: dict[int, Any] = {}
        self.cache: dict = {}

    def packet(self, i: int):
        packet = self.built.get(i)
        if packet is None:
            s = self.steps[i]
            if s.decision == "decapsulated" and i > 0 and s.tunnel is not None and s.tunnel in self.tunnels:
                packet = decapsulate(self.tunnels[s.tunnel], self.packet(i - 1))  # real decryption of the ESP packet
            elif s.header.inner is not None:
                packet = to_scapy(s.header, self.tunnels, self.cache)
            else:
                packet = plain_scapy(s.header)
            self.built[i] = packet
        return packet


@dataclass(frozen=True)
class Hop:
    """One node's decision: ``packet`` is the scapy packet as it leaves the node (or as dropped), built on first use."""

    node: str
    in_if: str | None
    out_if: str | None
    decision: str
    rule: RuleRef | None
    link: str | None
    detail: str = ""
    header: Header | None = field(default=None, compare=False, repr=False)
    branches: int = field(default=1, compare=False, repr=False)  # equal-cost next hops there were to choose from
    _packets: _Packets | None = field(default=None, compare=False, repr=False)
    _index: int = field(default=0, compare=False, repr=False)

    @property
    def packet(self):
        if self._packets is None:
            return plain_scapy(self.header) if self.header is not None else None
        return self._packets.packet(self._index)

    def to_json(self) -> dict:
        return {
            "node": self.node,
            "in": self.in_if,
            "out": self.out_if,
            "decision": self.decision,
            "rule": self.rule.to_json() if self.rule is not None else None,
            "link": self.link,
            "detail": self.detail,
            "packet": self.header.to_json() if self.header is not None else None,
        }


@dataclass(frozen=True)
class Trace:
    delivered: bool
    hops: tuple[Hop, ...]
    reason: str
    src: str = ""
    dst: str = ""
    sessions: Sessions | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict:
        return {
            "src": self.src,
            "dst": self.dst,
            "delivered": self.delivered,
            "reason": self.reason,
            "hops": [h.to_json() for h in self.hops],
        }

    @property
    def last(self) -> Hop:
        return self.hops[-1]

    def text(self) -> str:
        return trace_text(self)


def resolve_destination(net: Network, fw: Forwarder, dst: str) -> tuple[int, str | None]:
    """(address, node) for a node name or an IPv4 address; SelectorError when it is neither."""
    try:
        ip = int(ipaddress.IPv4Address(dst))
    except ValueError:
        pass
    else:
        owner = fw.routing.address_owner.get(ip)
        return ip, owner[0] if owner else None
    name = dst[5:] if dst.startswith("node:") else dst
    if name not in net.nodes:
        nodes = select_nodes(net, dst)  # raises SelectorError with a hint
        if len(nodes) != 1:
            raise SelectorError(f"'{dst}' names {len(nodes)} nodes; a trace goes to one node or address")
        name = nodes[0]
    address = fw.primary_address(name)
    if address is None:
        raise SelectorError(f"node '{name}' has no address to send to")
    return address, name


def _resolve_source(net: Network, src: str) -> str:
    name = src[5:] if src.startswith("node:") else src
    if name in net.nodes:
        return name
    nodes = select_nodes(net, src)
    if len(nodes) != 1:
        raise SelectorError(f"'{src}' names {len(nodes)} nodes; a trace starts at one node")
    return nodes[0]


def hops_from_steps(net: Network, steps: list[Step]) -> tuple[Hop, ...]:
    """Trace hops from the engine's steps; each hop's scapy packet is built when first asked for."""
    packets = _Packets(net, steps)
    return tuple(Hop(s.node, s.in_if, s.out_if, s.decision, s.rule, s.link, s.detail, s.header, s.branches, packets, i)
                 for i, s in enumerate(steps))


def _reason(steps: list[Step]) -> str:
    last = steps[-1]
    if last.decision == "delivered":
        return f"delivered to {last.node}"
    if last.decision == "denied" and last.rule is not None:
        return f"denied at {last.node}: {last.rule}" + (f"; {last.detail}" if last.rule.index == 0 and last.detail else "")
    return f"{last.decision.replace('_', ' ')} at {last.node}: {last.detail}"


def trace(net: Network, src: str, dst: str, proto: str = "tcp", sport: int = 40000, dport: int = 443,
          src_ip: str | None = None, icmp_type: int = 8, *, sessions: Sessions | None = None,
          choices: dict[int, int] | None = None) -> Trace:
    """The hop-by-hop fate of one packet from node ``src`` to node or address ``dst`` (see the module docstring)."""
    fw = build_forwarding(net)
    source = _resolve_source(net, src)
    dst_ip, dst_node = resolve_destination(net, fw, dst)
    s_ip: int | None
    if src_ip is not None:
        try:
            s_ip = int(ipaddress.IPv4Address(src_ip))
        except ValueError:
            raise SelectorError(f"'{src_ip}' is not an IPv4 address") from None
    else:
        s_ip = fw.primary_address(source)
        if s_ip is None:
            raise SelectorError(f"node '{source}' has no address to send from; give --src-ip")
    if proto not in ("tcp", "udp", "icmp"):
        raise SelectorError(f"protocol '{proto}' is not one of tcp, udp, icmp")
    for name, port in (("sport", sport), ("dport", dport)):
        if not 0 <= port <= 65535:
            raise SelectorError(f"{name} {port} is not a port (0-65535)")
    if not 0 <= icmp_type <= 255:
        raise SelectorError(f"ICMP type {icmp_type} is out of range (0-255)")
    header = Header.make(s_ip, dst_ip, proto, sport, dport, icmp_type=icmp_type)
    sessions = sessions if sessions is not None else Sessions()
    steps = fw.walk(source, header, sessions=sessions, choices=choices)
    return trace_from_steps(net, steps, source, dst_node or ipaddress.IPv4Address(dst_ip).compressed, sessions, dst_node)


def trace_from_steps(net: Network, steps: list[Step], source: str, dst_label: str, sessions: Sessions | None = None,
                     dst_node: str | None = None) -> Trace:
    """The trace of engine steps already walked (delivered means: to ``dst_node``, when given)."""
    last = steps[-1]
    delivered = last.decision == "delivered" and (dst_node is None or last.node == dst_node)
    reason = _reason(steps)
    if last.decision == "delivered" and not delivered:
        reason = f"delivered to {last.node}, not to {dst_node}"
    return Trace(delivered, hops_from_steps(net, steps), reason, source, dst_label, sessions)


def reply(net: Network, forward: Trace) -> Trace:
    """The answer to a delivered trace's packet, sent back with the forward trip's sessions (stateful firewalls, NAT)."""
    if not forward.delivered:
        raise ValueError("only a delivered packet gets a reply")
    fw = build_forwarding(net)
    last = forward.hops[-1]
    h = last.header
    assert h is not None
    back = Header(h.dst, h.src, h.proto, h.dport, h.sport, reply=True)
    if h.proto == 1:
        back = back._replace(sport=0, dport=0)  # echo reply
    first = forward.hops[0].header
    steps = fw.walk(last.node, back, sessions=forward.sessions if forward.sessions is not None else Sessions())
    owner = fw.routing.address_owner.get(first.src) if first is not None else None
    return trace_from_steps(net, steps, last.node, forward.src, forward.sessions, owner[0] if owner else None)


@dataclass(frozen=True)
class RoundTrip:
    """A packet and its answer: the answer is traced only when the packet arrived and one was asked for."""

    forward: Trace
    back: Trace | None = None

    @property
    def delivered(self) -> bool:
        """The packet arrived and, when an answer was traced, the answer came back."""
        return self.forward.delivered and (self.back is None or self.back.delivered)

    @property
    def failed(self) -> Trace | None:
        """The trace that did not arrive (the packet's or the answer's), or None."""
        if not self.forward.delivered:
            return self.forward
        if self.back is not None and not self.back.delivered:
            return self.back
        return None

    @property
    def hops(self) -> tuple[Hop, ...]:
        """Every hop there and back, in order (what a capture along the way would hold)."""
        return self.forward.hops + (self.back.hops if self.back is not None else ())

    def joined(self) -> Trace:
        """Both ways as one trace (for a pcap of the whole conversation)."""
        first = self.failed or self.forward
        return Trace(self.delivered, self.hops, first.reason, self.forward.src, self.forward.dst)

    def text(self) -> str:
        return "\n".join(t.text() for t in (self.forward, self.back) if t is not None)

    def to_json(self) -> dict:
        data = self.forward.to_json()
        if self.back is not None:
            data["reply"] = self.back.to_json()
        return data


def round_trip(net: Network, src: str, dst: str, proto: str = "tcp", sport: int = 40000, dport: int = 443,
               src_ip: str | None = None, icmp_type: int = 8, answer: bool = True) -> RoundTrip:
    """:func:`trace` of the packet and, when it arrives and ``answer`` is set, :func:`reply` of its answer."""
    forward = trace(net, src, dst, proto, sport, dport, src_ip, icmp_type)
    back = reply(net, forward) if answer and forward.delivered else None
    return RoundTrip(forward, back)


class RoundTrips:
    """Round trips of probes on one network, each answered once per class of alike senders.

    Two senders are *alike* when they have the same attachment
    (:meth:`Forwarder.attachment`): hosts, servers or MCUs hanging off the
    same forwarding node R alike. A round trip is *plain* when every node on its way but the
    sender decides without looking at the source
    (:meth:`Forwarder.source_blind`) and takes its only next hop. A plain
    round trip that arrived holds for every sender alike: the way to the
    target is the same from R on, and the way back leads to R as for the
    first sender, since nothing on it looks at anything but the destination,
    which routes alike to every host hanging off R. Everything else is traced
    for each sender.

        >>> trips = RoundTrips(net)
        >>> trips.get("双柏县财政局", "楚雄州行政审批服务器", "tcp", 443).delivered
        True
    """

    def __init__(self, net: Network):
        self.net = net
        self.fw = build_forwarding(net)
        self._trips: dict[tuple, RoundTrip | None] = {}
        self._shared: dict[tuple, RoundTrip] = {}

    def get(self, src: str, dst: str, proto: str, dport: int, answer: bool = True) -> RoundTrip | None:
        """The round trip of a probe to node ``dst`` (``dport``: the ICMP type for icmp); None when an end has
        no address."""
        key = (src, dst, proto, dport, answer)
        if key in self._trips:
            return self._trips[key]
        alike = self.fw.attachment(src)
        shared = self._shared.get((alike, dst, proto, dport, answer)) if alike is not None else None
        if shared is not None:
            return shared
        try:
            if proto == "icmp":
                trip = round_trip(self.net, src, dst, "icmp", 0, 0, icmp_type=dport, answer=answer)
            else:
                trip = round_trip(self.net, src, dst, proto, 40000, dport, answer=answer)
        except SelectorError:
            trip = None
        self._trips[key] = trip
        if trip is not None and alike is not None and trip.delivered and self._plain(trip):
            self._shared[(alike, dst, proto, dport, answer)] = trip
        return trip

    def __len__(self) -> int:
        return len(self._trips)

    def carried(self, net: Network, changed: frozenset[str]) -> RoundTrips:
        """The round trips of ``net``, a later version of this network with the same forwarding
        (:func:`simulator.carry.carry_over`) but at the nodes of ``changed``: every round trip kept that meets
        none of them (a hop is decided by its node's state alone), the rest left to be traced again."""
        out = RoundTrips(net)
        out._trips = {key: trip for key, trip in self._trips.items() if key[0] not in changed and key[1] not in changed
                      and (trip is None or not _meets(trip, changed))}
        out._shared = {key: trip for key, trip in self._shared.items()
                       if not _meets(trip, changed) and key[1] not in changed
                       and (key[0] is None or key[0][0] not in changed)}
        return out

    def _plain(self, trip: RoundTrip) -> bool:
        sender = trip.forward.src
        return all(h.node == sender or ((self.fw.source_blind(h.node) and h.rule is None and h.decision != "encapsulated")
                   and h.branches == 1) for h in trip.hops)


def _meets(trip: RoundTrip, nodes: frozenset[str]) -> bool:
    return any(h.node in nodes for h in trip.hops)


def round_trips(net: Network) -> RoundTrips:
    """The round trips of probes on ``net``, shared by everything that asks (cached on the network)."""
    return net.cached(RoundTrips)


def trace_text(t: Trace) -> str:
    """The trace as a table a security officer can read."""
    first = t.hops[0].header if t.hops else None
    lines = [f"trace {first} from {t.src} to {t.dst}" if first is not None else f"trace from {t.src} to {t.dst}"]
    width = max((len(h.node) for h in t.hops), default=4)
    for i, hop in enumerate(t.hops, 1):
        where = f"{hop.in_if or '-'} -> {hop.out_if or '-'}"
        what = hop.decision
        if hop.rule is not None:
            what += f" [{hop.rule.acl} #{hop.rule.index} {hop.rule.action}]"
        packet = hop.packet.summary() if hop.packet is not None else ""
        lines.append(f"{i:3d}  {hop.node:<{width}}  {where:<24} {what}")
        if hop.detail:
            lines.append(f"{'':5}{'':<{width}}  {'':<24} {hop.detail}")
        lines.append(f"{'':5}{'':<{width}}  {'':<24} {packet}")
    lines.append(("DELIVERED: " if t.delivered else "DROPPED: ") + t.reason)
    return "\n".join(lines) + "\n"
