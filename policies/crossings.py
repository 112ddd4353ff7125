"""Allowed crossings: every class of packets the plan lets from one security domain into another.

Definitions.

- A *crossing class* is a :class:`simulator.reach.ReachClass` from a node of
  domain A delivered to a node of domain B ≠ A: the complete header-space
  answer of :func:`simulator.reach.reach`, not a sample.
- The *controls* of a class are what let it through on its way, read from
  the real trace of its representative packet: every hop whose ACL rule
  permitted it (:class:`simulator.acl.RuleRef`; index 0 is the ACL's default
  action) and every one-way gateway it passed.
- A :class:`Crossing` is the group of the classes of one ordered domain pair
  with the same controls: "the plan allows these packets from A into B, and
  this device and rule let them through". A crossing with no control went
  through devices that do not filter.
- Only ordered pairs of domains that are physically joined
  (:meth:`policies.connectivity.Components.joined_pairs`) can have crossings;
  the others are not asked.

Which sources are asked (and why no crossing is lost). Asking reach from
every node of a province costs minutes, and most nodes cannot add a crossing
their neighbours do not already have. Call a node *blind* when it decides
on the destination alone (:func:`_blind`: no ACL, NAT, VRF, default action,
firewall role, one-way gateway or tunnel end), and the *frontier* of domain
A every node that is not a blind node of A. :func:`crossing_sources` asks
every node of A that is not blind, and every blind node with a neighbour on
the frontier; it leaves out the other blind nodes of A, the *inner* ones.

Why that loses no crossing. Follow a class from an inner node s into B: it
is delivered in B, so its path leaves the blind nodes of A somewhere; let v
be the last blind node of A before the first frontier node of the path.
Everything up to v is blind: no control there, and v (a neighbour of the
frontier) is asked. A blind node decides a packet it forwards as one it sends
itself (only the destination counts, and v's own header space is every
header), so from v on the class is part of a class of v, on the same path,
with the same controls (v's own packet may even get one hop further before
its TTL runs out: never fewer). The crossing is v's.

A node that is asked is still left out when another node of the same
*attachment* is asked (:func:`_attachment`): hosts hanging off one router
through interfaces that router treats alike have the same crossings.

    >>> found = crossings(net)          # the Chuxiong plan
    >>> [(c.from_domain, c.to_domain, c.control_text) for c in found][1]
    ('政务外网', '门户DMZ', '防火墙-外网侧入#1 at 楚雄州互联网接入防火墙:inside in')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from simulator.forwarding import Forwarder, build_forwarding
from simulator.reach import ReachClass, reach
from topology.errors import Mark
from topology.graphs import physical_graph
from topology.model import Approval, Network

from .connectivity import components
from .evidence import rule_marks

GATEWAY_ROLES = ("one_way_gateway",)


@dataclass(frozen=True)
class Control:
    """What let a class through at one hop: an ACL rule (``kind`` acl) or a one-way gateway (``kind`` gateway)."""

    node: str
    kind: str  # acl | gateway
    acl: str | None = None
    index: int | None = None  # 1-based rule of ``acl``; 0 = its default action
    interface: str | None = None
    direction: str | None = None  # in | out

    @property
    def ref(self) -> str:
        """How an approval names it: ``ACL#INDEX`` for a rule, the node for a gateway.

        >>> Control("防火墙", "acl", "inet_in", 2, "e0", "in").ref, Control("网闸", "gateway").ref
        ('inet_in#2', '网闸')
        """
        return f"{self.acl}#{self.index}" if self.kind == "acl" else self.node

    def text(self) -> str:
        """``inet_in#2 at 防火墙:e0 in`` / ``one-way gateway 网闸``."""
        if self.kind == "gateway":
            return f"one-way gateway {self.node}"
        which = f"{self.acl}#{self.index}" if self.index else f"the default action of {self.acl}"
        where = f"{self.node}:{self.interface}" if self.interface else self.node
        return f"{which} at {where}" + (f" {self.direction}" if self.direction else "")


@dataclass(frozen=True)
class Crossing:
    """The classes from ``from_domain`` into ``to_domain`` that the same ``controls`` let through."""

    from_domain: str
    to_domain: str
    controls: tuple[Control, ...]
    classes: tuple[ReachClass, ...]
    boundary: tuple[str, str] | None  # the first hop that leaves from_domain: (node, next node)

    @property
    def control_text(self) -> str:
        return "; ".join(c.text() for c in self.controls) if self.controls else "no filtering device"

    @property
    def headers(self) -> int:
        """How many headers (source, destination, protocol, ports) the crossing lets through."""
        return sum(c.space.size() for c in self.classes)

    def subjects(self) -> tuple[str, ...]:
        """The nodes a finding about the crossing is about: the controlling devices, else the boundary link's ends."""
        nodes = [c.node for c in self.controls] or list(self.boundary or ())
        return tuple(dict.fromkeys(nodes))

    def marks(self, net: Network) -> tuple[Mark, ...]:
        """The plan lines of the controls (the ACL rule, the interface, the gateway node), else of the boundary."""
        out: list[Mark] = []
        for c in self.controls:
            out += _control_marks(net, c)
        if not out and self.boundary:
            out += [net.nodes[n].mark for n in self.boundary if n in net.nodes]
        return tuple(dict.fromkeys(out))


