"""Pass ``links``: every link of the model, with the interfaces it cables.

Definition. A link end is ``node`` or ``node:ifname``; an end without an
interface name takes the node's next free ``e0``, ``e1`` ... in plan order,
and an interface takes one link. A link's attributes are its own, then
``defaults.link``, then the built-in defaults: 1 Gbit/s, 1 ms, medium
``lan``, shared when the medium is untrusted (:data:`~topology.vocabulary.UNTRUSTED_MEDIA`),
the cost of the plan's link cost model (``routing:``; by default OSPF-style
``reference_bandwidth / bandwidth``, at least 1, with a 100 Gbit/s reference;
``cost: hop`` prices every link at 1), MTU 1500. ``bandwidth: unknown`` leaves
a link unsized (:attr:`~topology.model.Link.sized` false, the 1 Gbit/s default
as a placeholder); the bandwidth cost model cannot price it, so it needs its
own ``cost`` or ``routing: {cost: hop}``. Its phase is
the latest of its own and its two nodes'. Its addresses are those written on
its interfaces (one written end gets the first free host of that subnet),
else a subnet of ``link_prefix`` from the pool of the link's ``domain``,
else of the first end's domain. A link without a name is called
``a--b`` (``a:if--b:if`` for a parallel one).

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture}}
    ... defaults: {node: {domain: 政务外网, site: 楚雄州, role: core_router}}
    ... nodes: {a: {}, b: {}}
    ... links: [{a: a, b: b, bandwidth: 10G}, {a: a, b: b}]
    ... '''), upto="links")
    >>> [(l.name, l.a_if, l.b_if, l.cost) for l in d.model_links.values()]
    [('a--b', 'e0', 'e0', 10), ('a:e1--b:e1', 'e1', 'e1', 100)]

Every link costs 1 under ``routing: {cost: hop}``, whatever its bandwidth:

    >>> d = run(draft_of('''
    ... name: demo
    ... routing: {cost: hop}
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture}}
    ... defaults: {node: {domain: 政务外网, site: 楚雄州, role: core_router}}
    ... nodes: {a: {}, b: {}}
    ... links: [{a: a, b: b, bandwidth: 10G}, {a: a, b: b, bandwidth: unknown}, {a: a, b: b, cost: 7}]
    ... '''), upto="links")
    >>> [(l.cost, l.sized) for l in d.model_links.values()]
    [(1, True), (1, False), (7, True)]
"""

from __future__ import annotations

import ipaddress

from ..addressing import interface
from ..model import Interface, Link
from ..schema import LinkAttrs, RoutingSpec
from ..validation import suggest
from ..vocabulary import UNTRUSTED_MEDIA
from .address_plan import allocate
from .draft import Draft, LinkDraft, set_fields

DEFAULT_BANDWIDTH = 1e9
DEFAULT_LATENCY = 1e-3
REFERENCE_BANDWIDTH = 100e9  # the default routing.reference_bandwidth: link cost = reference / bandwidth, as OSPF does
DEFAULT_MTU = 1500
UNKNOWN_BANDWIDTH = "unknown"  # bandwidth: unknown, a link left unsized


