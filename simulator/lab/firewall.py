"""A node's packet filter as an nftables ruleset: ACLs, default actions, sessions, NAT, one-way gateways.

Definition. The ruleset installs the simulator's filter semantics
(:mod:`simulator.forwarding`, steps 1, 9-12) with the simulator's own
compiled ACLs (:func:`simulator.acl.compile_acl`), rule by rule:

- every ACL on an interface becomes a chain of its rules in order; a permit
  sets bit 0 of the packet mark (*permitted*) and returns, a deny drops, and
  the fall-through is the node's default action (deny unless it says permit);
  a rule the simulator reads on a protocol range with ports is cut into a TCP/UDP, an
  ICMP (type and code) and an other-protocols part, as the simulator reads
  ports per protocol;
- ``forward`` (transit): the one-way gateway first (only the declared
  direction and protocols, replies included), then sessions (conntrack
  *reply* direction passes, as a reply of a session the node passed), the
  inbound ACL of the arrival interface, the outbound ACL of the egress one,
  and for a *boundary* (a firewall, or a node with a ``default_action``) the
  boundary default: nothing no ACL permitted passes unless the default is
  permit. A packet out of a tunnel counts as permitted; a packet into a
  tunnel is permitted when the underlay's outbound ACL permits its outer
  packet, which is constant per tunnel end and decided here with the same
  compiled ACL;
- ``input`` (delivered here): sessions, the inbound ACL, a tunnel's own outer
  packets (decapsulated before any boundary default, as in the simulator),
  the boundary default;
- ``output``: the node's own packets meet no ACL on a router; on a host or
  server its outbound ACL, and a tunnel end's outer packets the underlay's
  outbound ACL. Packets the kernel makes by itself (TCP resets, ICMP errors
  and echo replies) are dropped, so only the lab's probes and their
  encapsulations travel: the simulator sends no such answers;
- ``raw`` hooks put each checked packet in its own conntrack zone (its IP
  identification), so no check sees another's sessions or NAT bindings,
  as each simulator trace starts with fresh sessions;
- NAT: source NAT to the egress interface's address (``nat: true``), in
  postrouting after filtering, and conntrack translates the replies back.

Example::

    >>> import ipaddress
    >>> from topology.model import Acl, Rule
    >>> from simulator.acl import compile_acl
    >>> any4, web = ipaddress.IPv4Network("0.0.0.0/0"), ipaddress.IPv4Network("10.0.0.9/32")
    >>> acl = compile_acl(Acl("in", (Rule(1, "permit", any4, web, "tcp", None, (443, 443), None),)))
    >>> print("\\n".join(acl_rules(acl)))
    ip daddr 10.0.0.9 meta l4proto tcp th dport 443 meta mark set meta mark | 0x1 return
    drop
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from topology.vocabulary import ICMP, TCP, UDP

from ..acl import CompiledAcl
from ..forwarding import Forwarder
from ..headerspace import ip_text
from ..tunnels import TunnelEnd

PERMITTED = 0x1
PROBE_MARK = 0x6070  # packets the lab sends as checks
TUNNEL_MARK = 0x6080  # outer packets of the user-space tunnel endpoints
MARK_MASK = 0xFFF0
MAX_IP = 2**32 - 1
PORTS = (0, 65535)
_SET_PERMIT = f"meta mark set meta mark | {PERMITTED:#x} return"
KERNEL_ANSWERS = ("echo-reply", "destination-unreachable", "time-exceeded", "parameter-problem", "redirect")


@dataclass(frozen=True)
class Port:
    """One plan interface of the node as the kernel has it: its index, devices, address and peer's domain."""

    index: int
    devices: tuple[str, ...]
    address: int | None


def _addr(field: str, lo: int, hi: int) -> str | None:
    if (lo, hi) == (0, MAX_IP):
        return None
    if lo == hi:
        return f"ip {field} {ip_text(lo)}"
    size = hi - lo + 1
    if size & (size - 1) == 0 and lo % size == 0:
        return f"ip {field} {ip_text(lo)}/{32 - size.bit_length() + 1}"
    return f"ip {field} {ip_text(lo)}-{ip_text(hi)}"


