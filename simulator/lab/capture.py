"""Sending checked packets in a lab and seeing where the kernel takes them.

One :class:`Observer` opens, in every namespace of the lab, a packet socket
that sees every IPv4 packet on every device in both directions (the
capture), raw IP sockets of the checked protocols, which the kernel hands a
copy of every packet it *delivers* locally, after its input filter (the
delivery witness), and a raw sending socket whose packets carry the lab's
probe mark. A checked packet is the simulator's own packet
(:func:`simulator.packets.plain_scapy`) with a per-check IP identification;
NAT, the tunnel endpoints and forwarding keep that identification, so every
copy of the packet anywhere in the lab is told apart from every other check.

:func:`kernel_path` turns the captures of one packet into the kernel's story,
hop by hop, following each device to its veth peer: forwarded (in on one
device, out on another), encapsulated (out into a TUN device, then out as
ESP/GRE on the underlay), decapsulated (in as ESP/GRE, then in from the TUN
device), delivered (the delivery witness saw it) or stopped (nothing more).

Example::

    >>> h = parse(bytes.fromhex("450000280001000040060000c0000201c000020209c401bb00000000000000005002000000000000"))
    >>> (h.proto, h.sport, h.dport, h.ttl)
    (6, 2500, 443, 64)
"""

from __future__ import annotations

import resource
import select
import socket
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Self

from topology.vocabulary import ICMP, TCP, UDP

from ..headerspace import ip_text
from ..packets import Header
from .firewall import PROBE_MARK
from .netns import inside
from .state import Device, LabState

ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
PACKET_OUTGOING = 4
SO_MARK = 36
QUIET = 0.1
LIMIT = 3.0
MAX_HOPS = 256


def parse(data: bytes) -> Header:
    """The header of an IPv4 packet's bytes (ICMP: code in ``sport``, type in ``dport``, as the simulator has it)."""
    ihl = (data[0] & 0x0F) * 4
    ident, ttl, proto = struct.unpack("!H", data[4:6])[0], data[8], data[9]
    src, dst = struct.unpack("!II", data[12:20])
    sport = dport = 0
    if proto in (TCP, UDP) and len(data) >= ihl + 4:
        sport, dport = struct.unpack("!HH", data[ihl:ihl + 4])
    elif proto == ICMP and len(data) >= ihl + 2:
        dport, sport = data[ihl], data[ihl + 1]
    del ident
    return Header(src, dst, proto, sport, dport, ttl)


def ident(data: bytes) -> int:
    return struct.unpack("!H", data[4:6])[0]


@dataclass(frozen=True)
class Seen:
    """One copy of a checked packet on one device of one node: in, or out."""

    node: str
    dev: str
    out: bool
    header: Header
    data: bytes = field(repr=False)


@dataclass
class Capture:
    """Everything seen of one checked packet: per node in order, and the nodes that delivered it."""

    seen: dict[str, list[Seen]] = field(default_factory=dict)
    delivered: dict[str, list[Header]] = field(default_factory=dict)


class Observer:
    """The sockets of a lab that send checked packets and watch them (see the module docstring)."""

    def __init__(self, state: LabState, protocols: Iterable[int]):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = len(state.namespaces) * (3 + len(set(protocols))) + 256
        if soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(need, soft), hard), hard))
        self.poller = select.epoll()
        self.capture: dict[int, tuple[str, socket.socket]] = {}
        self.witness: dict[int, tuple[str, socket.socket]] = {}
        self.senders: dict[str, socket.socket] = {}
        self._sockets: list[socket.socket] = []
        for node, ns in state.namespaces.items():
            with inside(ns):
                cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
                cap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
                self._watch(self.capture, node, cap)
                for proto in sorted(set(protocols)):
                    self._watch(self.witness, node, socket.socket(socket.AF_INET, socket.SOCK_RAW, proto))
                send = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
                send.setsockopt(socket.SOL_SOCKET, SO_MARK, PROBE_MARK)
                self.senders[node] = send
                self._sockets.append(send)

    def _watch(self, into: dict[int, tuple[str, socket.socket]], node: str, sock: socket.socket) -> None:
        sock.setblocking(False)
        into[sock.fileno()] = (node, sock)
        self._sockets.append(sock)
        self.poller.register(sock.fileno(), select.EPOLLIN)

    def close(self) -> None:
        self.poller.close()
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, node: str, data: bytes) -> None:
        """Send a whole IPv4 packet from ``node`` (the kernel routes and filters it as the node's own)."""
        dst = ip_text(struct.unpack("!I", data[16:20])[0])
        try:
            self.senders[node].sendto(data, (dst, 0))
        except OSError:
            pass  # refused at the source (no route, filtered): nothing is seen, the packet stopped there

    def drain(self) -> None:
        """Forget whatever the sockets hold (before a batch)."""
        self.collect(quiet=0.0, limit=0.0, wanted=set())

    def collect(self, wanted: set[int], quiet: float = QUIET, limit: float = LIMIT) -> dict[int, Capture]:
        """Read every socket until nothing arrived for ``quiet`` seconds (at most ``limit``): captures by IP id."""
        out: dict[int, Capture] = {i: Capture() for i in wanted}
        start = last = time.monotonic()
        while True:
            now = time.monotonic()
            wait = max(0.0, min(last + quiet - now, start + limit - now))
            events = self.poller.poll(wait)
            if not events:
                if time.monotonic() >= last + quiet or time.monotonic() >= start + limit:
                    return out
                continue
            last = time.monotonic()
            for fd, _ in events:
                if fd in self.capture:
                    node, sock = self.capture[fd]
                    self._read_capture(node, sock, out)
                else:
                    node, sock = self.witness[fd]
                    self._read_witness(node, sock, out)

    @staticmethod
    def _read_capture(node: str, sock: socket.socket, out: dict[int, Capture]) -> None:
        while True:
            try:
                data, addr = sock.recvfrom(65535)
            except BlockingIOError:
                return
            dev, proto, pkttype = addr[0], addr[1], addr[2]
            if dev == "lo" or proto != ETH_P_IP or len(data) < 20 or data[0] >> 4 != 4:
                continue
            cap = out.get(ident(data))
            if cap is not None:
                cap.seen.setdefault(node, []).append(Seen(node, dev, pkttype == PACKET_OUTGOING, parse(data), data))

    @staticmethod
    def _read_witness(node: str, sock: socket.socket, out: dict[int, Capture]) -> None:
        while True:
            try:
                data = sock.recv(65535)
            except BlockingIOError:
                return
            if len(data) < 20:
                continue
            cap = out.get(ident(data))
            if cap is not None:
                cap.delivered.setdefault(node, []).append(parse(data))


