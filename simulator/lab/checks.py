"""The packets a lab run checks, each decided by the simulator first.

- ``flow``: every demand of the plan (its traffic flows and the video
  cascade, :func:`simulator.traffic.demands`) as the packet the simulator
  sends for it (:func:`simulator.load.demand_header`); a TCP demand that
  arrives is answered (``reply``), through the same sessions and NAT;
- ``reach``: the representative packet of every class of packets
  :func:`simulator.reach.reach` finds across each boundary: from the nodes
  of a domain (all, or a deterministic sample of ``max_sources``: reach costs
  the simulator some 80 ms per source on a prefecture) to every node of
  another domain joined to it by a link (at most ``max_classes`` per
  boundary, in reach's order);
- ``evidence``: the packet of every failing rule's evidence that carries a
  trace (``govnet check``'s own evidence, from the plan's policies);
- ``pairs``: between ordered pairs of nodes (all of them, or a deterministic
  sample of ``max_pairs``), a TCP, a UDP and an ICMP echo packet from the
  source's address to the destination's: the dropped packets are checked
  as much as the delivered ones;
- ``random`` (:func:`random_checks`, for tests): packets with random
  addresses of the plan (and one outside it), protocols and ports (ICMP:
  queries and messages no connection tracker follows, see :data:`ICMP_REQUESTS`).

Example::

    >>> Check("flow", "视频 a -> b", "a", Header.make("10.0.0.1", "10.0.0.2", "udp", 40000, 5004)).text()
    'flow 视频 a -> b: udp 10.0.0.1:40000 -> 10.0.0.2:5004 ttl 64 from a'
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from topology.model import Network
from topology.vocabulary import PROTO_NUMBERS

from ..forwarding import Forwarder
from ..packets import Header

KINDS = ("flow", "reply", "reach", "evidence", "pairs", "random")
PAIR_PACKETS = (("tcp", 40000, 443), ("udp", 40000, 53), ("icmp", 0, 8))
OUTSIDE = 0xC0000201  # 192.0.2.1: an address no plan owns
# ICMP types that open a session (echo, timestamp): Linux's conntrack, and so its NAT, tracks no other
# ICMP message that does not answer or belong to one; the simulator translates every packet (see the report)
ICMP_REQUESTS = (8, 13, 3, 4)  # queries, and messages no connection tracker follows (left alone by NAT)


@dataclass(frozen=True)
class Check:
    kind: str  # flow | reach | evidence (replies are made from delivered flows)
    label: str
    src: str
    header: Header
    answer: bool = False  # a reply is expected (TCP demands)

    def text(self) -> str:
        return f"{self.kind} {self.label}: {self.header} from {self.src}"


def flow_checks(net: Network, fw: Forwarder) -> list[Check]:
    from ..load import demand_header
    from ..traffic import demands

    out = []
    for demand in demands(net):
        if demand.src not in net.nodes or demand.dst not in net.nodes:
            continue
        header = demand_header(fw, demand)
        if header is not None:
            out.append(Check("flow", demand.label, demand.src, header, header.proto == PROTO_NUMBERS["tcp"]))
    return _unique(out)


def boundaries(net: Network) -> list[tuple[str, str]]:
    """Ordered pairs of distinct domains that some link joins (in plan order)."""
    pairs: dict[tuple[str, str], None] = {}
    for link in net.links.values():
        a, b = net.nodes[link.a].domain, net.nodes[link.b].domain
        if a != b:
            pairs[(a, b)] = None
            pairs[(b, a)] = None
    return list(pairs)


def sample(items: list[str], limit: int, seed: int = 0) -> list[str]:
    """``items`` if there are at most ``limit``, else a deterministic sample of ``limit`` of them, in their order."""
    if len(items) <= limit:
        return items
    chosen = set(random.Random(seed).sample(items, limit))
    return [i for i in items if i in chosen]


def reach_checks(net: Network, max_classes: int = 200, max_sources: int = 50,
                 notes: list[str] | None = None) -> list[Check]:
    from ..reach import reach

    out = []
    for a, b in boundaries(net):
        every = [n for n, node in net.nodes.items() if node.domain == a]
        sources = sample(every, max_sources)
        targets = [n for n, node in net.nodes.items() if node.domain == b]
        if notes is not None and len(sources) < len(every):
            notes.append(f"reach {a} -> {b}: from a sample of {len(sources)} of its {len(every)} nodes")
        for cls in reach(net, sources, targets)[:max_classes]:
            out.append(Check("reach", f"{a} -> {b}: {cls.src_node} -> {cls.dst_node} {cls.space}", cls.src_node,
                             _header(cls.representative)))
    return _unique(out)


def evidence_checks(net: Network, findings: Iterable[tuple[str, dict[str, Any]]]) -> list[Check]:
    """The packets of the evidence of failing rules: ``findings`` are (rule id, evidence data) pairs, as the
    compliance check (which lies above the simulator) reports them."""
    out = []
    for rule, data in findings:
        check = _evidence_packet(net, rule, data)
        if check is not None:
            out.append(check)
    return _unique(out)


def _evidence_packet(net: Network, rule: str, data: dict[str, Any]) -> Check | None:
    trace = data.get("trace")
    if not isinstance(trace, dict) or not trace.get("hops"):
        return None
    src = trace.get("src")
    if not isinstance(src, str):
        return None
    packet = data.get("packet")
    if not isinstance(packet, dict) or "src" not in packet:
        packet = trace["hops"][0].get("packet")  # as it left the source: the original is its innermost
        while isinstance(packet, dict) and isinstance(packet.get("inner"), dict):
            packet = packet["inner"]
    if src not in net.nodes or not isinstance(packet, dict) or "src" not in packet:
        return None
    return Check("evidence", f"{rule}: {trace.get('src')} -> {trace.get('dst')}", src, _header(packet))


def _header(packet: dict[str, Any]) -> Header:
    """A header from the JSON form of a packet (a reach representative, an evidence packet)."""
    proto = packet.get("proto", "tcp")
    number = PROTO_NUMBERS.get(proto, 6) if isinstance(proto, str) and not proto.isdigit() else int(proto)
    return Header.make(packet["src"], packet["dst"], number, int(packet.get("sport", 0)), int(packet.get("dport", 0)),
                       icmp_type=int(packet.get("icmp_type", 8)))


def pair_checks(net: Network, fw: Forwarder, max_pairs: int = 400, seed: int = 0) -> list[Check]:
    """TCP, UDP and ICMP echo between ordered pairs of nodes (a deterministic sample of ``max_pairs`` pairs)."""
    nodes = [n for n in net.nodes if fw.primary_address(n) is not None]
    pairs = [(a, b) for a in nodes for b in nodes if a != b]
    if len(pairs) > max_pairs:
        order = {n: i for i, n in enumerate(nodes)}
        pairs = sorted(random.Random(seed).sample(pairs, max_pairs), key=lambda p: (order[p[0]], order[p[1]]))
    out = []
    for a, b in pairs:
        for proto, sport, dport in PAIR_PACKETS:
            header = Header.make(fw.primary_address(a) or 0, fw.primary_address(b) or 0, proto, sport, dport,
                                 icmp_type=dport)
            out.append(Check("pairs", f"{a} -> {b} {proto}", a, header, proto == "tcp"))
    return _unique(out)


def random_checks(net: Network, fw: Forwarder, count: int, seed: int) -> list[Check]:
    """``count`` packets from random nodes with random plan addresses, protocols and ports (reproducible by ``seed``)."""
    rng = random.Random(seed)
    nodes = [n for n in net.nodes if fw.primary_address(n) is not None]
    addresses = sorted({int(a.ip) for n in net.nodes.values() for a in n.addresses}
                       | {int(n.lan.network_address) + 1 for n in net.nodes.values() if n.lan is not None})
    out: list[Check] = []
    for _ in range(count):
        src = rng.choice(nodes)
        s_ip = rng.choice([fw.primary_address(src) or OUTSIDE, rng.choice(addresses), OUTSIDE])
        proto = rng.choice(["tcp", "udp", "icmp"])
        ports = (0, rng.choice(ICMP_REQUESTS)) if proto == "icmp" else (rng.choice([40000, rng.randrange(0, 10)]),
                                                                    rng.choice([443, 53, rng.randrange(0, 10)]))
        header = Header.make(s_ip, rng.choice(addresses + [OUTSIDE]), proto, ports[0], ports[1], icmp_type=ports[1])
        out.append(Check("random", f"random #{len(out) + 1}", src, header))
    return _unique(out)


def _unique(checks: list[Check]) -> list[Check]:
    seen: dict[tuple, Check] = {}
    for c in checks:
        seen.setdefault((c.src, c.header.fields()), c)
    return list(seen.values())
