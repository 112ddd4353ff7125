"""Carrying what was derived from one version of a plan over to the next: forwarding, round trips, reachability.

Definitions. Two versions OLD and NEW of a plan have the same *routing
inputs* when every node, link, tunnel, VRF, domain and phase says the same,
their plan lines aside, once what only filters is left out: a node's ACLs,
NAT, default action, one-way gateway, title, services, classification, tags
and MCU parent, a link's bandwidth, latency and sizing. The routing state
(:class:`simulator.routing.RoutingState`), the tunnel ends and every
destination decision of :class:`~simulator.forwarding.Forwarder` read
nothing else, so NEW can take them over. A link's cost may differ too where
it decides nothing, given OLD's routing: the link is a bridge whose cost
moves no route (:meth:`~simulator.routing.RoutingState.cost_moot`), and each
end that forwards nothing orders its links by cost and name as before.

A node is *changed* when it is in one version only, or its record differs
(plan lines aside), or an ACL it applies differs. Every hop of a trace, a
round trip or a reachability flow is decided by the state of its node
alone, given the routing: an answer that met no changed node is the same in
NEW (a trace, a round trip, a demand's path, a reachability answer). A
reachability query whose walk met a changed node is asked again, but from
what its walk found below the changed nodes (after :func:`keep_for_later`):
each kept suffix of a state (:class:`simulator.reach.Walks`) below which no
changed node decided is given to a flow arriving in that state, so only the
ways through the changed nodes are walked again. A tunnel whose state (up,
or why down) differs changes what every node that uses it does: then no
answer is carried.

:func:`carry_over` does the carrying, for a re-check after a small edit
(:mod:`policies.recheck`); what it carries, it puts on NEW's cache, where
:func:`~simulator.forwarding.build_forwarding`,
:func:`~simulator.trace.round_trips`, :func:`~simulator.load.assign` and
:func:`~simulator.reach.reach` find it. Nothing here is a library's: this is
govnet's own derived state.

    >>> from topology import load_plan
    >>> from simulator.reach import reach
    >>> old = load_plan("scenarios/chuxiong/plan.yaml")
    >>> _ = reach(old, ["互联网"], ["楚雄州安全接入平台"])
    >>> new = load_plan("scenarios/chuxiong/plan.yaml")     # read again: the same plan
    >>> carried = carry_over(old, new)
    >>> carried.forwarding, sorted(carried.changed), carried.answers
    (True, [], 1)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from topology.diff import differing_nodes, same_record, unmarked
from topology.model import Network, Node

from .failures import CaseMemo
from .forwarding import Forwarder
from .load import DemandPaths
from .reach import ReachAnswers
from .routing import RoutingState
from .trace import RoundTrips

# what only filters (or only describes): left out of the routing inputs
FILTER_FIELDS = frozenset({"acl_in", "acl_out", "nat", "default_action", "gateway", "title", "services",
                           "classification", "tags", "mcu_parent", "description", "bandwidth", "latency", "sized"})


@dataclass(frozen=True)
class Carried:
    """What :func:`carry_over` carried: the forwarding state or not (``reason`` says why not), the changed
    nodes, and how many reachability answers, round trips and demand paths were kept."""

    forwarding: bool
    changed: frozenset[str] = frozenset()
    answers: int = 0
    trips: int = 0
    paths: int = 0
    walks: int = 0  # queries not kept whole whose walks were kept below the changed nodes
    reason: str = ""


def same_routing(old: Network, new: Network, differing: list[str] | None = None,
                 routing: RoutingState | None = None) -> bool:
    """Whether ``old`` and ``new`` have the same routing inputs (see the module docstring); ``differing``:
    :func:`~topology.diff.differing_nodes`, when already known; ``routing``: ``old``'s, which lets a link's cost
    differ where it decides nothing (without it, no cost may differ)."""
    if list(old.nodes) != list(new.nodes) or list(old.links) != list(new.links):
        return False
    pairs = [(old.domains, new.domains), (old.vrfs, new.vrfs), (old.tunnels, new.tunnels)]
    if old.phases != new.phases or old.phase != new.phase:
        return False
    for a, b in pairs:
        if a != b and unmarked(a, FILTER_FIELDS) != unmarked(b, FILTER_FIELDS):
            return False
    for name in differing if differing is not None else differing_nodes(old, new):
        if unmarked(old.nodes[name], FILTER_FIELDS) != unmarked(new.nodes[name], FILTER_FIELDS):
            return False
    stubs: set[str] = set()
    for name, link in new.links.items():
        before = old.links[name]
        if before == link or unmarked(before, FILTER_FIELDS) == unmarked(link, FILTER_FIELDS):
            continue
        if routing is None or unmarked(replace(before, cost=link.cost), FILTER_FIELDS) != \
                unmarked(link, FILTER_FIELDS) or not routing.cost_moot(before):
            return False
        stubs.update(end for end in (link.a, link.b) if not routing.is_forwarding(end))
    return all(_by_cost(old, stub) == _by_cost(new, stub) for stub in sorted(stubs))


def _by_cost(net: Network, node: str) -> list[str]:
    """The links of ``node`` in the order a node that forwards nothing chooses among them."""
    return [l.name for l in sorted(net.links_of(node), key=lambda l: (l.cost, l.name))]


def changed_nodes(old: Network, new: Network, differing: list[str] | None = None) -> frozenset[str]:
    """The nodes of ``new`` whose record differs from ``old``'s (plan lines aside), are new, or apply an ACL
    that differs; ``differing``: :func:`differing_nodes`, when already known."""
    acls = {name for name in {*old.acls, *new.acls}
            if name not in old.acls or name not in new.acls or not same_record(old.acls[name], new.acls[name])}
    def applies_changed(node: Node) -> bool:
        return any(i.acl_in in acls or i.acl_out in acls for i in node.interfaces.values())

    differ = differing if differing is not None else differing_nodes(old, new)
    out = {name for name in differ if name not in old.nodes or not same_record(old.nodes[name], new.nodes[name])}
    if acls:
        out.update(name for name, node in new.nodes.items() if applies_changed(node))
    return frozenset(out)


def keep_for_later(net: Network) -> None:
    """Make what is derived from ``net`` keep what a later version can take over beyond whole answers: the walks
    of every reachability query (:class:`simulator.reach.Walks`) and every failure case of a sweep on its own
    demands (:class:`simulator.failures.CaseMemo`), which cost memory a single check need not pay."""
    net.cached(ReachAnswers).keep_walks = True
    net.cached(CaseMemo).keep = True


def carry_over(old: Network, new: Network, differing: list[str] | None = None) -> Carried:
    """Put on ``new`` what was derived from ``old`` and still holds (see the module docstring); ``differing``:
    :func:`~topology.diff.differing_nodes`, when already known."""
    fw = old.known(Forwarder)
    if fw is None:
        return Carried(False, reason="nothing was derived from the old version")
    if differing is None:
        differing = differing_nodes(old, new)
    if not same_routing(old, new, differing, fw.routing):
        return Carried(False, reason="the routing inputs changed")
    changed = changed_nodes(old, new, differing)
    carried = fw.carried(new, changed)
    new.remember(RoutingState, carried.routing)
    new.remember(Forwarder, carried)
    if any(fw.tunnel_up(t) != carried.tunnel_up(t) for t in new.tunnels):
        return Carried(True, changed, reason="a tunnel's state changed")
    answers = old.known(ReachAnswers)
    kept = walked = 0
    if answers is not None:
        again = answers.carried(new, changed)
        new.remember(ReachAnswers, again)
        kept, walked = len(again.kept), len(again.seeds)
    trips = old.known(RoundTrips)
    held = 0
    if trips is not None:
        more = trips.carried(new, changed)
        new.remember(RoundTrips, more)
        held = len(more)
    cases = old.known(CaseMemo)
    if cases is not None:
        new.remember(CaseMemo, cases.carried(new, changed))
    paths = old.known(DemandPaths)
    routed = 0
    if paths is not None:
        again_paths = paths.carried(new, changed)
        new.remember(DemandPaths, again_paths)
        routed = len(again_paths.kept)
    return Carried(True, changed, kept, held, routed, walked)
