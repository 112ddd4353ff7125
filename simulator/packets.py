"""Packets: the integer header the forwarding engine decides on, and its scapy form.

Definition. A :class:`Header` is the part of an IPv4 packet forwarding looks
at, as plain ints: ``src``, ``dst``, ``proto`` (IP protocol number), ``sport``,
``dport`` and ``ttl``. ICMP carries its type in ``dport`` and its code in
``sport`` (see :mod:`simulator.headerspace`). A tunnelled packet is an outer
header (ESP or GRE between the tunnel endpoints) whose ``inner`` is the
original header and whose ``tunnel`` names the tunnel.

The engine decides on headers (fast: no scapy attribute access on the hot
path); :func:`to_scapy` turns a header into the real scapy packet of the same
bytes on the wire, for traces and pcaps. An encapsulated header becomes a real
ESP packet encrypted with the tunnel's security association (its inner header
cannot be read) or a GRE packet.

Example::

    >>> h = Header.make("10.0.0.1", "10.0.0.9", "tcp", 40000, 443)
    >>> to_scapy(h).summary()
    'IP / TCP 10.0.0.1:40000 > 10.0.0.9:https S / Raw'
    >>> from_scapy(to_scapy(h)) == h
    True
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import NamedTuple

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.packet import Packet, Raw

from topology.vocabulary import ESP as P_ESP
from topology.vocabulary import GRE as P_GRE
from topology.vocabulary import ICMP as P_ICMP
from topology.vocabulary import PROTO_NAMES, PROTO_NUMBERS
from topology.vocabulary import TCP as P_TCP
from topology.vocabulary import UDP as P_UDP

DEFAULT_TTL = 64
PAYLOAD = b"govnet probe"


class Header(NamedTuple):
    src: int
    dst: int
    proto: int
    sport: int
    dport: int
    ttl: int = DEFAULT_TTL
    inner: Header | None = None
    tunnel: str | None = None
    reply: bool = False

    @classmethod
    def make(cls, src: str | int, dst: str | int, proto: str | int = "tcp", sport: int = 40000, dport: int = 443,
             ttl: int = DEFAULT_TTL, icmp_type: int = 8, reply: bool = False) -> Header:
        """A header from text: ``proto`` by name or number; ICMP takes ``icmp_type`` (ports ignored)."""
        p = PROTO_NUMBERS[proto] if isinstance(proto, str) else proto
        if p == P_ICMP:
            sport, dport = 0, icmp_type
        elif p not in (P_TCP, P_UDP):
            sport = dport = 0
        return cls(_ip(src), _ip(dst), p, sport, dport, ttl, None, None, reply)

    def fields(self) -> tuple[int, int, int, int, int]:
        """The five header-space fields."""
        return (self.src, self.dst, self.proto, self.sport, self.dport)

    def innermost(self) -> Header:
        h = self
        while h.inner is not None:
            h = h.inner
        return h

    def to_json(self) -> dict:
        out = {
            "src": str(ipaddress.IPv4Address(self.src)),
            "dst": str(ipaddress.IPv4Address(self.dst)),
            "proto": proto_name(self.proto),
            "ttl": self.ttl,
        }
        if self.proto in (P_TCP, P_UDP):
            out["sport"], out["dport"] = self.sport, self.dport
        elif self.proto == P_ICMP:
            out["icmp_type"] = self.dport
        if self.tunnel is not None:
            out["tunnel"] = self.tunnel
        if self.inner is not None:
            out["inner"] = self.inner.to_json()
        return out

    def __str__(self) -> str:
        text = f"{proto_name(self.proto)} {ipaddress.IPv4Address(self.src)}"
        if self.proto in (P_TCP, P_UDP):
            text += f":{self.sport} -> {ipaddress.IPv4Address(self.dst)}:{self.dport}"
        elif self.proto == P_ICMP:
            text += f" -> {ipaddress.IPv4Address(self.dst)} type {self.dport}"
        else:
            text += f" -> {ipaddress.IPv4Address(self.dst)}"
        text += f" ttl {self.ttl}"
        if self.inner is not None:
            text += f" [{self.tunnel}: {self.inner}]"
        return text


def _ip(value: str | int) -> int:
    return value if isinstance(value, int) else int(ipaddress.IPv4Address(value))


def proto_name(proto: int) -> str:
    return PROTO_NAMES.get(proto, str(proto))


def plain_scapy(h: Header) -> Packet:
    """The scapy packet of a header without encapsulation."""
    ip = IP(src=str(ipaddress.IPv4Address(h.src)), dst=str(ipaddress.IPv4Address(h.dst)), ttl=h.ttl, id=1)
    if h.proto == P_TCP:
        return ip / TCP(sport=h.sport, dport=h.dport, flags="SA" if h.reply else "S", seq=1000) / Raw(PAYLOAD)
    if h.proto == P_UDP:
        return ip / UDP(sport=h.sport, dport=h.dport) / Raw(PAYLOAD)
    if h.proto == P_ICMP:
        return ip / ICMP(type=h.dport, code=h.sport, id=1, seq=1) / Raw(PAYLOAD)
    ip.proto = h.proto
    return ip / Raw(PAYLOAD)


def to_scapy(h: Header, tunnels: Mapping | None = None, cache: dict | None = None) -> Packet:
    """The scapy packet on the wire for ``h``; tunnels (name -> model Tunnel) are needed for encapsulated headers.

    ``cache`` (optional) keeps the encrypted payload of each (tunnel, inner) so
    the hops of one trace share one ESP packet with only the outer TTL changing.
    """
    if h.inner is None:
        return plain_scapy(h)
    from .tunnels import encapsulate

    if tunnels is None or h.tunnel not in tunnels:
        raise ValueError(f"cannot build the packet of tunnel {h.tunnel!r}: its definition is missing")
    inner = to_scapy(h.inner, tunnels, cache)
    key = (h.tunnel, h.src, h.dst, h.inner)
    outer = cache.get(key) if cache is not None else None
    if outer is None:
        outer = encapsulate(tunnels[h.tunnel], inner, h.src, h.dst)
        if cache is not None:
            cache[key] = outer
    pkt = outer.copy()
    pkt[IP].ttl = h.ttl
    return pkt


def from_scapy(pkt: Packet) -> Header:
    """The header of a plain (not encapsulated) scapy IP packet."""
    ip = pkt[IP]
    src, dst = int(ipaddress.IPv4Address(ip.src)), int(ipaddress.IPv4Address(ip.dst))
    if TCP in pkt:
        return Header(src, dst, P_TCP, pkt[TCP].sport, pkt[TCP].dport, ip.ttl, reply="A" in str(pkt[TCP].flags))
    if UDP in pkt:
        return Header(src, dst, P_UDP, pkt[UDP].sport, pkt[UDP].dport, ip.ttl)
    if ICMP in pkt:
        return Header(src, dst, P_ICMP, pkt[ICMP].code, pkt[ICMP].type, ip.ttl)
    return Header(src, dst, ip.proto, 0, 0, ip.ttl)


__all__ = ["DEFAULT_TTL", "P_ESP", "P_GRE", "Header", "from_scapy", "plain_scapy", "proto_name", "to_scapy"]