@dataclass(frozen=True)
class KernelHop:
    """What the kernel did with the packet at one node; devices as plan interfaces (``tunnel:NAME`` for a TUN)."""

    node: str
    in_if: str | None
    out_if: str | None
    decision: str  # forwarded | encapsulated | decapsulated | delivered | stopped
    header: Header | None  # as it leaves (or, delivered or stopped, as it arrived)
    link: str | None = None
    data: bytes = field(default=b"", repr=False)


def kernel_path(src: str, cap: Capture, devices: dict[tuple[str, str], Device]) -> list[KernelHop]:
    """The kernel's story of one packet sent by ``src`` (see the module docstring)."""
    cursor: dict[str, int] = {}
    witnessed = {node: list(hs) for node, hs in cap.delivered.items()}

    def nxt(node: str) -> Seen | None:
        q = cap.seen.get(node, [])
        i = cursor.get(node, 0)
        return q[i] if i < len(q) else None

    def take(node: str) -> None:
        cursor[node] = cursor.get(node, 0) + 1

    def plan_if(node: str, dev: str) -> str | None:
        d = devices.get((node, dev))
        if d is None:
            return dev
        return f"tunnel:{d.tunnel}" if d.tunnel is not None else d.interface

    hops: list[KernelHop] = []
    node, in_if, arrived = src, None, None
    for _ in range(MAX_HOPS):
        e = nxt(node)
        d = devices.get((node, e.dev)) if e is not None else None
        if e is not None and e.out and d is not None and d.tunnel is not None:  # into a tunnel
            take(node)
            outer = nxt(node)
            od = devices.get((node, outer.dev)) if outer is not None else None
            if outer is None or not outer.out or od is None or od.tunnel is not None:
                hops.append(KernelHop(node, in_if, None, "stopped", e.header))
                return hops
            take(node)
            hops.append(KernelHop(node, in_if, od.interface, "encapsulated", outer.header, od.link, outer.data))
            e, d = outer, od
        elif e is not None and e.out and d is not None:
            take(node)
            hops.append(KernelHop(node, in_if, d.interface, "forwarded", e.header, d.link, e.data))
        elif e is not None and not e.out and d is not None and d.tunnel is not None and arrived is not None:
            take(node)  # out of a tunnel: the endpoint decapsulated what it received
            _witnessed(witnessed, node, arrived)
            hops.append(KernelHop(node, in_if, None, "decapsulated", e.header))
            in_if, arrived = plan_if(node, e.dev), e.header
            continue
        else:
            seen_here = _witnessed(witnessed, node, arrived)
            hops.append(KernelHop(node, in_if, None, "delivered" if seen_here else "stopped", arrived))
            return hops
        if d.peer_node is None or d.peer_dev is None:
            return hops
        peer, peer_dev = d.peer_node, d.peer_dev
        q = cap.seen.get(peer, [])
        i = cursor.get(peer, 0)
        while i < len(q) and not (not q[i].out and q[i].dev == peer_dev):
            i += 1
        if i >= len(q):
            hops.append(KernelHop(peer, plan_if(peer, peer_dev), None, "stopped", None))
            return hops
        cursor[peer] = i + 1
        node, in_if, arrived = peer, plan_if(peer, peer_dev), q[i].header
    hops.append(KernelHop(node, in_if, None, "stopped", arrived))
    return hops


def _witnessed(witnessed: dict[str, list[Header]], node: str, arrived: Header | None) -> bool:
    """Whether ``node`` delivered the packet (consumes that delivery): one of the protocol it arrived with.

    The addresses may differ: a reply is translated back (NAT) before it is delivered.
    """
    mine = witnessed.get(node, [])
    for i, h in enumerate(mine):
        if arrived is None or h.proto == arrived.proto:
            del mine[i]
            return True
    return False