def _range(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _protocols(lo: int, hi: int, exclude: Sequence[int]) -> list[tuple[int, int]]:
    """[lo, hi] without the protocol numbers in ``exclude``, as ranges."""
    out, start = [], lo
    for p in sorted(exclude):
        if lo <= p <= hi:
            if start <= p - 1:
                out.append((start, p - 1))
            start = p + 1
    if start <= hi:
        out.append((start, hi))
    return out


def rule_matches(rule: tuple) -> list[str]:
    """The nftables match expressions of one compiled rule (several when ports are read per protocol)."""
    _, _, sl, sh, dl, dh, pl, ph, spl, sph, dpl, dph = rule
    head = [m for m in (_addr("saddr", sl, sh), _addr("daddr", dl, dh)) if m]
    if (spl, sph) == PORTS and (dpl, dph) == PORTS:
        if (pl, ph) == (0, 255):
            return [" ".join(head)]
        return [" ".join(head + [f"meta l4proto {_range(pl, ph)}"])]
    out = []
    l4 = [p for p in (TCP, UDP) if pl <= p <= ph]
    if l4:
        names = {TCP: "tcp", UDP: "udp"}
        proto = names[l4[0]] if len(l4) == 1 else "{ tcp, udp }"
        parts = head + [f"meta l4proto {proto}"]
        if (spl, sph) != PORTS:
            parts.append(f"th sport {_range(spl, sph)}")
        if (dpl, dph) != PORTS:
            parts.append(f"th dport {_range(dpl, dph)}")
        out.append(" ".join(parts))
    if pl <= ICMP <= ph and dpl <= 255 and spl <= 255:
        parts = head + ["meta l4proto icmp"]
        if (dpl, min(dph, 255)) != (0, 255):
            parts.append(f"icmp type {_range(dpl, min(dph, 255))}")
        if (spl, min(sph, 255)) != (0, 255):
            parts.append(f"icmp code {_range(spl, min(sph, 255))}")
        out.append(" ".join(parts))
    if spl == 0 and dpl == 0:  # other protocols carry no ports: the simulator reads 0 for both
        others = _protocols(pl, ph, (ICMP, TCP, UDP))
        if others:
            out.append(" ".join(head + ["meta l4proto { " + ", ".join(_range(a, b) for a, b in others) + " }"]))
    return out


def acl_rules(acl: CompiledAcl) -> list[str]:
    """The rules of one ACL chain: first match, permit marks and returns, deny drops; then the fall-through."""
    lines = []
    for rule in acl.rules:
        verdict = _SET_PERMIT if rule[1] else "drop"
        for match in rule_matches(rule):
            lines.append(f"{match} {verdict}".strip())
    lines.append(_SET_PERMIT if acl.default_permit else "drop")
    return lines


def _names(devs: Sequence[str]) -> str:
    quoted = sorted(f'"{d}"' for d in devs)
    return quoted[0] if len(quoted) == 1 else "{ " + ", ".join(quoted) + " }"


def _chain(name: str, hook: str | None, priority: str, lines: Sequence[str]) -> list[str]:
    out = [f"  chain {name} {{"]
    if hook is not None:
        out.append(f"    type filter hook {hook} priority {priority}; policy accept;")
    out += [f"    {line}" for line in lines]
    out.append("  }")
    return out


def ruleset(fw: Forwarder, node: str, ports: Mapping[str, Port], tuns: Mapping[str, TunnelEnd],
            routing_protocol: bool = False) -> str:
    """The nftables ruleset of ``node`` (see the module docstring).

    ``ports``: plan interface name -> its devices; ``tuns``: TUN device ->
    the tunnel end it carries; ``routing_protocol``: let OSPF through
    whatever the ACLs say (the plan's ACLs filter traffic, not the lab's
    routing daemon, which the simulator does not model).
    """
    ns = fw.nodes[node]
    net = fw.net
    chains: list[str] = []
    fwd: list[str] = []
    inp: list[str] = ["ct direction reply accept", 'iifname "lo" accept']
    if routing_protocol:
        inp.insert(0, "ip protocol ospf accept")
    out: list[str] = [f"meta mark & {MARK_MASK:#x} != {{ {PROBE_MARK:#x}, {TUNNEL_MARK:#x} }} jump kernel_own"]
    acl_in_jumps, acl_out_jumps, tunnel_out_jumps, host_out_jumps = [], [], [], []
    for ifname, port in sorted(ports.items(), key=lambda kv: kv[1].index):
        state = ns.interfaces[ifname]
        if state.acl_in is not None:
            chains += _chain(f"acl_in_{port.index}", None, "", acl_rules(state.acl_in))
            acl_in_jumps.append(f"iifname {_names(port.devices)} jump acl_in_{port.index}")
        if state.acl_out is not None:
            chains += _chain(f"acl_out_{port.index}", None, "", acl_rules(state.acl_out))
            acl_out_jumps.append(f"oifname {_names(port.devices)} jump acl_out_{port.index}")
            tunnel_out_jumps.append(f"meta mark & {MARK_MASK:#x} == {TUNNEL_MARK:#x} oifname {_names(port.devices)} "
                                    f"jump acl_out_{port.index}")
            if not ns.forwarding:
                host_out_jumps.append(f"oifname {_names(port.devices)} jump acl_out_{port.index}")
    # one-way gateway: direction by the domain each side's neighbour is in, then the protocols
    if ns.gateway is not None:
        g = ns.gateway
        from_devs: list[str] = []
        to_devs: list[str] = []
        for ifname, port in ports.items():
            state = ns.interfaces[ifname]
            peer_domain = state.peer_domain if state.peer_domain is not None else ns.domain
            if peer_domain == g.from_domain:
                from_devs += port.devices
            if state.peer_domain == g.to_domain:
                to_devs += port.devices
        for dev, end in tuns.items():
            tunnel = net.tunnels.get(end.tunnel)
            if ((tunnel.domain if tunnel is not None else None) or ns.domain) == g.from_domain:
                from_devs.append(dev)
            hops = fw.outer_hops(end)
            if hops and ns.interfaces[hops[0].out_if].peer_domain == g.to_domain:
                to_devs.append(dev)
        gate = [f"iifname != {_names(from_devs)} drop" if from_devs else "drop",
                f"oifname != {_names(to_devs)} drop" if to_devs else "drop"]
        if "ip" not in g.allow:
            gate.append("meta l4proto != { " + ", ".join(sorted(set(g.allow))) + " } drop")
        fwd += gate
        probe = f"meta mark & {MARK_MASK:#x} == {PROBE_MARK:#x}"
        out += ([f"{probe} drop"] if ns.domain != g.from_domain else [f"{probe} {line}" for line in gate[1:]])
    fwd.append("ct direction reply accept")
    out.append("ct direction reply accept")
    if tuns:
        fwd.append(f"iifname {_names(list(tuns))} meta mark set meta mark | {PERMITTED:#x}")
        inp.append(f"iifname {_names(list(tuns))} accept")
    fwd += acl_in_jumps + acl_out_jumps
    for dev, end in sorted(tuns.items()):
        if _outer_permitted(fw, end):
            fwd.append(f'oifname "{dev}" meta mark set meta mark | {PERMITTED:#x}')
    inp += acl_in_jumps
    for end in ns.tunnel_ends:
        if end.address is None or end.peer_address is None:
            continue
        pair = f"ip saddr {ip_text(end.peer_address)} ip daddr {ip_text(end.address)}"
        tunnel = net.tunnels[end.tunnel]
        if end.kind == "gre":
            inp.append(f"{pair} ip protocol gre @th,16,16 0x800 accept")
        else:
            inp.append(f"{pair} esp spi {tunnel.spi} accept")
    if ns.boundary and not ns.default_permit:
        deny = f"meta mark & {PERMITTED:#x} == 0 drop"
        fwd.append(deny)
        inp.append(deny)
    out += tunnel_out_jumps
    out += [f"meta mark & {MARK_MASK:#x} == {PROBE_MARK:#x} {line}" for line in host_out_jumps]
    text = ["table ip govnet {"]
    text += chains
    text += _chain("kernel_own", None, "", ["tcp flags rst drop",
                                            "icmp type { " + ", ".join(KERNEL_ANSWERS) + " } drop", "accept"])
    text += _chain("c_raw_pre", "prerouting", "raw", ["ct zone set ip id"])
    text += _chain("c_raw_out", "output", "raw", ["ct zone set ip id"])
    text += _chain("c_forward", "forward", "filter", fwd)
    text += _chain("c_input", "input", "filter", inp)
    text += _chain("c_output", "output", "filter", out)
    text.append("}")
    nat = [f"oifname {_names(port.devices)} snat to {ip_text(port.address)}"
           for ifname, port in sorted(ports.items(), key=lambda kv: kv[1].index)
           if ns.interfaces[ifname].nat and port.address is not None]
    if nat:
        text += ["table ip govnat {", "  chain postrouting {",
                 "    type nat hook postrouting priority srcnat; policy accept;"]
        text += [f"    {line}" for line in nat]
        text += ["  }", "}"]
    return "\n".join(text) + "\n"


def _outer_permitted(fw: Forwarder, end: TunnelEnd) -> bool:
    """Whether the underlay's outbound ACL permits the tunnel end's outer packets (they are all alike)."""
    hops = fw.outer_hops(end)
    if not hops or end.address is None or end.peer_address is None:
        return False
    acl = fw.nodes[end.node].interfaces[hops[0].out_if].acl_out
    if acl is None:
        return False
    _, permit = acl.first_match(end.address, end.peer_address, end.proto, 0, 0)
    return permit
