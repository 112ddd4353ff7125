"""The expanded plan: one immutable :class:`Network` of plain frozen dataclasses.

Everything downstream (graph views, the simulator, the policies) reads this
model and nothing else. Every object keeps the :class:`~topology.errors.Mark`
of the YAML that produced it, so a finding can point at the offending line.

Conventions:
- bandwidths in bits per second, delays in seconds;
- classification as an index into :data:`CLASSIFICATIONS`
  (0 = 非涉密 ... 3 = 绝密);
- a phase is an index into ``Network.phases``; an object with phase *k* exists
  from phase *k* on (phase 0 is the first one).

Example::

    >>> from topology import load_plan
    >>> net = load_plan("scenarios/chuxiong/plan.yaml")
    >>> net.nodes["楚雄州外网核心"].role
    'core_router'
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeVar

from .errors import Mark
from .vocabulary import CLASSIFICATIONS, UNTRUSTED_MEDIA, Level

NO_MARK = Mark("<generated>", 0, 0)
T = TypeVar("T")

IPv4Network = ipaddress.IPv4Network
IPv4Interface = ipaddress.IPv4Interface
IPv4Address = ipaddress.IPv4Address


@dataclass(frozen=True, slots=True)
class DomainKind:
    """A kind of network the plan declares itself, taking the rules of the built-in kind ``like``."""

    name: str
    like: str
    title: str | None = None
    description: str | None = None
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class Domain:
    """A security domain. ``kind`` as the plan says it; ``base_kind`` the built-in kind whose rules it takes
    (the kind itself for a built-in kind, the ``like`` of a plan-declared one)."""

    name: str
    kind: str
    title: str | None
    clearance: int
    trusted: bool
    pool: IPv4Network | None
    owner: str | None = None
    mark: Mark = NO_MARK
    base_kind: str = ""

    def __post_init__(self) -> None:
        if not self.base_kind:
            object.__setattr__(self, "base_kind", self.kind)

    @property
    def clearance_label(self) -> str:
        return CLASSIFICATIONS[self.clearance]

    @property
    def classified(self) -> bool:
        return self.clearance > 0


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    level: Level
    parent: str | None
    title: str | None = None
    phase: int = 0
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class Interface:
    node: str
    name: str
    address: IPv4Interface | None
    link: str | None = None
    acl_in: str | None = None
    acl_out: str | None = None
    vrf: str | None = None
    nat: bool = False
    cost: int | None = None
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class Gateway:
    """One-way gateway direction: data may flow only from ``from_domain`` to ``to_domain``."""

    from_domain: str
    to_domain: str
    allow: tuple[str, ...]
    approved: bool


@dataclass(frozen=True, slots=True)
class StaticRoute:
    prefix: IPv4Network
    via: str  # an address (as text) or a neighbour node name
    vrf: str | None = None


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    role: str
    domain: str
    site: str
    phase: int
    interfaces: Mapping[str, Interface]
    loopback: IPv4Interface | None = None
    lan: IPv4Network | None = None
    title: str | None = None
    classification: int = 0
    services: tuple[str, ...] = ()
    default_action: str | None = None
    gateway: Gateway | None = None
    routes: tuple[StaticRoute, ...] = ()
    vrf: str | None = None
    mcu_parent: str | None = None
    tags: tuple[str, ...] = ()
    mark: Mark = NO_MARK

    @property
    def addresses(self) -> tuple[IPv4Interface, ...]:
        """Loopback first, then interface addresses in interface-name order."""
        out = [self.loopback] if self.loopback else []
        out += [i.address for _, i in sorted(self.interfaces.items()) if i.address]
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Link:
    name: str
    a: str  # node
    a_if: str
    b: str
    b_if: str
    bandwidth: float
    latency: float
    medium: str
    shared: bool
    cost: int
    phase: int
    subnet: IPv4Network | None
    channel: bool = True
    mtu: int = 1500
    mark: Mark = NO_MARK
    # False for ``bandwidth: unknown`` (a link an import left unsized): ``bandwidth`` is then only a
    # placeholder (the 1G default) for delays, and no capacity rule judges the plan while a link is unsized
    sized: bool = True

    @property
    def ends(self) -> tuple[str, str]:
        return (self.a, self.b)

    def other(self, node: str) -> str:
        return self.b if node == self.a else self.a


@dataclass(frozen=True, slots=True)
class Tunnel:
    name: str
    kind: str  # ipsec | gre
    a: str
    b: str
    encrypted: bool
    protect: tuple[IPv4Network, ...]
    cipher: str
    phase: int
    domain: str | None
    spi: int
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class Rule:
    index: int  # 1-based position in its ACL
    action: str  # permit | deny
    src: IPv4Network
    dst: IPv4Network
    proto: str  # ip | tcp | udp | icmp | esp | gre
    sport: tuple[int, int] | None
    dport: tuple[int, int] | None
    icmp_type: int | None
    description: str | None = None
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class Acl:
    name: str
    rules: tuple[Rule, ...]
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class Vrf:
    name: str
    title: str | None
    domain: str | None
    imports: tuple[str, ...]
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    kind: str
    rate: float
    packet_size: int
    protocol: str
    port: int
    title: str | None = None
    max_delay: float | None = None
    mark: Mark = NO_MARK
    one_way: bool = False  # no answers come back (a push through a one-way gateway)


@dataclass(frozen=True, slots=True)
class Flow:
    """Peak traffic of one service from one node to another (one direction)."""

    service: str
    kind: str
    src: str
    dst: str
    rate: float
    packet_size: int
    protocol: str
    port: int
    phase: int
    mark: Mark = NO_MARK
    origin: str = "plan"  # plan: from the plan's traffic; cascade: derived from the video MCU cascade
    one_way: bool = False  # the service expects no answer (see Service.one_way)

    @property
    def label(self) -> str:
        return f"{self.service} {self.src} -> {self.dst}"


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    index: int
    title: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted risk: the findings of rule ``rule`` about the nodes of ``scope`` do not fail a check.

    ``scope`` is a node selector (:mod:`topology.selectors`) or ``*`` for
    every node; the waiver holds up to and including ``expires``.
    """

    rule: str
    scope: str
    reason: str
    approver: str
    document: str | None
    expires: datetime.date
    mark: Mark = NO_MARK

    def expired(self, today: datetime.date) -> bool:
        """Whether the waiver no longer holds on ``today``.

        >>> w = Waiver("R-1", "*", "why", "who", None, datetime.date(2026, 6, 30))
        >>> w.expired(datetime.date(2026, 6, 30)), w.expired(datetime.date(2026, 7, 1))
        (False, True)
        """
        return self.expires < today


