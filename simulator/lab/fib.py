"""The simulator's forwarding state of one node and VRF, as kernel routes.

Definition. The routes of (node, VRF) are the simulator's own destination
decision (:meth:`simulator.forwarding.Forwarder.dst_decision`: own address,
tunnel selector, longest-prefix route with its equal-cost next hops, prefix
originated here, no route) taken on every *elementary* destination interval
(:meth:`~simulator.forwarding.Forwarder.elementary`: inside one, every
decision is the same, which is what the header-space reach relies on too).
Neighbouring intervals with the same decision are merged and each run is cut
into CIDR prefixes, so the table is exact: the kernel's longest-prefix match
over it gives the simulator's decision for every address, and nothing in the
lab decides a route by itself. The kinds of route:

- ``unicast``: the equal-cost next hops (a multipath route for ECMP), each
  the plan interface to leave on, the VRF the packet is in when it leaves (a
  route leaked from another VRF moves it there) and the neighbour's address;
- ``local``: delivered here (the node's addresses, its LAN, the internet
  cloud's default route: the kernel's ``local`` routes, AnyIP);
- ``tunnel``: into the TUN device of the tunnel's user-space endpoint;
- ``blackhole``: the simulator has no route (dropped here, silently).

Example::

    >>> KernelRoute("10.0.0.0/31", "unicast", (RouteHop("e0", None, "r2", 0x0A000001),)).text()
    '10.0.0.0/31 via 10.0.0.1 out e0 (r2)'
"""

from __future__ import annotations

from dataclasses import dataclass

from topology.model import Network

from ..forwarding import DELIVER, LOCAL, ROUTE, TUNNEL, DstDecision, Forwarder
from ..headerspace import IntervalSet, address_prefixes, ip_text

ALL = IntervalSet.span(0, 2**32 - 1)


@dataclass(frozen=True, order=True)
class RouteHop:
    """Leave on plan interface ``out_if`` in VRF ``vrf`` towards ``neighbor`` at address ``via``."""

    out_if: str
    vrf: str | None
    neighbor: str
    via: int | None


@dataclass(frozen=True)
class KernelRoute:
    prefix: str
    kind: str  # unicast | local | tunnel | blackhole
    hops: tuple[RouteHop, ...] = ()
    tunnel: str | None = None

    def text(self) -> str:
        if self.kind == "unicast":
            return f"{self.prefix} " + ", ".join(
                f"via {ip_text(h.via) if h.via is not None else '-'} out {h.out_if} ({h.neighbor})" for h in self.hops)
        if self.kind == "tunnel":
            return f"{self.prefix} into tunnel {self.tunnel}"
        return f"{self.prefix} {self.kind}"


def route_action(fw: Forwarder, node: str, d: DstDecision) -> tuple:
    """What the kernel must do for destinations of decision ``d`` at ``node`` (hashable, for merging)."""
    if d.kind in (LOCAL, DELIVER):
        return ("local",)
    if d.kind == TUNNEL and d.end is not None:
        return ("tunnel", d.end.tunnel)
    if d.kind == ROUTE and d.hops:
        hops = []
        ns = fw.nodes[node]
        for hop in d.hops:
            out = ns.interfaces[hop.out_if]
            vrf = d.vrf if out.vrf is None else out.vrf  # the VRF the packet leaves in, as the step has it
            hops.append(RouteHop(hop.out_if, vrf, hop.neighbor, _peer_address(fw.net, hop.neighbor, hop.in_if)))
        return ("unicast", tuple(sorted(set(hops))))
    return ("blackhole",)  # no route (NOROUTE, or a route without a usable next hop)


def _peer_address(net: Network, node: str, ifname: str) -> int | None:
    iface = net.nodes[node].interfaces.get(ifname)
    return int(iface.address.ip) if iface is not None and iface.address is not None else None


def decision_runs(fw: Forwarder, node: str, vrf: str | None) -> list[tuple[int, int, tuple]]:
    """[(first, last, action)]: the address space cut into maximal runs decided alike at ``node`` in ``vrf``."""
    runs: list[tuple[int, int, tuple]] = []
    for lo, hi in fw.elementary(ALL):
        action = route_action(fw, node, fw.dst_decision(node, vrf, lo))
        if runs and runs[-1][2] == action and runs[-1][1] + 1 == lo:
            runs[-1] = (runs[-1][0], hi, action)
        else:
            runs.append((lo, hi, action))
    return runs


def forwarding_table(fw: Forwarder, node: str, vrf: str | None) -> list[KernelRoute]:
    """The kernel routes of ``node`` in ``vrf`` (see the module docstring); they cover every address."""
    out = []
    for lo, hi, action in decision_runs(fw, node, vrf):
        for prefix in address_prefixes(IntervalSet.span(lo, hi)):
            kind = action[0]
            if kind == "unicast":
                out.append(KernelRoute(prefix, kind, action[1]))
            elif kind == "tunnel":
                out.append(KernelRoute(prefix, kind, (), action[1]))
            else:
                out.append(KernelRoute(prefix, kind))
    return out


def node_vrfs(net: Network, node: str) -> list[str | None]:
    """The VRFs a packet can be in at ``node``: its own, its interfaces', and every VRF over a backbone link.

    A packet keeps its VRF over a link with no VRF on either end (the
    simulator's step 3), so such a link can bring a packet of any VRF.
    """
    n = net.nodes[node]
    found: list[str | None] = [n.vrf]
    for iface in n.interfaces.values():
        if iface.vrf is not None:
            found.append(iface.vrf)
        elif backbone(net, node, iface.name):
            found.extend([None, *net.vrfs])
    return sorted(set(found), key=lambda v: (v is not None, v or ""))


def backbone(net: Network, node: str, ifname: str) -> bool:
    """Whether the link on ``node``'s interface has no VRF on either end (it carries every VRF)."""
    iface = net.nodes[node].interfaces[ifname]
    if iface.link is None or iface.link not in net.links or iface.vrf is not None:
        return False
    link = net.links[iface.link]
    peer, peer_if = (link.b, link.b_if) if link.a == node else (link.a, link.a_if)
    return net.nodes[peer].interfaces[peer_if].vrf is None