def default_cost(routing: RoutingSpec, bandwidth: float) -> int:
    """What a link of ``bandwidth`` bit/s without a cost of its own costs under the plan's cost model.

    >>> default_cost(RoutingSpec(), 1e9), default_cost(RoutingSpec(cost="hop"), 1e9)
    (100, 1)
    >>> default_cost(RoutingSpec(reference_bandwidth=1e12), 400e9)
    2
    """
    if routing.cost == "hop":
        return 1
    return max(1, int(routing.reference_bandwidth // bandwidth))


def links(d: Draft) -> Draft:
    """Fill ``d.model_links`` and ``d.interfaces`` (the cabled interfaces, by node)."""
    defaults = set_fields(d.spec.defaults.link, LinkAttrs)
    next_if: dict[str, int] = {}
    for draft in d.links:
        ends = _ends(d, draft, next_if)
        if ends is not None:
            _link(d, draft, ends, {**defaults, **draft.attrs})
    return d


def _ends(d: Draft, draft: LinkDraft, next_if: dict[str, int]) -> list[tuple[str, str]] | None:
    ends = []
    for key, end in (("a", draft.a), ("b", draft.b)):
        node, _, ifname = end.partition(":")
        if node not in d.nodes:
            d.error(draft.path + (key,), f"link end '{node}' is not a node", suggest(node, d.nodes, "nodes"))
            return None
        declared = d.nodes[node].interfaces
        cabled = d.interfaces.get(node, {})
        if ifname and declared and ifname not in declared:
            d.error(draft.path + (key,), f"node '{node}' has no interface '{ifname}'",
                    suggest(ifname, declared, "interfaces of " + node))
            return None
        if not ifname:
            while True:
                next_if[node] = next_if.get(node, -1) + 1
                ifname = f"e{next_if[node]}"
                if ifname not in declared and ifname not in cabled:
                    break
        elif ifname in cabled:
            d.error(draft.path + (key,), f"interface '{node}:{ifname}' already has a link",
                    "each interface takes one link; use another interface")
            return None
        ends.append((node, ifname))
    if ends[0][0] == ends[1][0]:
        d.error(draft.path, f"link joins '{ends[0][0]}' to itself", "a link joins two different nodes")
        return None
    return ends


def _link(d: Draft, draft: LinkDraft, ends: list[tuple[str, str]], attrs: dict) -> None:
    name = draft.name or f"{ends[0][0]}--{ends[1][0]}"
    if not draft.name and name in d.model_links:
        name = f"{ends[0][0]}:{ends[0][1]}--{ends[1][0]}:{ends[1][1]}"
    if name in d.model_links:
        d.error(draft.path + ("name",), f"link name '{name}' is used twice", "give each link its own name")
        return
    phase_name = attrs.get("phase")
    phase = max(d.phase_of(phase_name, draft.path + ("phase",)) if phase_name else 0,
                d.node_phase(ends[0][0]), d.node_phase(ends[1][0]))
    if attrs.get("domain") and attrs["domain"] not in d.domains:
        d.error(draft.path + ("domain",), f"unknown domain '{attrs['domain']}'", suggest(attrs["domain"], d.domains, "domains"))
    subnet, addresses = _addresses(d, draft, ends, name, attrs.get("domain") or d.fields[ends[0][0]].get("domain"))
    medium = attrs.get("medium") or "lan"
    bandwidth = attrs.get("bandwidth") or DEFAULT_BANDWIDTH
    sized = bandwidth != UNKNOWN_BANDWIDTH
    if not sized:
        bandwidth = DEFAULT_BANDWIDTH  # a placeholder for delays; no capacity rule judges an unsized link
    cost = attrs.get("cost") or default_cost(d.spec.routing, bandwidth)
    if not sized and not attrs.get("cost") and d.spec.routing.cost == "bandwidth":
        d.error(draft.path, f"link {name} has bandwidth unknown, so the bandwidth cost model cannot price it",
                "give the link a cost:, a bandwidth, or set routing: {cost: hop}")
    d.model_links[name] = Link(
        name=name, a=ends[0][0], a_if=ends[0][1], b=ends[1][0], b_if=ends[1][1], bandwidth=bandwidth,
        latency=attrs["latency"] if attrs.get("latency") is not None else DEFAULT_LATENCY,
        medium=medium, shared=attrs["shared"] if attrs.get("shared") is not None else medium in UNTRUSTED_MEDIA,
        cost=cost, phase=phase, subnet=subnet,
        channel=attrs["channel"] if attrs.get("channel") is not None else True,
        mtu=attrs.get("mtu") or DEFAULT_MTU, mark=d.mark(draft.path), sized=sized,
    )
    for (node, ifname), address in zip(ends, addresses):
        spec = d.nodes[node].interfaces.get(ifname)
        d.interfaces.setdefault(node, {})[ifname] = Interface(
            node, ifname, address, name,
            spec.acl_in if spec else None, spec.acl_out if spec else None,
            (spec.vrf if spec and spec.vrf else d.fields[node].get("vrf")), spec.nat if spec else False,
            spec.cost if spec else None, d.mark(d.nodes[node].path + (("interfaces", ifname) if spec else ())),
        )


def _addresses(d: Draft, draft: LinkDraft, ends: list[tuple[str, str]], name: str,
               pool_domain: str | None) -> tuple[ipaddress.IPv4Network | None, list]:
    """(subnet, [address of a, address of b]) of a link: as written, completed, or allocated."""
    explicit = [d.nodes[n].interfaces.get(i) for n, i in ends]
    addresses = [e.address if e is not None else None for e in explicit]
    if addresses[0] is not None or addresses[1] is not None:
        known = addresses[0] or addresses[1]
        assert known is not None
        if addresses[0] is not None and addresses[1] is not None and addresses[0].network != addresses[1].network:
            d.error(draft.path, f"link {name}: {addresses[0]} and {addresses[1]} are not in one subnet",
                    "give both ends addresses in the same subnet")
        elif None in addresses:
            addresses = _complete_pair(d, addresses, draft.path)
        return known.network, addresses
    domain = d.domains.get(pool_domain or "")
    prefixlen = d.spec.domains[pool_domain].link_prefix if domain is not None and domain.pool and pool_domain else None
    if not prefixlen:
        return None, addresses
    subnet = allocate(d, pool_domain, prefixlen, draft.path, ("link", name))
    if subnet is None:
        return None, addresses
    first = int(subnet.network_address) + (0 if prefixlen == 31 else 1)
    return subnet, [interface(first, prefixlen), interface(first + 1, prefixlen)]


def _complete_pair(d: Draft, addresses: list, path: tuple) -> list:
    """Give the unaddressed end of a link the first free host of the other end's subnet."""
    known = addresses[0] or addresses[1]
    network = known.network
    hosts = [network.network_address, network.broadcast_address] if network.prefixlen == 31 else network.hosts()
    for host in hosts:
        if host != known.ip:
            other = ipaddress.IPv4Interface(f"{host}/{network.prefixlen}")
            return [known, other] if addresses[0] is not None else [other, known]
    d.error(path, f"subnet {network} has no room for the other end of the link", "use a /31 or larger subnet")
    return addresses