APPROVAL_KINDS = ("gateway", "acl_rule", "crossing")


@dataclass(frozen=True, slots=True)
class Approval:
    """An approved boundary crossing (网络接入审批): what is approved, by which unit, document and day.

    ``kind`` says what ``approves`` names: ``gateway`` (the node ``node``),
    ``acl_rule`` (rule ``index`` of ACL ``acl``, 1-based) or ``crossing``
    (every crossing from domain ``from_domain`` into ``to_domain``).

    >>> a = Approval("政务外网 -> 政务内网", "crossing", "市政府应急办", "威应急〔2024〕3号",
    ...              datetime.date(2024, 3, 1), from_domain="政务外网", to_domain="政务内网")
    >>> a.kind, a.to_domain
    ('crossing', '政务内网')
    """

    approves: str  # as written
    kind: str  # one of APPROVAL_KINDS
    unit: str
    document: str
    date: datetime.date
    node: str | None = None
    acl: str | None = None
    index: int | None = None
    from_domain: str | None = None
    to_domain: str | None = None
    note: str | None = None
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class RiskGroup:
    """A shared-risk group: links and nodes one event (a carrier, a conduit, a machine room) fails together.

    ``links`` and ``nodes`` are the members the plan's entries name, in plan
    order; a failure of the group fails them all at once.
    """

    name: str
    links: tuple[str, ...]
    nodes: tuple[str, ...]
    reason: str | None = None
    mark: Mark = NO_MARK


@dataclass(frozen=True, slots=True)
class DeclinedPolicy:
    """A built-in pack the plan says it does not take, and why."""

    pack: str
    reason: str
    mark: Mark = NO_MARK


