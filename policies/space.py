"""Header space as boxes: which packets an ACL rule matches, and set algebra on them.

A packet is a point in six dimensions: source address, destination address,
protocol, source port, destination port, ICMP type. A rule matches a *box*
(an interval per dimension): prefixes are intervals of addresses, ``ip``
spans every protocol, a rule without ports spans every port. Ports mean
nothing to ICMP, ESP or GRE and ICMP types nothing to TCP; since no rule ever
narrows a dimension that does not apply to its protocol, treating such a
dimension as "any value" keeps box algebra exact on the packets themselves.

Subtracting a box from a box leaves at most twelve disjoint boxes, so "is
this rule covered by the rules before it?" is answered exactly by
subtracting each earlier box in turn.

    >>> box = rule_box(rule)                            # doctest: +SKIP
    >>> covered(box, [rule_box(r) for r in earlier])    # doctest: +SKIP
    True
"""

from __future__ import annotations

import ipaddress

from topology.model import Rule

PROTOCOLS = ("tcp", "udp", "icmp", "esp", "gre", "other")
PROTO_INDEX = {p: i for i, p in enumerate(PROTOCOLS)}
DIMENSIONS = ("src", "dst", "proto", "sport", "dport", "icmp_type")
FULL: tuple[tuple[int, int], ...] = (
    (0, 2**32 - 1), (0, 2**32 - 1), (0, len(PROTOCOLS) - 1), (0, 65535), (0, 65535), (0, 255),
)
MAX_PIECES = 20000

Box = tuple[tuple[int, int], ...]


class TooComplex(Exception):
    """The subtraction split into more pieces than :data:`MAX_PIECES`."""


def prefix_interval(prefix: ipaddress.IPv4Network) -> tuple[int, int]:
    return int(prefix.network_address), int(prefix.broadcast_address)


def proto_interval(proto: str) -> tuple[int, int]:
    if proto == "ip":
        return FULL[2]
    i = PROTO_INDEX.get(proto, PROTO_INDEX["other"])
    return (i, i)


def make_box(src: ipaddress.IPv4Network | None = None, dst: ipaddress.IPv4Network | None = None, proto: str = "ip",
             sport: tuple[int, int] | None = None, dport: tuple[int, int] | None = None,
             icmp_type: int | None = None) -> Box:
    return (
        prefix_interval(src) if src is not None else FULL[0],
        prefix_interval(dst) if dst is not None else FULL[1],
        proto_interval(proto),
        tuple(sport) if sport is not None else FULL[3],  # type: ignore[return-value]
        tuple(dport) if dport is not None else FULL[4],  # type: ignore[return-value]
        (icmp_type, icmp_type) if icmp_type is not None else FULL[5],
    )


def rule_box(rule: Rule) -> Box:
    return make_box(rule.src, rule.dst, rule.proto, rule.sport, rule.dport, rule.icmp_type)


def is_full(box: Box) -> bool:
    return tuple(box) == FULL


def intersect(a: Box, b: Box) -> Box | None:
    out = []
    for (alo, ahi), (blo, bhi) in zip(a, b):
        lo, hi = max(alo, blo), min(ahi, bhi)
        if lo > hi:
            return None
        out.append((lo, hi))
    return tuple(out)


def contains(outer: Box, inner: Box) -> bool:
    return all(olo <= ilo and ihi <= ohi for (olo, ohi), (ilo, ihi) in zip(outer, inner))


def subtract(box: Box, other: Box) -> list[Box]:
    """``box`` minus ``other`` as disjoint boxes."""
    cut = intersect(box, other)
    if cut is None:
        return [box]
    pieces = []
    rest = list(box)
    for dim, ((lo, hi), (clo, chi)) in enumerate(zip(box, cut)):
        if lo < clo:
            pieces.append(tuple(rest[:dim] + [(lo, clo - 1)] + rest[dim + 1:]))
        if chi < hi:
            pieces.append(tuple(rest[:dim] + [(chi + 1, hi)] + rest[dim + 1:]))
        rest[dim] = (clo, chi)
    return pieces


def difference(box: Box, others: list[Box]) -> list[Box]:
    """What of ``box`` no box of ``others`` covers; raises :class:`TooComplex` past the piece limit."""
    remaining = [box]
    for other in others:
        nxt: list[Box] = []
        for piece in remaining:
            nxt.extend(subtract(piece, other))
        remaining = nxt
        if not remaining:
            break
        if len(remaining) > MAX_PIECES:
            raise TooComplex
    return remaining


def covered(box: Box, others: list[Box]) -> bool:
    """Whether the union of ``others`` covers ``box``."""
    relevant = [o for o in others if intersect(box, o) is not None]
    if any(contains(o, box) for o in relevant):
        return True
    try:
        return not difference(box, relevant)
    except TooComplex:
        return False


def describe_box(box: Box) -> str:
    """``tcp 10.0.0.0/8 → 10.1.2.3 dport 443`` (a readable summary of a box)."""
    def addr(interval: tuple[int, int]) -> str:
        lo, hi = interval
        if (lo, hi) == FULL[0]:
            return "any"
        nets = list(ipaddress.summarize_address_range(ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi)))
        text = ",".join(str(n) if n.prefixlen < 32 else str(n.network_address) for n in nets[:3])
        return text + (",..." if len(nets) > 3 else "")

    plo, phi = box[2]
    proto = "ip" if (plo, phi) == FULL[2] else "/".join(PROTOCOLS[plo:phi + 1])
    text = f"{proto} {addr(box[0])} → {addr(box[1])}"
    for name, dim in (("sport", 3), ("dport", 4)):
        if box[dim] != FULL[dim]:
            lo, hi = box[dim]
            text += f" {name} {lo}" + (f"-{hi}" if hi != lo else "")
    if box[5] != FULL[5]:
        text += f" icmp-type {box[5][0]}" + (f"-{box[5][1]}" if box[5][1] != box[5][0] else "")
    return text
