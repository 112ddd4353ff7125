"""Tunnels: IPsec ESP and GRE site-to-site tunnels, their selectors and their bytes.

Definition. A plan's tunnel joins endpoints ``a`` and ``b``. At either
endpoint *e* (peer *p*), a packet whose destination matches the selector of
*e* is encapsulated: an outer header from *e*'s underlay address to *p*'s,
protocol ESP (50) or GRE (47), is put around it and routed like any packet;
at *p* the outer packet is delivered locally and decapsulated, and the inner
packet is forwarded on from *p*.

- The underlay address of an endpoint is the address of its interface facing
  an untrusted domain (the internet), else facing another domain than the
  tunnel's, else its loopback, else its first interface address.
- The selector of *e*: the tunnel's ``protect`` prefixes, minus what lies on
  *e*'s own side (*e* injects those prefixes, and the far side's own
  addresses and LANs inside them, into the routing of its side); when ``protect`` is empty, the addresses and LANs of the
  nodes *behind p*: reached from *p* over nodes of trusted domains without
  passing through *e* (the endpoints' underlay addresses never match).
- ESP is real: :func:`encapsulate` encrypts with scapy's
  :class:`~scapy.layers.ipsec.SecurityAssociation` in tunnel mode, with keys
  derived from the tunnel name (deterministic, so pcaps are reproducible);
  cipher ``NULL`` gives ESP whose payload stays readable (a "clear" tunnel).
- A tunnel whose endpoint is missing, or whose outer packets do not get from
  one endpoint to the other, is down (decided by :mod:`simulator.forwarding`).

Example::

    >>> from topology.model import Tunnel
    >>> from scapy.layers.inet import IP, TCP
    >>> from scapy.layers.ipsec import ESP
    >>> t = Tunnel("vpn1", "ipsec", "a", "b", True, (), "AES-CBC", 0, None, 0x1000)
    >>> esp = encapsulate(t, IP(src="10.1.0.1", dst="10.2.0.1")/TCP(), 0xC0000201, 0xC0000202)
    >>> (esp[IP].proto, esp[ESP].spi, TCP in esp)
    (50, 4096, False)
    >>> decapsulate(t, esp)[TCP].dport
    80
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from scapy.layers.inet import IP
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import GRE
from scapy.packet import Packet

from topology.model import Network, Tunnel

from .headerspace import IntervalSet

ESP_AUTH = "HMAC-SHA1-96"


@dataclass(frozen=True)
class TunnelEnd:
    """One endpoint's view of a tunnel: what it encapsulates and where it sends it."""

    tunnel: str
    kind: str
    node: str
    peer: str
    address: int | None  # underlay address at this end
    peer_address: int | None
    underlay_if: str | None
    selector: IntervalSet  # destinations carried into the tunnel from this end
    proto: int  # 50 ESP or 47 GRE
    routes: tuple[tuple[int, int], ...] = ()  # (network, length) this end originates for the far side
    side: frozenset[str] = frozenset()  # the nodes behind this end, which learn those routes


def _key(name: str, purpose: str, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"govnet/{purpose}/{counter}/{name}".encode()).digest()
        counter += 1
    return out[:length]


def security_association(tunnel: Tunnel, src: int, dst: int) -> SecurityAssociation:
    """The ESP SA of ``tunnel`` for outer addresses ``src`` -> ``dst`` (keys derived from the name)."""
    outer = IP(src=str(ipaddress.IPv4Address(src)), dst=str(ipaddress.IPv4Address(dst)), id=1)
    cipher = tunnel.cipher if tunnel.encrypted else "NULL"
    if cipher == "AES-GCM":
        return SecurityAssociation(ESP, spi=tunnel.spi, crypt_algo="AES-GCM", crypt_key=_key(tunnel.name, "enc", 20),
                                   tunnel_header=outer)
    if cipher == "NULL":
        return SecurityAssociation(ESP, spi=tunnel.spi, crypt_algo="NULL", auth_algo=ESP_AUTH,
                                   auth_key=_key(tunnel.name, "auth", 20), tunnel_header=outer)
    return SecurityAssociation(ESP, spi=tunnel.spi, crypt_algo="AES-CBC", crypt_key=_key(tunnel.name, "enc", 16),
                               auth_algo=ESP_AUTH, auth_key=_key(tunnel.name, "auth", 20), tunnel_header=outer)


def _iv(tunnel: Tunnel, sa: SecurityAssociation, seq: int) -> bytes | None:
    size = sa.crypt_algo.iv_size
    return _key(f"{tunnel.name}/{seq}", "iv", size) if size else None


def encapsulate(tunnel: Tunnel, inner: Packet, src: int, dst: int, seq: int = 1) -> Packet:
    """``inner`` (an IP packet) inside the tunnel: ESP (encrypted per the tunnel) or GRE, outer ``src`` -> ``dst``."""
    if tunnel.kind == "gre":
        return IP(src=str(ipaddress.IPv4Address(src)), dst=str(ipaddress.IPv4Address(dst)), id=1) / GRE(proto=0x0800) / inner
    sa = security_association(tunnel, src, dst)
    pkt = sa.encrypt(inner.copy(), seq_num=seq, iv=_iv(tunnel, sa, seq))
    return IP(bytes(pkt))