@dataclass(frozen=True)
class Network:
    """An expanded plan. Mappings are read-only and iterate in plan order."""

    name: str
    title: str | None
    file: str
    domains: Mapping[str, Domain]
    sites: Mapping[str, Site]
    nodes: Mapping[str, Node]
    links: Mapping[str, Link]
    tunnels: Mapping[str, Tunnel]
    acls: Mapping[str, Acl]
    vrfs: Mapping[str, Vrf]
    services: Mapping[str, Service]
    flows: tuple[Flow, ...]
    phases: tuple[Phase, ...]
    policies: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    approvals: tuple[Approval, ...] = ()  # approved boundary crossings
    expect_fail: tuple[str, ...] | None = None  # a variant's planted fault: exactly these rules must fail
    sources: tuple[str, ...] = ()  # every file the plan was read from (resolved), the plan first
    declined_policies: tuple[DeclinedPolicy, ...] = ()
    # the addresses handed out automatically: (loopback|link, name, block), what govnet addresses registers
    allocated: tuple[tuple[str, str, IPv4Network], ...] = ()
    domain_kinds: Mapping[str, DomainKind] = field(default_factory=lambda: MappingProxyType({}))
    risk_groups: Mapping[str, RiskGroup] = field(default_factory=lambda: MappingProxyType({}))
    phase: int | None = None  # set on a view cut to one phase
    mark: Mark = NO_MARK
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)  # see cached()

    def cached(self, build: Callable[..., T], *args: Hashable) -> T:
        """``build(self, *args)``, computed once and kept on the network (it is immutable).

        What is derived from a network is keyed by the module-level function that
        derives it, so each piece of derived state has one typed accessor in the
        layer that owns it (``build_routing(net)``, ``physical_graph(net)`` ...).

        >>> def node_count(n: Network) -> int:
        ...     return len(n.nodes)
        >>> net.cached(node_count) == len(net.nodes), net.cached(node_count) is net.cached(node_count)
        (True, True)
        """
        key = (build, args)
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = build(self, *args)
            return value

    def known(self, build: Callable[..., T], *args: Hashable) -> T | None:
        """What :meth:`cached` holds for ``build(self, *args)``, or None when it was never derived."""
        return self._cache.get((build, args))

    def remember(self, build: Callable[..., T], value: T, *args: Hashable) -> None:
        """Keep ``value`` as what ``build(self, *args)`` would give (derived state known by construction)."""
        self._cache[(build, args)] = value

    def derive(self, **changes: Any) -> Network:
        """A new network with ``changes`` to its fields and nothing derived carried over."""
        return replace(self, **changes)

    def domain_label(self, name: str) -> str:
        """How a report names domain ``name``: the plan's own name when that is already readable
        (``政务内网``), else the title with the terse code name after it.

        >>> from topology import load_plan
        >>> net = load_plan("scenarios/chuxiong/plan.yaml")
        >>> net.domain_label("政务外网"), net.domain_label("no-such-domain")
        ('政务外网', 'no-such-domain')
        """
        domain = self.domains.get(name)
        if domain is None or not domain.title or domain.title == name or not name.isascii() or len(domain.title) > 30:
            return name
        return f"{domain.title} ({name})"

    def phase_index(self, name: str) -> int:
        for phase in self.phases:
            if phase.name == name:
                return phase.index
        raise KeyError(name)

    def at_phase(self, phase: int | str) -> Network:
        """The network as built up to and including ``phase``."""
        index = self.phase_index(phase) if isinstance(phase, str) else phase
        cut = self.cut({n for n, v in self.nodes.items() if v.phase <= index},
                       {k for k, l in self.links.items() if l.phase <= index})
        return cut.derive(sites=freeze({k: s for k, s in self.sites.items() if s.phase <= index}),
                          tunnels=freeze({k: t for k, t in cut.tunnels.items() if t.phase <= index}),
                          flows=tuple(f for f in cut.flows if f.phase <= index), phase=index)

    def cut(self, nodes: Iterable[str], links: Iterable[str] | None = None) -> Network:
        """The network of only ``nodes`` (and of ``links``, when given): the links, tunnels and flows with both
        ends kept, the interfaces of links gone dropped, the risk groups with their members that are kept.

        >>> part = net.cut(["楚雄州外网核心", "双柏县外网核心"])
        >>> sorted(part.nodes), [l.name for l in part.links.values()]
        (['双柏县外网核心', '楚雄州外网核心'], ['双柏县外网核心--楚雄州外网核心'])
        """
        keep = set(nodes)
        allowed = None if links is None else set(links)
        keep_links = {k: l for k, l in self.links.items()
                      if (allowed is None or k in allowed) and l.a in keep and l.b in keep}
        keep_nodes = {n: _drop_dangling_links(v, keep_links) for n, v in self.nodes.items() if n in keep}
        return self.derive(
            nodes=freeze(keep_nodes),
            links=freeze(keep_links),
            tunnels=freeze({k: t for k, t in self.tunnels.items() if t.a in keep_nodes and t.b in keep_nodes}),
            flows=tuple(f for f in self.flows if f.src in keep_nodes and f.dst in keep_nodes),
            risk_groups=freeze(_groups_within(self.risk_groups, keep_links, keep_nodes)),
        )

    def interface(self, node: str, name: str) -> Interface:
        return self.nodes[node].interfaces[name]

    def links_of(self, node: str) -> tuple[Link, ...]:
        """The links with an end at ``node``, in plan order."""
        return self.cached(links_index).get(node, ())

    def site_ancestors(self, site: str) -> tuple[str, ...]:
        """The site itself and every site above it, nearest first."""
        out = []
        current: str | None = site
        while current is not None:
            out.append(current)
            current = self.sites[current].parent
        return tuple(out)

    def level_of(self, node: str) -> str:
        return self.sites[self.nodes[node].site].level