def control_marks(net: Network, control: Control) -> tuple[Mark, ...]:
    """Where ``control`` is written in the plan: the ACL rule and interface, or the gateway node."""
    return tuple(_control_marks(net, control))


def _control_marks(net: Network, control: Control) -> list[Mark]:
    if control.kind == "gateway":
        return [net.nodes[control.node].mark] if control.node in net.nodes else []
    from simulator.acl import RuleRef

    ref = RuleRef(control.acl or "", control.index or 0, "permit", control.node, control.interface,
                  control.direction or "in")
    return rule_marks(net, ref)


def approvals_of(crossing: Crossing, approvals: Iterable[Approval]) -> list[Approval]:
    """The approvals that cover ``crossing``: of its domain pair, of a device that let it through (or on whose link
    it leaves its domain), of an ACL rule that let it through (a rule's approval covers what that rule permits).

    >>> import datetime
    >>> ok = Approval("a -> b", "crossing", "u", "d", datetime.date(2024, 1, 1), from_domain="a", to_domain="b")
    >>> [x.approves for x in approvals_of(Crossing("a", "b", (), (), None), [ok])]
    ['a -> b']
    """
    refs = {c.ref for c in crossing.controls}
    devices = {c.node for c in crossing.controls} | set(crossing.boundary or ())
    out = []
    for a in approvals:
        pair = a.kind == "crossing" and (a.from_domain, a.to_domain) == (crossing.from_domain, crossing.to_domain)
        device = a.kind == "gateway" and a.node in devices
        rule = a.kind == "acl_rule" and f"{a.acl}#{a.index}" in refs
        if pair or device or rule:
            out.append(a)
    return out


def crossings(net: Network) -> list[Crossing]:
    """Every crossing the plan allows (see the module docstring), in plan order of the domains (cached on ``net``)."""
    return net.cached(_crossings)


def _crossings(net: Network) -> list[Crossing]:
    fw = build_forwarding(net)
    joined = components(net, None).joined_pairs()
    members: dict[str, list[str]] = {d: [] for d in net.domains}
    for name, node in net.nodes.items():
        members.setdefault(node.domain, []).append(name)
    order = {d: i for i, d in enumerate(members)}
    groups: dict[tuple, list[ReachClass]] = {}
    boundaries: dict[tuple, tuple[str, str] | None] = {}
    for a in members:
        targets = [b for b in members if b != a and frozenset((a, b)) in joined and members[b]]
        if not targets or not members[a]:
            continue
        sources = crossing_sources(net, a, fw)
        for b in targets:
            for c in reach(net, sources, members[b]):
                controls = class_controls(net, c)
                key = (a, b, controls)
                groups.setdefault(key, []).append(c)
                boundaries.setdefault(key, _boundary(net, c.path, a))
    out = [Crossing(a, b, controls, tuple(classes), boundaries[(a, b, controls)])
           for (a, b, controls), classes in groups.items()]
    out.sort(key=lambda x: (order[x.from_domain], order[x.to_domain], [c.text() for c in x.controls]))
    return out


def class_controls(net: Network, c: ReachClass) -> tuple[Control, ...]:
    """The controls of one class: each hop of its representative's trace whose ACL rule permitted it, each
    one-way gateway it passed, in path order."""
    out: list[Control] = []
    for hop in c.trace.hops:
        rule = hop.rule
        if rule is not None and rule.action == "permit" and rule.acl in net.acls:
            out.append(Control(hop.node, "acl", rule.acl, rule.index, rule.interface, rule.direction))
        node = net.nodes.get(hop.node)
        if node is not None and (node.role in GATEWAY_ROLES or node.gateway is not None):
            out.append(Control(hop.node, "gateway"))
    return tuple(dict.fromkeys(out))


def _boundary(net: Network, path: tuple[str, ...], domain: str) -> tuple[str, str] | None:
    for u, v in pairwise(path):
        if net.nodes[u].domain == domain and net.nodes[v].domain != domain:
            return (u, v)
    return None


# -- which sources to ask ---------------------------------------------------------------------------

def crossing_sources(net: Network, domain: str, fw: Forwarder | None = None) -> list[str]:
    """The nodes of ``domain`` to ask reach from, in plan order: every node but the inner blind ones and the
    repeated attachments (the module docstring says why no crossing is lost)."""
    fw = fw or build_forwarding(net)
    nodes = [n for n, v in net.nodes.items() if v.domain == domain]
    blind = {n for n in nodes if _blind(fw, n)}
    graph = physical_graph(net)
    asked = [n for n in nodes if n not in blind or any(m not in blind for m in graph[n])]
    seen: set[tuple] = set()
    out = []
    for n in asked:
        key = fw.attachment(n)
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        out.append(n)
    return out


def _blind(fw: Forwarder, node: str) -> bool:
    """Whether ``node`` decides on the destination alone: no ACL, NAT, VRF, default action or firewall role, no
    one-way gateway, no tunnel end (:meth:`Forwarder.source_blind`, which also asks for no route learnt from a tunnel
    endpoint: such a route, too, is looked up by destination only, so it is allowed here)."""
    state = fw.nodes[node]
    return (fw.source_blind(node, tunnel_routes=True) and state.vrf is None
            and all(i.vrf is None for i in state.interfaces.values()))