def decapsulate(tunnel: Tunnel, outer: Packet) -> Packet:
    """The inner IP packet of an outer ESP or GRE packet of ``tunnel`` (ESP is decrypted and verified)."""
    if tunnel.kind == "gre":
        return IP(bytes(outer[GRE].payload))
    ip = outer[IP]
    sa = security_association(tunnel, int(ipaddress.IPv4Address(ip.src)), int(ipaddress.IPv4Address(ip.dst)))
    return IP(bytes(sa.decrypt(IP(bytes(outer)))))


# -- selectors -------------------------------------------------------------------
def underlay_interface(net: Network, tunnel: Tunnel, node: str) -> tuple[str | None, int | None]:
    """The interface and address an endpoint uses for the tunnel's outer packets (see the module docstring)."""
    n = net.nodes[node]
    domain = tunnel.domain or n.domain
    untrusted, foreign = [], []
    for name, iface in sorted(n.interfaces.items()):
        if iface.address is None or iface.link is None or iface.link not in net.links:
            continue
        peer = net.nodes[net.links[iface.link].other(node)]
        peer_domain = net.domains.get(peer.domain)
        if peer_domain is not None and not peer_domain.trusted:
            untrusted.append((name, int(iface.address.ip)))
        elif peer.domain != domain:
            foreign.append((name, int(iface.address.ip)))
    if untrusted:
        return untrusted[0]
    if foreign:
        return foreign[0]
    if n.loopback is not None:
        return None, int(n.loopback.ip)
    for name, iface in sorted(n.interfaces.items()):
        if iface.address is not None:
            return name, int(iface.address.ip)
    return None, None


def behind(net: Network, tunnel: Tunnel, node: str, other: str) -> list[str]:
    """Nodes behind endpoint ``node``: reached over trusted domains, never through ``other``.

    A site-to-site VPN protects everything on the far side that is not an
    untrusted medium: the far domain and the zones behind its firewalls.
    """
    seen = {node}
    order = [node]
    stack = [node]
    while stack:
        current = stack.pop()
        for link in net.links_of(current):
            nxt = link.other(current)
            if nxt in seen or nxt == other or not _trusted(net, nxt):
                continue
            seen.add(nxt)
            order.append(nxt)
            stack.append(nxt)
    return order


def _trusted(net: Network, node: str) -> bool:
    domain = net.domains.get(net.nodes[node].domain)
    return domain is None or domain.trusted


def _owned(net: Network, nodes: list[str], exclude: set[int]) -> list[tuple[int, int]]:
    """The prefixes (network, length) the nodes originate: their addresses and LANs."""
    out = []
    for name in nodes:
        n = net.nodes[name]
        for address in n.addresses:
            ip = int(address.ip)
            if ip not in exclude:
                out.append((ip, 32))
        if n.lan is not None:
            out.append((int(n.lan.network_address), n.lan.prefixlen))
    return out


def _intervals(prefixes: list[tuple[int, int]]) -> IntervalSet:
    return IntervalSet.of((net, net + (1 << (32 - length)) - 1) for net, length in prefixes)


def tunnel_ends(net: Network, tunnel: Tunnel) -> list[TunnelEnd]:
    """Both ends of ``tunnel`` (empty when an endpoint is missing from the network)."""
    if tunnel.a not in net.nodes or tunnel.b not in net.nodes:
        return []
    under = {e: underlay_interface(net, tunnel, e) for e in (tunnel.a, tunnel.b)}
    exclude = {ip for _, ip in under.values() if ip is not None}
    sides = {tunnel.a: behind(net, tunnel, tunnel.a, tunnel.b), tunnel.b: behind(net, tunnel, tunnel.b, tunnel.a)}
    prefixes = {e: _owned(net, sides[e], exclude) for e in sides}
    owned = {e: _intervals(prefixes[e]) for e in sides}
    protect = [(int(p.network_address), p.prefixlen) for p in tunnel.protect]
    out = []
    for end, peer in ((tunnel.a, tunnel.b), (tunnel.b, tunnel.a)):
        if protect:
            selector = _intervals(protect) - owned[end]
            # the protected prefixes, and what the far side originates inside them (as specific as its own routes)
            routes = [p for p in protect if _intervals([p]) & selector]
            routes += [p for p in prefixes[peer] if _intervals([p]) & selector]
        else:
            selector = owned[peer] - owned[end]
            routes = [p for p in prefixes[peer] if _intervals([p]) & selector]
        selector = selector - IntervalSet.of((ip, ip) for ip in exclude)
        out.append(TunnelEnd(
            tunnel=tunnel.name, kind=tunnel.kind, node=end, peer=peer, address=under[end][1],
            peer_address=under[peer][1], underlay_if=under[end][0], selector=selector,
            proto=50 if tunnel.kind == "ipsec" else 47, routes=tuple(sorted(set(routes))),
            side=frozenset(sides[end]),
        ))
    return out
