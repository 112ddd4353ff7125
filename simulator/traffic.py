"""Traffic demands: the peak traffic a plan puts on its network, one demand per direction.

Definition. A *demand* is the peak rate (bit/s, at the IP layer, before any
tunnel overhead) that one service sends from one node to another. The
demands of a network are

1. every flow the plan's ``traffic:`` section expands to (document exchange
   between the three levels, e-mail, approvals, internet access per unit,
   video from terminals to their MCU ...), as :attr:`Network.flows` holds
   them: peak rates, not averages;
2. the **video cascade**: for every MCU with an ``mcu_parent``, one demand up
   to the parent and one down from it, each of
   ``CASCADE_FACTOR`` × (sum of the rates of the video *sites* below the MCU,
   its own included). The sites of an MCU are the distinct senders of video
   flows into it (rooms, desktop terminals) at their flow rate; an MCU nobody
   sends video to stands for one room of its own at the plan's video rate.
   A plan's own video flow between an MCU and its parent is replaced by the
   cascade demand, keeping the larger of the two rates.

The per-site video rate is the rate of the plan's first ``video`` service;
a plan without one gets :data:`DEFAULT_VIDEO_RATE` (720p). The defaults of
:data:`VIDEO_SITE_RATES` are planning figures (POLICY-SOURCES.md, [S]): a plan
overrides them by declaring its own video service.

Example: a prefecture MCU with two county MCUs below it, each one room at
2 Mb/s, and one room of its own::

    county MCU  -> prefecture MCU : 1.2 × 2 Mb/s       = 2.4 Mb/s  (and back)
    prefecture MCU -> province MCU: 1.2 × (2 + 2 + 2)  = 7.2 Mb/s  (and back)
"""

from __future__ import annotations

from topology.errors import GovnetError
from topology.model import Flow, Network

CASCADE_FACTOR = 1.2
VIDEO_SITE_RATES = {  # bit/s per site, [S] planning figures
    "720p": 2e6,
    "720p-dual": 3e6,
    "1080p": 3e6,
    "1080p-dual": 4e6,
}
DEFAULT_VIDEO_RATE = VIDEO_SITE_RATES["720p"]
DEFAULT_VIDEO_PACKET = 1200
CASCADE_SERVICE = "video-cascade"


class TrafficError(GovnetError):
    """The plan's traffic cannot be computed (e.g. the MCU cascade forms a cycle)."""


def demands(net: Network) -> tuple[Flow, ...]:
    """Every demand of ``net``: its flows, then the MCU cascade (cached on the network)."""
    return net.cached(_compute)


def video_rate(net: Network) -> tuple[float, int, str, int, str]:
    """(rate per site, packet size, protocol, port, service name) of the plan's video service."""
    for service in net.services.values():
        if service.kind == "video":
            return service.rate, service.packet_size, service.protocol, service.port, service.name
    return DEFAULT_VIDEO_RATE, DEFAULT_VIDEO_PACKET, "udp", 5004, CASCADE_SERVICE


def cascade_parents(net: Network) -> dict[str, str]:
    """MCU → its parent MCU, for MCUs whose parent exists in ``net``; raises on a cycle."""
    parents = {n.name: n.mcu_parent for n in net.nodes.values()
               if n.mcu_parent and n.mcu_parent in net.nodes and n.mcu_parent != n.name}
    for start in parents:
        seen = [start]
        node = parents.get(start)
        while node is not None:
            if node in seen:
                cycle = " -> ".join(seen[seen.index(node):] + [node])
                raise TrafficError(f"the MCU cascade forms a cycle: {cycle}; give the top MCU no mcu_parent")
            seen.append(node)
            node = parents.get(node)
    return parents


def site_rates(net: Network) -> dict[str, float]:
    """MCU → the video rate of the sites registered at it (its own room when nobody sends to it)."""
    parents = cascade_parents(net)
    mcus = set(parents) | set(parents.values()) | {n.name for n in net.nodes.values() if n.role == "mcu"}
    senders: dict[str, dict[str, float]] = {m: {} for m in mcus}
    for flow in net.flows:
        if flow.kind == "video" and flow.dst in senders and flow.src not in mcus:
            by_src = senders[flow.dst]
            by_src[flow.src] = max(by_src.get(flow.src, 0.0), flow.rate)
    rate = video_rate(net)[0]
    return {m: (sum(s.values()) if s else rate) for m, s in senders.items()}


def subtree_rates(net: Network) -> dict[str, float]:
    """MCU → the sum of the site rates of it and every MCU below it in the cascade."""
    parents = cascade_parents(net)
    own = site_rates(net)
    total = dict(own)
    for mcu in sorted(own):
        node = parents.get(mcu)
        while node is not None:  # add this MCU's own sites to every ancestor
            total[node] = total.get(node, 0.0) + own[mcu]
            node = parents.get(node)
    return total


def _compute(net: Network) -> tuple[Flow, ...]:
    parents = cascade_parents(net)
    pairs = {frozenset((m, p)) for m, p in parents.items()}
    planned: dict[tuple[str, str], float] = {}
    out: list[Flow] = []
    for flow in net.flows:
        if flow.kind == "video" and frozenset((flow.src, flow.dst)) in pairs:
            planned[(flow.src, flow.dst)] = max(planned.get((flow.src, flow.dst), 0.0), flow.rate)
            continue
        out.append(flow)
    if parents:
        totals = subtree_rates(net)
        _, size, proto, port, service = video_rate(net)
        for mcu, parent in parents.items():
            rate = CASCADE_FACTOR * totals[mcu]
            mark = net.nodes[mcu].mark
            for src, dst in ((mcu, parent), (parent, mcu)):
                out.append(Flow(service, "video", src, dst, max(rate, planned.get((src, dst), 0.0)), size,
                                proto, port, max(net.nodes[src].phase, net.nodes[dst].phase), mark, "cascade"))
    return tuple(out)
