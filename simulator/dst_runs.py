"""Destination runs: the address space cut, at one node, into runs of destinations it decides alike.

Definition. The *runs* of a node in a VRF (:class:`DstRuns`) cut the address
space 0 .. 2**32-1 into consecutive intervals, each with the decision
(:class:`~simulator.forwarding.DstDecision`) :meth:`Forwarder.dst_decision
<simulator.forwarding.Forwarder.dst_decision>` gives every destination in it
at that node (the same :attr:`~simulator.forwarding.DstDecision.group`), or
None: decided piece by piece (the elementary pieces of
:meth:`Forwarder.boundaries <simulator.forwarding.Forwarder.boundaries>`)
there. A reachability query splits a flow by the runs it meets: a wide flow
(a cloud's "everything") at a core router costs the runs, not one decision
per prefix of the network, which made the crossings of a plan of 31
provinces grow as the square of its size.

Two kinds of node have runs:

- a node with a *rest* (:meth:`Forwarder.dst_rest
  <simulator.forwarding.Forwarder.dst_rest>`: a host, a router of a pendant
  tree): None over its exceptions, its one decision elsewhere
  (:func:`rest_runs`);
- any router of a VRF that imports no other: the *owner partition*
  (:func:`owner_runs`), of every piece of the network (a pass over them
  all, kept per node: for a wide flow), or of the pieces one flow holds
  (a pass over those alone: a flow of a few hundred pieces, as the one a
  prefecture core gets from the centre for its own subtree, costs its own
  pieces and not the whole network's).

The owner partition, and why it is exact. Take an elementary piece and the
route the routing of the VRF chooses for it when nothing but the originated
prefixes count (:class:`VrfPieces`: the longest internal prefix, or a longer
external one, as :meth:`RoutingState.lookup
<simulator.routing.RoutingState.lookup>` ranks them); let its *target* be the
one router its originators are (a forwarding originator) or hang off (a stub
originator's routers), when there is exactly one. At a router ``v``, outside
``v``'s own addresses, connected subnets, static routes, tunnel selectors
and the tunnel routes it learns, the lookup chooses that same route whenever its originators are
reached from ``v`` (a longer prefix would have been the piece's route; a
shorter one loses to it), and sends the piece by
:meth:`RoutingState.hops_towards <simulator.routing.RoutingState.hops_towards>`
towards the target ``t``. Where ``v`` and ``t`` are joined, that depends on
``t`` only through where ``t`` lies from ``v``:

- ``v`` in the meshed core, ``t`` in a pendant tree hanging off ``v``: down
  the child of ``v`` above ``t``;
- ``v`` in the core, ``t`` elsewhere: towards the core router ``t`` is or
  hangs off (every way into a pendant tree passes its core router);
- ``v`` in a pendant tree: down the child above ``t`` when ``t`` is below,
  else up to the parent.

So the pieces whose targets lie alike are decided alike: one decision per
*place* (asked of :meth:`~simulator.forwarding.Forwarder.dst_decision` at one
piece of it), and None wherever the argument does not hold (no single
target, the target ``v`` itself or not joined to it, ``v``'s own
exceptions). The test suite checks every piece of generated plans against
:meth:`~simulator.forwarding.Forwarder.dst_decision`.

Why hand-written: the partition follows this project's routing model (its
core and pendant trees, its ranking of routes); the per-piece work is numpy
array arithmetic, one pass per node.

Example: the Chuxiong prefecture core decides the whole address space in
far fewer runs than there are pieces::

    >>> from simulator.forwarding import build_forwarding
    >>> fw = build_forwarding(net)
    >>> runs = fw.dst_runs("楚雄州外网核心", None, partition=True)
    >>> len(runs.starts) < len(fw.boundaries()) // 4
    True
    >>> decision = runs.decision_at(int(net.nodes["双柏县外网核心"].loopback.ip))
    >>> [h.neighbor for h in decision.hops]
    ['双柏县外网核心']
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .headerspace import IntervalSet, prefix_interval

if TYPE_CHECKING:
    from .forwarding import DstDecision, Forwarder

TOP = 2**32 - 1
MANY, NONE = -1, -2  # a piece's target: no single router / no route at all
_INDIVIDUAL = -1  # a piece decided on its own


@dataclass(frozen=True)
class DstRuns:
    """Run ``i`` covers ``starts[i]`` .. ``starts[i + 1] - 1`` (the last up to 2**32-1), decided ``decisions[i]``
    (None: piece by piece)."""

    starts: tuple[int, ...]
    decisions: tuple[DstDecision | None, ...]

    def over(self, lo: int, hi: int) -> Iterator[tuple[int, int, DstDecision | None]]:
        """The runs ``lo`` .. ``hi`` meets, cut to it: (first, last, decision)."""
        starts = self.starts
        i = bisect.bisect_right(starts, lo) - 1
        while i < len(starts) and starts[i] <= hi:
            end = starts[i + 1] - 1 if i + 1 < len(starts) else TOP
            yield max(lo, starts[i]), min(hi, end), self.decisions[i]
            i += 1

    def decision_at(self, address: int) -> DstDecision | None:
        """The decision of the run holding ``address`` (None: decided piece by piece there)."""
        return self.decisions[bisect.bisect_right(self.starts, address) - 1]


def rest_runs(exceptions: IntervalSet, decision: DstDecision) -> DstRuns:
    """The runs of a node with a rest: None over ``exceptions``, ``decision`` elsewhere."""
    starts: list[int] = []
    decisions: list[DstDecision | None] = []
    at = 0
    for lo, hi in exceptions:
        if lo > at:
            starts.append(at)
            decisions.append(decision)
        starts.append(lo)
        decisions.append(None)
        at = hi + 1
    if at <= TOP:
        starts.append(at)
        decisions.append(decision)
    return DstRuns(tuple(starts), tuple(decisions))


class VrfPieces:
    """The elementary pieces of one VRF with the target router of each (see the module docstring), and where
    every router of the VRF's routing graph lies: its core router, the child of that core router above it,
    and its place in a walk of the pendant trees (``tin`` .. ``tout``: the routers below it)."""

    def __init__(self, fw: Forwarder, vrf: str | None):
        routing = fw.routing
        graph = routing.graphs[vrf]
        self.graph = graph
        self.starts = np.array([0, *fw.boundaries()], dtype=np.int64)
        self.index = graph.index
        self.target = self._targets(fw, vrf)
        self._places(graph)

    def _targets(self, fw: Forwarder, vrf: str | None) -> np.ndarray:
        routing = fw.routing
        ids: dict[frozenset[str], int] = {}
        internal = self._longest(routing.tables[vrf], ids)
        external = self._longest(routing.external[vrf], ids)
        use_external = external[0] > internal[0]
        owner_id = np.where(use_external, external[1], internal[1])
        target_of = np.full(len(ids) + 1, NONE, dtype=np.int64)  # the last: no route (id -1)
        for owners, i in ids.items():
            target_of[i] = self._single_target(routing, owners, vrf)
        return target_of[owner_id]

    def _longest(self, table: dict[int, dict[int, frozenset[str]]],
                 ids: dict[frozenset[str], int]) -> tuple[np.ndarray, np.ndarray]:
        """For each piece: (length, owners id) of the longest prefix of ``table`` holding it ((-1, -1): none)."""
        n = len(self.starts)
        length = np.full(n, -1, dtype=np.int64)
        owner = np.full(n, -1, dtype=np.int64)
        for plen in sorted(table):  # shortest first: a longer prefix overwrites the pieces it holds
            nets = table[plen]
            lows = np.fromiter(nets, dtype=np.int64, count=len(nets))
            who = np.fromiter((ids.setdefault(o, len(ids)) for o in nets.values()), dtype=np.int64, count=len(nets))
            first = np.searchsorted(self.starts, lows)
            last = np.searchsorted(self.starts, lows + (1 << (32 - plen)))
            counts = last - first
            at = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
            length[at] = plen
            owner[at] = np.repeat(who, counts)
        return length, owner

    def _single_target(self, routing, owners: frozenset[str], vrf: str | None) -> int:
        routers: set[str] = set()
        for owner in owners:
            if routing.is_forwarding(owner):
                routers.add(owner)
            else:
                routers.update(r for r, _ in routing.attachments(owner, vrf))
        if len(routers) != 1:
            return MANY
        (router,) = routers
        return self.index.get(router, MANY)

    def _places(self, graph) -> None:
        names, index = graph.names, graph.index
        n = len(names)
        self.top = np.full(n, -1, dtype=np.int64)  # the core router a router is or hangs off (-1: none)
        self.branch = np.full(n, -1, dtype=np.int64)  # for a tree router: the child of its core router above it
        self.tin = np.full(n, -1, dtype=np.int64)
        self.tout = np.full(n, -1, dtype=np.int64)
        self.children: dict[int, list[int]] = {}
        for name, i in index.items():
            if name in graph.core:
                self.top[i] = i
        roots = []
        for name, parent in graph.parent.items():
            if parent is None or parent in graph.core:
                roots.append(index[name])
            if parent is not None:
                self.children.setdefault(index[parent], []).append(index[name])
        clock = 0
        for root in sorted(roots):
            parent = graph.parent[names[root]]
            core = index[parent] if parent is not None else -1
            todo = [(root, False)]
            while todo:
                node, done = todo.pop()
                if done:
                    self.tout[node] = clock - 1
                    continue
                self.tin[node] = clock
                clock += 1
                self.top[node], self.branch[node] = core, root if core >= 0 else -1
                todo.append((node, True))
                todo.extend((c, False) for c in sorted(self.children.get(node, ()), reverse=True)
                            if names[c] in graph.parent)
        for kids in self.children.values():
            kids.sort(key=lambda c: self.tin[c])

    def selected(self, over: IntervalSet) -> np.ndarray:
        """The indices, ascending, of the pieces that ``over`` meets."""
        if not over:
            return np.zeros(0, dtype=np.int64)
        lows = np.fromiter((lo for lo, _ in over), dtype=np.int64, count=len(over))
        highs = np.fromiter((hi for _, hi in over), dtype=np.int64, count=len(over))
        first = np.searchsorted(self.starts, lows, "right") - 1
        counts = np.searchsorted(self.starts, highs, "right") - first
        at = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        return np.unique(at)  # two intervals of ``over`` may meet one piece

    def places(self, v: int, idx: np.ndarray | None = None) -> np.ndarray:
        """For each piece (each of ``idx`` only, when given), where its target lies from router ``v``: a place
        number (pieces of one place are decided alike, the module docstring says why), or -1 where that is not
        shown."""
        t = self.target if idx is None else self.target[idx]
        known = t >= 0
        tt = np.where(known, t, 0)
        n = len(self.graph.names)
        joined = self.graph.labels[tt] == self.graph.labels[v]
        if self.tin[v] < 0:  # a core router
            top = self.top[tt]
            place = np.where(top == v, 1 + self.branch[tt], 1 + n + top)
            place = np.where(top < 0, _INDIVIDUAL, place)
        else:
            kids = self.children.get(v, [])
            tins = self.tin[kids] if kids else np.zeros(0, dtype=np.int64)
            below = (self.tin[tt] > self.tin[v]) & (self.tin[tt] <= self.tout[v])
            child = np.asarray(kids, dtype=np.int64)[np.clip(np.searchsorted(tins, self.tin[tt], "right") - 1, 0, None)] \
                if kids else np.zeros(len(tt), dtype=np.int64)
            place = np.where(below, 1 + child, 1 + 2 * n)
        place = np.where(known & joined & (tt != v), place, _INDIVIDUAL)
        return np.where(t == NONE, 0, place)


def owner_runs(fw: Forwarder, pieces: VrfPieces, node: str, vrf: str | None,
               over: IntervalSet | None = None) -> DstRuns | None:
    """The owner partition of ``node`` in ``vrf`` (see the module docstring); None for a node it does not hold
    for (not a router of the VRF's graph, a VRF that imports another). With ``over``: the partition of the
    pieces ``over`` meets alone (None over every other piece), a pass over those pieces and not all: the
    argument holds piece by piece, so each of them is decided as in the whole partition."""
    routing = fw.routing
    v = pieces.index.get(node)
    if v is None or routing.visible_vrfs(vrf) != (vrf,):
        return None
    idx = None if over is None else pieces.selected(over)
    if idx is not None and not len(idx):
        return DstRuns((0,), (None,))
    place = pieces.places(v, idx)
    starts = pieces.starts if idx is None else pieces.starts[idx]
    ns = fw.nodes[node]
    spans = [(a, a) for a in ns.addresses]
    spans += [(i.address, i.address) for i in ns.interfaces.values() if i.address is not None]
    spans += [prefix_interval(prefix) for prefix, _ in routing.connected.get(node, ())]
    spans += [prefix_interval(prefix) for prefix, _, _ in routing.statics.get(node, ())]
    spans += [iv for end in ns.tunnel_ends for iv in end.selector]
    spans += fw.tunnel_route_spans(node, vrf)
    for lo, hi in spans:
        place[np.searchsorted(starts, lo):np.searchsorted(starts, hi + 1)] = _INDIVIDUAL
    kinds, first = np.unique(place, return_index=True)
    groups: dict[tuple, int] = {}
    decisions: list[DstDecision] = []
    gid_of = {}
    for kind, at in zip(kinds.tolist(), first.tolist(), strict=True):
        if kind == _INDIVIDUAL:
            continue
        decision = fw.dst_decision(node, vrf, int(starts[at]))
        gid = groups.get(decision.group)
        if gid is None:
            gid = groups[decision.group] = len(decisions)
            decisions.append(decision)
        gid_of[kind] = gid
    lookup = np.full(len(kinds), _INDIVIDUAL, dtype=np.int64)
    for i, kind in enumerate(kinds.tolist()):
        lookup[i] = gid_of.get(kind, _INDIVIDUAL)
    gids = lookup[np.searchsorted(kinds, place)]
    if idx is None:
        heads = np.flatnonzero(np.diff(gids, prepend=-2))  # where each run starts
        return DstRuns(tuple(starts[heads].tolist()),
                       tuple(decisions[g] if g >= 0 else None for g in gids[heads].tolist()))
    return _sparse_runs(pieces.starts, idx, gids, decisions)


def _sparse_runs(all_starts: np.ndarray, idx: np.ndarray, gids: np.ndarray,
                 decisions: list[DstDecision]) -> DstRuns:
    """The runs of the pieces ``idx`` (ascending) with group ids ``gids`` (-1: piece by piece), None over the
    pieces between and around them."""
    after_gap = np.concatenate(([True], np.diff(idx) != 1))  # the piece before is not one of idx
    heads = np.flatnonzero(after_gap | (np.diff(gids, prepend=-2) != 0))
    runs = [(int(all_starts[idx[k]]), decisions[g] if g >= 0 else None)
            for k, g in zip(heads.tolist(), gids[heads].tolist(), strict=True)]
    ends = idx[np.append(np.diff(idx) != 1, True)] + 1  # the first piece after each stretch of idx
    runs += [(int(all_starts[e]), None) for e in ends.tolist() if e < len(all_starts)]
    if idx[0] > 0:
        runs.append((0, None))
    runs.sort(key=lambda run: run[0])
    return DstRuns(tuple(start for start, _ in runs), tuple(decision for _, decision in runs))


__all__ = ["DstRuns", "VrfPieces", "owner_runs", "rest_runs"]