def links_index(net: Network) -> dict[str, tuple[Link, ...]]:
    """Node name -> the links with an end there, in plan order (what :meth:`Network.links_of` reads)."""
    index: dict[str, list[Link]] = {}
    for link in net.links.values():
        index.setdefault(link.a, []).append(link)
        if link.b != link.a:
            index.setdefault(link.b, []).append(link)
    return {k: tuple(v) for k, v in index.items()}


def untrusted_links(net: Network, media: Iterable[str] = UNTRUSTED_MEDIA, shared: bool = True,
                    domains: Iterable[str] = ()) -> frozenset[str]:
    """The links an outsider may read: medium in ``media``, shared by a carrier (``shared``), or with an end
    in an untrusted domain or in one of ``domains``.

    >>> sorted(untrusted_links(net))      # the Chuxiong plan: its three lines to the internet
    ['州驻昆明办事处VPN网关--互联网', '楚雄州互联网接入防火墙--互联网', '楚雄州安全接入平台--互联网']
    """
    kinds = set(media)
    outside = {d.name for d in net.domains.values() if not d.trusted} | set(domains)
    return frozenset(name for name, link in net.links.items()
                     if link.medium in kinds or (shared and link.shared)
                     or net.nodes[link.a].domain in outside or net.nodes[link.b].domain in outside)


def _groups_within(groups: Mapping[str, RiskGroup], links: Mapping[str, Link],
                   nodes: Mapping[str, Node]) -> dict[str, RiskGroup]:
    """The risk groups with only their members among ``links`` and ``nodes`` (those left with none dropped)."""
    out = {}
    for name, group in groups.items():
        kept = replace(group, links=tuple(l for l in group.links if l in links),
                       nodes=tuple(n for n in group.nodes if n in nodes))
        if kept.links or kept.nodes:
            out[name] = kept
    return out


def _drop_dangling_links(node: Node, links: Mapping[str, Link]) -> Node:
    if all(i.link is None or i.link in links for i in node.interfaces.values()):
        return node
    kept = {k: i for k, i in node.interfaces.items() if i.link is None or i.link in links}
    return replace(node, interfaces=freeze(kept))


def freeze(mapping: Mapping) -> Mapping:
    """A read-only view of ``mapping`` (the model's mappings are never mutated)."""
    return MappingProxyType(mapping)
