"""The user-space tunnel endpoints of a lab: ESP and GRE over TUN devices, with scapy.

The kernels of this project's machines have no usable XFRM and no GRE
devices, so each tunnel end is a TUN device in the endpoint's namespace and
this process does what the kernel would: a packet the kernel routes into
the TUN device (the tunnel's selector, see :mod:`simulator.lab.fib`) is
encapsulated with the simulator's own :func:`simulator.tunnels.encapsulate`
(ESP encrypted with the keys govnet derives from the tunnel's name, or GRE)
and sent from the endpoint's underlay address through a raw socket, so the
kernel routes and filters the outer packet like any other; an ESP or GRE
packet of the tunnel delivered to the endpoint is decapsulated with
:func:`simulator.tunnels.decapsulate` (ESP is decrypted and authenticated)
and the inner packet is written into the TUN device, where the kernel
receives it and decides it again, as the simulator's step 4 does.

The outer packet carries the inner packet's IP identification, so the lab
can follow one checked packet through its tunnel. Run as
``python -m simulator.lab.tunneld STATE_FOLDER`` (``lab up`` starts it inside
the lab's first namespace, so ``lab down`` finds it by namespace); it writes
``tunneld.ready`` when every endpoint is open and stops on SIGTERM.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import socket
import struct
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from topology.model import Tunnel

from ..forwarding import build_forwarding
from ..headerspace import ip_text
from ..tunnels import TunnelEnd, decapsulate, encapsulate
from .firewall import TUNNEL_MARK
from .netns import inside
from .network import lab_network
from .state import load_state

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
SO_MARK = 36
OUTER_TTL = 64


def open_tun(name: str) -> int:
    """Attach to the (persistent) TUN device ``name`` of the current namespace; its file descriptor."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


@dataclass
class Endpoint:
    """One tunnel end: its TUN device, and raw sockets to receive and send the outer packets."""

    end: TunnelEnd
    tunnel: Tunnel
    tun: int
    recv: socket.socket
    send: socket.socket
    seq: int = 0

    def encapsulate(self, data: bytes) -> None:
        from scapy.layers.inet import IP

        if self.end.address is None or self.end.peer_address is None or len(data) < 20 or data[0] >> 4 != 4:
            return
        inner = IP(data)
        self.seq += 1
        outer = encapsulate(self.tunnel, inner, self.end.address, self.end.peer_address, self.seq)
        outer[IP].id = inner.id
        outer[IP].ttl = OUTER_TTL
        del outer[IP].chksum
        self.send.sendto(bytes(outer), (ip_text(self.end.peer_address), 0))

    def decapsulate(self, data: bytes) -> None:
        from scapy.layers.inet import IP

        if len(data) < 28 or self.end.address is None or self.end.peer_address is None:
            return
        header = (data[0] & 0x0F) * 4
        src, dst = struct.unpack("!II", data[12:20])
        if src != self.end.peer_address or dst != self.end.address:
            return
        if self.end.kind != "gre" and struct.unpack("!I", data[header:header + 4])[0] != self.tunnel.spi:
            return
        try:
            inner = decapsulate(self.tunnel, IP(data))
        except Exception as exc:
            print(f"{self.end.node}: dropped an outer packet of {self.end.tunnel}: {exc}", flush=True)
            return
        os.write(self.tun, bytes(inner))


def open_endpoints(folder: Path) -> list[Endpoint]:
    state = load_state(folder)
    if state is None:
        raise SystemExit(f"no lab in {folder}")
    net = lab_network(state.plan, state.phase, state.select)
    fw = build_forwarding(net)
    out = []
    for d in state.devices:
        if d.tunnel is None:
            continue
        end = next(e for e in fw.tunnels[d.tunnel] if e.node == d.node)
        with inside(state.namespaces[d.node]):
            tun = open_tun(d.dev)
            recv = socket.socket(socket.AF_INET, socket.SOCK_RAW, end.proto)
            send = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            send.setsockopt(socket.SOL_SOCKET, SO_MARK, TUNNEL_MARK)
        out.append(Endpoint(end, net.tunnels[d.tunnel], tun, recv, send))
    return out


def serve(endpoints: list[Endpoint]) -> None:
    """Move packets between the TUN devices and the raw sockets until SIGTERM."""
    poller = select.epoll()
    by_fd: dict[int, tuple[Endpoint, bool]] = {}
    for ep in endpoints:
        poller.register(ep.tun, select.EPOLLIN)
        poller.register(ep.recv.fileno(), select.EPOLLIN)
        by_fd[ep.tun] = (ep, True)
        by_fd[ep.recv.fileno()] = (ep, False)
    while True:
        for fd, _ in poller.poll(1.0):
            ep, from_tun = by_fd[fd]
            try:
                if from_tun:
                    ep.encapsulate(os.read(fd, 65535))
                else:
                    ep.decapsulate(ep.recv.recv(65535))
            except OSError as exc:
                print(f"{ep.end.node} {ep.end.tunnel}: {exc}", flush=True)


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        endpoints = open_endpoints(folder)
    except Exception:
        traceback.print_exc()
        return 1
    (folder / "tunneld.ready").write_text(f"{len(endpoints)} endpoints\n")
    print(f"{len(endpoints)} tunnel endpoints ready", flush=True)
    serve(endpoints)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
