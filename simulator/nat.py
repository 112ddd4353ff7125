"""NAT: source masquerade at internet exits, and its return path.

Definition. An interface with ``nat: true`` rewrites the source address of
every packet leaving through it to the interface's own address (port kept:
one host per port pair, enough for a simulator). The firewall has already
decided on the untranslated packet (filter first, translate last, as Linux
does in POSTROUTING). The binding is remembered in the trace's
:class:`Sessions`, so the reply to the translated address is translated back
to the original host when it arrives; a packet to the translated address
without a binding is for the NAT device itself (the inside stays unreachable
from outside).

Sessions also give firewalls their state: a packet that is the reply of a
session a node permitted passes that node's ACLs and default action (never a
one-way gateway).

Example::

    >>> from simulator.packets import Header
    >>> s = Sessions()
    >>> out = masquerade(Header.make("10.0.0.5", "8.8.8.8", "udp", 5000, 53), 0xCB007101, "r1", s)
    >>> str(out)
    'udp 203.0.113.1:5000 -> 8.8.8.8:53 ttl 64'
    >>> str(s.translate_reply("r1", Header.make("8.8.8.8", "203.0.113.1", "udp", 53, 5000)))
    'udp 8.8.8.8:53 -> 10.0.0.5:5000 ttl 64'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topology.vocabulary import ICMP

from .packets import Header


def session_key(h: Header) -> tuple[int, int, int, int, int]:
    """The 5-tuple identifying a flow (ICMP: type and code ignored, so a reply matches its request)."""
    if h.proto == ICMP:
        return (h.src, h.dst, ICMP, 0, 0)
    return (h.src, h.dst, h.proto, h.sport, h.dport)


def reply_key(h: Header) -> tuple[int, int, int, int, int]:
    """The 5-tuple the reply of ``h`` will carry."""
    if h.proto == ICMP:
        return (h.dst, h.src, ICMP, 0, 0)
    return (h.dst, h.src, h.proto, h.dport, h.sport)


@dataclass
class Sessions:
    """Per-node state of one conversation: flows permitted, and NAT bindings."""

    flows: set = field(default_factory=set)  # (node, session key) of packets a node passed
    nat: dict = field(default_factory=dict)  # (node, reply key) -> (original src, original sport)

    def record(self, node: str, h: Header) -> None:
        self.flows.add((node, reply_key(h)))

    def is_reply(self, node: str, h: Header) -> bool:
        return (node, session_key(h)) in self.flows

    def bind(self, node: str, original: Header, translated: Header) -> None:
        self.nat[(node, reply_key(translated))] = (original.src, original.sport)

    def translate_reply(self, node: str, h: Header) -> Header | None:
        """The reply with its destination translated back, or None when no binding exists."""
        binding = self.nat.get((node, session_key(h)))
        if binding is None:
            return None
        src, sport = binding
        if h.proto == ICMP:
            return h._replace(dst=src)
        return h._replace(dst=src, dport=sport)


ICMP_QUERIES = frozenset({8, 13, 15, 17})  # echo, timestamp, information, address mask requests


def translated(h: Header) -> bool:
    """Whether source NAT rewrites ``h``, a packet that opens no known session: everything a connection
    tracker follows, which for ICMP is the queries (Linux leaves other ICMP messages, errors and answers
    that answer nothing, as they are: the lab shows it). Answers of a session are translated back by the
    session, not here.

    >>> translated(Header.make("10.0.0.5", "8.8.8.8", "icmp", icmp_type=8)), translated(
    ...     Header.make("10.0.0.5", "8.8.8.8", "icmp", icmp_type=4))
    (True, False)
    """
    return h.proto != ICMP or h.dport in ICMP_QUERIES


def masquerade(h: Header, address: int, node: str, sessions: Sessions | None) -> Header:
    """``h`` with its source rewritten to ``address``; the binding goes into ``sessions``."""
    out = h._replace(src=address)
    if sessions is not None:
        sessions.bind(node, h, out)
    return out
