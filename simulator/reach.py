"""Reachability over header space: every packet that can get from A to B, not a sample.

Definition. ``reach(net, sources, destinations)`` answers, for every source
node, which headers it can put on the wire (any source address, any protocol
and ports, see :func:`simulator.headerspace.universe`) to an address owned by
a destination node (its loopback, interface addresses and LAN; an internet
cloud owns every address, as it originates the default route) get delivered
to that destination node. The answer is a list of :class:`ReachClass`: a set
of headers (:class:`~simulator.headerspace.HeaderSpace`) that all take the
same path with the same decisions, one representative packet of it and the
real trace of that packet.

How. A *flow* is a set of headers at a node. At each hop the flow is split
into *atoms* by everything the hop's decision reads: the rules of the inbound
ACL (first match: each rule takes what earlier rules left), the one-way
gateway's protocols, the destination cut at every route prefix, address and
tunnel selector (only where the node's runs of destinations decided alike,
:mod:`simulator.dst_runs`, do not already decide it: at a host or a router of
a pendant tree outside a few exceptions, at any router for a flow holding
a large share of the network's addresses, and for a flow holding a few
hundred pieces, by the partition of those pieces alone) and grouped by where the node sends
it, each equal-cost next hop, and the rules of that next hop's outbound ACL. One representative packet
of each atom is pushed through the real :meth:`Forwarder.step`; the atoms
with the same outcome are merged and travel on together. Rewrites are
tracked: after source NAT the source is a constant, inside a tunnel the
whole outer header is, so later rules on rewritten fields hold for all or
none of the flow. Every equal-cost branch is followed. Each delivered class
is replayed from the source with the same branch choices, and its trace is
the real trace of its representative. A flow that comes back to a state it
was in (node, arrival interface, VRF and rewrites; the TTL aside) is in a
forwarding loop: its packets are decided exactly as before and never arrive,
so it is not followed further. Every branch of a loop ends at its first
repeat, so a loop costs as much as one lap, not one walk per TTL value and
branch combination. Where the ways of several sources (or of two equal-cost
branches) meet in the same state with the same headers, what the first flow
delivered from there is given to the next (:class:`_Suffix` says why that is
exact): many sources cost what their ways share once, not once per source.

Example: what the internet reaches inside the Chuxiong e-government
extranet: only the IKE and ESP of the two VPN gateways::

    >>> from topology.selectors import select_nodes
    >>> for c in reach(net, ["互联网"], select_nodes(net, "domain:政务外网")):
    ...     print(c.dst_node, c.space)
    楚雄州安全接入平台 udp 198.51.100.6/32 -> 198.51.100.2/32 dport 500
    楚雄州安全接入平台 udp 198.51.100.6/32 -> 198.51.100.2/32 dport 4500
    楚雄州安全接入平台 esp 198.51.100.6/32 -> 198.51.100.2/32
    州驻昆明办事处VPN网关 udp 198.51.100.2/32 -> 198.51.100.6/32 dport 500
    州驻昆明办事处VPN网关 udp 198.51.100.2/32 -> 198.51.100.6/32 dport 4500
    州驻昆明办事处VPN网关 esp 198.51.100.2/32 -> 198.51.100.6/32
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from topology.collector import no_gc
from topology.errors import GovnetError, SelectorError
from topology.model import Network

from .dst_runs import DstRuns
from .forwarding import (
    ROUTE,
    TERMINAL,
    TUNNEL,
    Forwarder,
    Step,
    build_forwarding,
)
from .gateways import allowed_protocols
from .headerspace import (
    DPORT,
    DST,
    ICMP,
    PROTO,
    SPORT,
    SRC,
    HeaderSpace,
    IntervalSet,
    box,
    ip_text,
    map_box,
    universe,
)
from .nat import ICMP_QUERIES
from .packets import Header, proto_name
from .trace import Trace, trace_from_steps

PREFER = {SPORT: (40000,), DPORT: (443, 80, 8, 53), PROTO: (6, 17, 1)}
MAX_FLOWS = 5_000_000  # flows one query may expand before it gives up (a bound on work, not a size of answer)
MAX_DEPTH = 600  # hops of one path (TTLs and tunnels bound it far below; the walk recurses once per hop)
SHARED_WORK = 16  # flows a suffix must have taken to be kept for others (smaller ones are cheaper walked again)
SPLIT_KEPT = 4096  # pieces a destination split must have looked at to be kept for a flow arriving alike
WIDE = 32  # a flow holding this share of the network's pieces is split by its node's owner partition
WINDOW = 256  # a narrower flow holding this many pieces is split by the owner partition of its own pieces


class ReachTooLarge(GovnetError):
    """A reachability query expanded more flows than its budget allows."""


@dataclass(frozen=True)
class ReachClass:
    """Headers from ``src_node`` delivered to ``dst_node`` along one path, with one representative and its trace."""

    src_node: str
    dst_node: str
    space: HeaderSpace
    representative: dict
    _net: Network = field(repr=False, compare=False)
    _steps: tuple = field(repr=False, compare=False)
    path: tuple[str, ...] = ()
    choices: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)  # the ECMP choices of the path

    def trace_of(self, point: Sequence[int]) -> Trace:
        """The real trace of ``point`` (src, dst, proto, sport, dport), a header of :attr:`space`: every header of a
        class takes the class's path with the same decisions, so it is delivered to :attr:`dst_node`."""
        if not self.space.contains(point):
            raise ValueError(f"{tuple(point)} is not a header of this class")
        src, dst, proto, sport, dport = (int(v) for v in point[:5])
        header = Header(src, dst, proto, sport, dport)
        steps = build_forwarding(self._net).walk(self.src_node, header, choices=dict(self.choices))
        return trace_from_steps(self._net, steps, self.src_node, self.dst_node, None, self.dst_node)

    @property
    def trace(self) -> Trace:
        """The real trace of the representative packet (built on first use)."""
        cached = self.__dict__.get("_trace")
        if cached is None:
            cached = trace_from_steps(self._net, list(self._steps), self.src_node, self.dst_node, None, self.dst_node)
            object.__setattr__(self, "_trace", cached)
        return cached

    def to_json(self, with_trace: bool = True) -> dict:
        out: dict[str, Any] = {
            "from": self.src_node,
            "to": self.dst_node,
            "space": str(self.space),
            "boxes": self.space.to_json(),
            "headers": self.space.size(),
            "representative": self.representative,
            "path": list(self.path),
        }
        if with_trace:
            out["trace"] = self.trace.to_json()
        return out


@dataclass
class _Flow:
    node: str
    in_if: str | None
    vrf: str | None
    space: HeaderSpace  # over the headers as the source sent them
    ttl: int
    src_const: int | None  # the source address after NAT
    outers: tuple[Header, ...]  # encapsulation, innermost first (each with inner=None)
    choices: tuple[tuple[int, int], ...]
    depth: int
    path: tuple[str, ...]
    seen: frozenset = frozenset()  # the states (but the TTL) this flow has been in: a repeat is a loop

    def key(self) -> tuple:
        """The flow's state apart from its TTL: arriving here again, its packets would loop."""
        return (self.node, self.in_if, self.vrf, self.src_const, tuple(o._replace(ttl=0) for o in self.outers))

    def constants(self) -> tuple:
        if self.outers:
            return self.outers[-1].fields()
        return (self.src_const, None, None, None, None)

    def header(self, point: tuple) -> Header:
        h = Header(point[SRC] if self.src_const is None else self.src_const, point[DST], point[PROTO],
                   point[SPORT], point[DPORT], self.ttl)
        for outer in self.outers:
            h = outer._replace(inner=h)
        return h


def _peel(h: Header) -> tuple[Header, tuple[Header, ...]]:
    levels = []
    while h.inner is not None:
        levels.append(h._replace(inner=None))
        h = h.inner
    return h, tuple(reversed(levels))


@dataclass(frozen=True)
class _Suffix:
    """What a flow in one state delivers, relative to it, kept for flows from other sources arriving alike.

    ``delivered``: the classes delivered at the flow's own node, (space, last step); ``below``: for each next
    hop whose flow delivers something, (the node it adds to the path, its ECMP branch, what it delivers);
    ``depth``: the most hops any branch took below; ``work``: the flows walked to find it. A suffix is a
    tree of shared parts, so keeping one costs what its own node found, not its classes again at every
    level above.

    Why it may be given again. The walk from a flow reads its node, arrival interface, VRF, rewrites and
    header space (the key it is kept under), and its TTL only where a packet runs out of it or a state
    repeats. A suffix is kept only when neither happened below it (*clean*): then a flow arriving in the
    same state with a TTL above ``depth + 1`` runs out nowhere either, and it cannot meet a state of its
    own way here (from that state the walk would come back here, a repeat the suffix would have seen).
    The classes of a source are so the same as when every flow is walked anew; only the work is shared
    where the ways of many sources meet, as those of every province's internet exit at the centre.
    """

    delivered: tuple[tuple[HeaderSpace, Step], ...]
    below: tuple[tuple[tuple[str, ...], int | None, _Suffix], ...]
    depth: int
    work: int
    nodes: frozenset[str] = frozenset()  # with footprints: every node a flow below it was decided at

    @property
    def delivers(self) -> bool:
        return bool(self.delivered or self.below)

    def unfold(self, flow: _Flow, out: list[tuple[_Flow, Step]]) -> None:
        """Append to ``out`` every class of this suffix as reached by ``flow``: its path and choices first."""
        for space, last in self.delivered:
            out.append((replace(flow, space=space), last))
        for hop, branch, sub in self.below:
            choice = ((flow.depth, branch),) if branch is not None else ()
            sub.unfold(replace(flow, path=flow.path + hop, choices=flow.choices + choice, depth=flow.depth + 1), out)


class _Engine:
    def __init__(self, net: Network, fw: Forwarder, check: int = 0, budget: int = MAX_FLOWS, share: bool = True,
                 footprints: bool = False, seeds: Walks | None = None):
        self.net = net
        self.footprints = footprints  # each suffix says which nodes decided below it (to be kept for later)
        self.share = share
        self.fw = fw
        self.budget = budget
        self.expanded = 0
        self.check = check
        self.rng = random.Random(0)
        self.loops: list[_Flow] = []
        self.memo: dict[frozenset, dict[tuple, _Suffix]] = seeds.memo if seeds else {}  # destinations → state → …
        self.split_memo: dict[tuple, list[tuple[HeaderSpace, Any]]] = \
            seeds.splits if seeds else {}  # (node, VRF, space) → dst_groups
        self.visited: set[str] = set()  # every node a flow was decided at: all the answer depends on

    # -- splitting ----------------------------------------------------------------
    def atoms(self, flow: _Flow) -> list[tuple[HeaderSpace, int | None]]:
        """Split a flow into parts on which the hop's decision cannot differ."""
        fw = self.fw
        ns = fw.nodes[flow.node]
        consts = flow.constants()
        iface = ns.interfaces.get(flow.in_if) if flow.in_if is not None else None
        transit = flow.in_if is not None
        out: list[tuple[HeaderSpace, int | None]] = []
        parts: list[HeaderSpace] = []
        if iface is not None and iface.acl_in is not None:
            for _, permit, part in iface.acl_in.partition(flow.space, consts):
                if permit:
                    parts.append(part)
                else:
                    out.append((part, None))
        else:
            parts = [flow.space]
        if ns.gateway is not None:
            allowed = map_box(box(proto=allowed_protocols(ns.gateway)), consts)
            split = []
            for part in parts:
                if allowed is None:
                    split.append(part)
                    continue
                inside, outside = part.split_box(allowed)
                split.extend(p for p in (inside, outside) if p)
            parts = split
        vrf = iface.vrf if iface is not None and iface.vrf is not None else flow.vrf
        for part in parts:
            for group, decision in self.dst_groups(flow.node, vrf, part, consts):
                if decision is None or decision.kind not in (ROUTE, TUNNEL):
                    out.append((group, None))
                    continue
                if decision.kind == TUNNEL:
                    hops = fw.outer_hops(decision.end)
                    after = None  # the whole header is the outer one: constant
                else:
                    hops = decision.hops
                    after = consts
                if not hops:
                    out.append((group, None))
                    continue
                for branch, hop in enumerate(hops):
                    egress = ns.interfaces[hop.out_if]
                    acl = fw.out_acl(ns, egress, transit, decision.kind == TUNNEL)
                    b = branch if len(hops) > 1 else None
                    pieces = [group] if acl is None or after is None else \
                        [piece for _, _, piece in acl.partition(group, after)]
                    if egress.nat and after is not None:  # NAT rewrites some ICMP messages and not others
                        pieces = [p for piece in pieces for p in _split(piece, UNTRANSLATED, after)]
                    out.extend((piece, b) for piece in pieces)
        return out

    def dst_groups(self, node: str, vrf: str | None, part: HeaderSpace, consts: tuple):
        """``part`` split by destination into groups the node treats alike: [(space, decision)]."""
        if consts[DST] is not None:
            return [(part, None)]
        known = self.split_memo.get((node, vrf, part))
        if known is not None:
            return known
        fw = self.fw
        wide = _wide(fw, part)
        over = _dst_union(part) if not wide and _windowed(fw, part) else None
        runs = fw.dst_runs(node, vrf, partition=wide, over=over)  # runs of destinations decided alike, where known
        looked = 0
        keys: dict[int, tuple] = {}
        decisions: dict[tuple, Any] = {}
        groups: dict[tuple, list] = {}
        for b in part.boxes:
            per: dict[tuple, list[tuple[int, int]]] = {}
            segments = _pieces(fw, b[DST], runs)
            looked += len(segments)
            for piece, decided in segments:
                key = keys.get(piece[0])
                if key is None:
                    d = decided if decided is not None else fw.piece_decision(node, vrf, piece[0])
                    key = d.group
                    keys[piece[0]] = key
                    decisions.setdefault(key, d)
                pieces = per.get(key)
                if pieces is None:
                    per[key] = [piece]
                elif pieces[-1][1] + 1 == piece[0]:
                    pieces[-1] = (pieces[-1][0], piece[1])
                else:
                    pieces.append(piece)
            if len(per) == 1:
                ((key, _),) = per.items()
                groups.setdefault(key, []).append(b)
                continue
            for key, pieces in per.items():
                groups.setdefault(key, []).append((b[SRC], IntervalSet(pieces), b[PROTO], b[SPORT], b[DPORT]))
        out = [(HeaderSpace(tuple(boxes)), decisions[key]) for key, boxes in groups.items()]
        if looked >= SPLIT_KEPT:  # a wide flow (a cloud's "everything"), likely to come again from another side
            self.split_memo[(node, vrf, part)] = out
        return out

    # -- walking ------------------------------------------------------------------
    def outcome_key(self, s: Step) -> tuple:
        bottom, outers = _peel(s.header)
        return (s.decision, s.rule, s.out_if, s.next_node, s.next_if, s.vrf, s.nat, s.tunnel, outers, bottom.ttl,
                bottom.src if s.nat and not outers else None)

    def run(self, source: str, dst_space: IntervalSet, destinations: frozenset[str]) -> list[tuple[_Flow, Step]]:
        fw = self.fw
        start = _Flow(source, None, fw.nodes[source].vrf, universe(dst=dst_space), 64, None, (), (), 0, (source,))
        if not start.space:
            return []
        memo = self.memo.setdefault(destinations, {})
        suffix, _, _ = self.walk(start, destinations, memo)
        out: list[tuple[_Flow, Step]] = []
        suffix.unfold(start, out)
        return out

    def walk(self, flow: _Flow, destinations: frozenset[str], memo: dict[tuple, _Suffix]) -> tuple[_Suffix, bool, int]:
        """What ``flow`` delivers to ``destinations``, relative to it: (suffix, clean, flows walked for it).

        ``clean``: no branch below looped or ran out of TTL. A clean suffix depends on nothing but the flow's
        state and space (see :class:`_Suffix`); one that took at least :data:`SHARED_WORK` flows is kept in
        ``memo`` and given again to a flow (of another source, or another branch) arriving in the same state.
        """
        key = (flow.node, flow.in_if, flow.vrf, flow.src_const, flow.outers, flow.space)
        known = memo.get(key) if self.share else None
        if known is not None and flow.ttl > known.depth + 1:
            if self.footprints:
                self.visited |= known.nodes
            return known, True, known.work  # what it saves counts towards keeping the suffixes above it
        self.expanded += 1
        self.visited.add(flow.node)
        if self.expanded > self.budget:
            raise ReachTooLarge(f"the reachability query expanded more than {self.budget:,} flows; "
                                "ask about fewer sources or destinations")
        if flow.depth > MAX_DEPTH:
            raise ReachTooLarge(f"a path of the reachability query is longer than {MAX_DEPTH} hops")
        fw = self.fw
        merged: dict[tuple, tuple[HeaderSpace, Step, int | None]] = {}
        order: list[tuple] = []
        for space, branch in self.atoms(flow):
            point = tuple(f[0][0] for f in space.boxes[0])  # any member will do: the atom decides alike
            s = fw.step(flow.node, flow.in_if, flow.header(point), flow.vrf, None, branch)
            outcome = self.outcome_key(s) + (branch,)
            if self.check:
                self.verify(flow, space, branch, outcome)
            if outcome in merged:
                old, step, b = merged[outcome]
                merged[outcome] = (old.union_disjoint(space), step, b)
            else:
                merged[outcome] = (space, s, branch)
                order.append(outcome)
        delivered: list[tuple[HeaderSpace, Step]] = []
        below: list[tuple[tuple[str, ...], int | None, _Suffix]] = []
        reached: list[frozenset[str]] = []
        depth, clean, work = 0, True, 1
        for outcome in order:
            space, s, branch = merged[outcome]
            space = space.coalesce()
            if s.decision in TERMINAL:
                clean = clean and s.decision != "ttl_expired"
                if s.decision == "delivered" and s.node in destinations:
                    delivered.append((space, s))
                continue
            assert s.next_node is not None  # a non-terminal step (forwarded, encapsulated, decapsulated) has one
            bottom, outers = _peel(s.header)
            src_const = bottom.src if (s.nat and not outers) else flow.src_const
            choice = ((flow.depth, branch),) if branch is not None else ()
            hop = (s.next_node,) if s.next_node != flow.node else ()
            nxt = _Flow(s.next_node, s.next_if, s.vrf, space, bottom.ttl, src_const, outers, flow.choices + choice,
                        flow.depth + 1, flow.path + hop, flow.seen | {flow.key()})
            if nxt.key() in nxt.seen:
                self.loops.append(nxt)  # a forwarding loop: these packets never arrive
                clean = False
                continue
            sub, sub_clean, sub_work = self.walk(nxt, destinations, memo)
            if self.footprints:
                reached.append(sub.nodes)
            clean, work, depth = clean and sub_clean, work + sub_work, max(depth, sub.depth + 1)
            if sub.delivers:
                below.append((hop, branch, sub))
        nodes = frozenset({flow.node}).union(*reached) if self.footprints else frozenset()
        suffix = _Suffix(tuple(delivered), tuple(below), depth, work, nodes)
        if clean and self.share and work >= SHARED_WORK:
            memo[key] = suffix
        return suffix, clean, work

    def verify(self, flow: _Flow, space: HeaderSpace, branch: int | None, key: tuple) -> None:
        """Debug check: random members of an atom must take the same decision as its representative."""
        for _ in range(self.check):
            b = self.rng.choice(space.boxes)
            point = tuple(self.rng.choice(b[f])[0] if self.rng.random() < 0.5 else self.rng.choice(b[f])[1] for f in range(5))
            s = self.fw.step(flow.node, flow.in_if, flow.header(point), flow.vrf, None, branch)
            got = self.outcome_key(s) + (branch,)
            if got != key:
                raise AssertionError(f"atom not homogeneous at {flow.node}: {point} gives {got[:3]}, representative {key[:3]}")


def _wide(fw: Forwarder, part: HeaderSpace) -> bool:
    """Whether ``part`` holds enough of the network's elementary pieces for its node's owner partition (one pass
    over them all, :mod:`simulator.dst_runs`) to cost less than deciding its pieces one by one."""
    return _held(fw, part) >= max(SPLIT_KEPT, len(fw.boundaries()) // WIDE)


def _windowed(fw: Forwarder, part: HeaderSpace) -> bool:
    """Whether ``part`` holds enough elementary pieces for the owner partition of those pieces alone (array
    arithmetic over them, then one decision per place) to cost less than deciding them one by one."""
    return _held(fw, part) >= WINDOW


def _held(fw: Forwarder, part: HeaderSpace) -> int:
    """How many elementary pieces the destinations of ``part``'s boxes hold (a piece met by two boxes twice)."""
    return sum(fw.piece_count(b[DST]) for b in part.boxes)


def _dst_union(part: HeaderSpace) -> IntervalSet:
    """Every destination of ``part``, as one set."""
    if len(part.boxes) == 1:
        return part.boxes[0][DST]
    return IntervalSet.of(iv for b in part.boxes for iv in b[DST])


def _pieces(fw: Forwarder, dst: IntervalSet, runs: DstRuns | None) -> list[tuple[tuple[int, int], Any]]:
    """``dst`` in address order as (interval, decision or None): the elementary pieces of it (None: to be
    decided), but where the node's ``runs`` (:mod:`simulator.dst_runs`) are known, each run it meets whole with
    the decision it shares, and pieces only inside the runs decided piece by piece."""
    if runs is None:
        return [(piece, None) for piece in fw.elementary(dst)]
    out: list[tuple[tuple[int, int], Any]] = []
    for lo, hi in dst:
        for first, last, decision in runs.over(lo, hi):
            if decision is None:
                out.extend((piece, None) for piece in fw.elementary(IntervalSet.span(first, last)))
            else:
                out.append(((first, last), decision))
    return out


UNTRANSLATED = box(proto=(ICMP, ICMP), dport=IntervalSet.of((t, t) for t in range(256) if t not in ICMP_QUERIES))


def _split(space: HeaderSpace, b, constants: tuple) -> list[HeaderSpace]:
    """``space`` cut by box ``b`` (seen from the original header, see map_box): the non-empty parts."""
    mapped = map_box(b, constants)
    if mapped is None:
        return [space]
    inside, outside = space.split_box(mapped)
    return [p for p in (inside, outside) if p]


class DestinationSpace:
    """The addresses a query's destinations answer for, and for each of them the addresses the others answer for.

    ``full`` is the union of every destination's addresses (:meth:`Forwarder.owned_intervals`);
    ``without(d)`` is the union over the destinations other than ``d``: ``full`` less the addresses only ``d``
    answers for (those of ``d`` that no other destination shares). Built in one pass over the destinations,
    so a query whose sources are destinations too costs no pass over the others per source.

    >>> from simulator.forwarding import build_forwarding
    >>> fw = build_forwarding(net)                                   # the Chuxiong plan
    >>> space = DestinationSpace(fw, ["楚雄州行政审批服务器", "双柏县财政局"])
    >>> space.without("双柏县财政局") == IntervalSet.of(fw.owned_intervals("楚雄州行政审批服务器"))
    True
    >>> space.without("某处") == space.full
    True
    """

    def __init__(self, fw: Forwarder, destinations: Iterable[str]):
        self._own = {d: IntervalSet.of(fw.owned_intervals(d)) for d in dict.fromkeys(destinations)}
        self.full = IntervalSet.of(iv for own in self._own.values() for iv in own)
        self._shared = _covered_twice(self._own.values())

    def without(self, destination: str) -> IntervalSet:
        own = self._own.get(destination)
        return self.full if own is None else self.full - (own - self._shared)


def _covered_twice(sets: Iterable[IntervalSet]) -> IntervalSet:
    """The addresses inside two or more of ``sets`` (each already merged, so a count is a count of sets).

    >>> _covered_twice([IntervalSet.of([(0, 9)]), IntervalSet.of([(5, 20)]), IntervalSet.of([(8, 30)])])
    ((5, 20),)
    """
    events = sorted(e for s in sets for lo, hi in s for e in ((lo, 1), (hi + 1, -1)))
    out: list[tuple[int, int]] = []
    depth, start = 0, 0
    for at, step in events:
        before, depth = depth, depth + step
        if before < 2 <= depth:
            start = at
        elif depth < 2 <= before and at > start:
            out.append((start, at - 1))
    return IntervalSet.of(out)


def reach(net: Network, sources: list[str], destinations: list[str], *, check: int = 0,
          budget: int = MAX_FLOWS, share: bool = True) -> list[ReachClass]:
    """Every class of headers from each source delivered to a destination node (see the module docstring).

    ``check`` > 0 re-decides that many random members of every atom and raises
    if one differs from its representative (a self-test, for the test suite).
    ``budget`` bounds the flows the query may expand (:class:`ReachTooLarge`).
    ``share=False`` walks every flow anew instead of giving a flow what another in the same state delivered
    (:class:`_Suffix`): the same answer, slower; the tests compare the two.
    """
    return reach_answer(net, sources, destinations, check=check, budget=budget, share=share).classes


@dataclass(frozen=True)
class LoopClass:
    """Headers from ``src_node`` towards the destinations that come back to a node where they were before, in
    the same state: a forwarding loop, so they never arrive. ``steps`` are the hops of the representative packet
    up to where its hop limit ends it (the loop, lap after lap)."""

    src_node: str
    space: HeaderSpace
    representative: dict
    path: tuple[str, ...]  # the nodes up to the one the loop comes back to
    steps: tuple = field(repr=False, compare=False)

    def text(self) -> str:
        r = self.representative
        ports = f" {r['sport']}->{r['dport']}" if r["proto"] in ("tcp", "udp") else ""
        return (f"{self.src_node}: {self.space}\n    e.g. {r['proto']} {r['src']} -> {r['dst']}{ports} loops: "
                f"{' > '.join(self.path)}")


@dataclass(frozen=True)
class ReachAnswer:
    """What a reachability query finds: the classes delivered, and the classes caught in a forwarding loop."""

    classes: list[ReachClass]
    loops: list[LoopClass]
    expanded: int = 0  # flows walked: the work the query took


def reach_answer(net: Network, sources: list[str], destinations: list[str], *, check: int = 0,
                 budget: int = MAX_FLOWS, share: bool = True) -> ReachAnswer:
    """:func:`reach`'s classes, and every class of headers from a source towards the destinations that loops.

    >>> answer = reach_answer(net, ["双柏县财政局"], ["楚雄州行政审批服务器"])    # the Chuxiong plan
    >>> len(answer.classes) > 0, answer.loops
    (True, [])
    """
    for name in list(sources) + list(destinations):
        if name not in net.nodes:
            raise SelectorError(f"no node named '{name}'")
    answers = net.cached(ReachAnswers)
    key = (tuple(sources), tuple(destinations), check, budget, share)
    found = answers.kept.get(key)
    if found is None:
        with no_gc():
            answer, visited, walks = _reach(net, sources, destinations, check, budget, share, answers.keep_walks,
                                            answers.seeds.pop(key, None))
        found = answers.kept[key] = (answer, visited)
        if walks is not None:
            answers.walks[key] = walks
    answer, _ = found
    return ReachAnswer(list(answer.classes), list(answer.loops), answer.expanded)


@dataclass
class Walks:
    """What the walks of one query found, for a later version: the suffix of each state walked
    (destinations → state → suffix, each with the nodes decided below it) and the wide destination splits."""

    memo: dict[frozenset, dict[tuple, _Suffix]]
    splits: dict[tuple, list[tuple[HeaderSpace, Any]]]

    def carried(self, changed: frozenset[str]) -> Walks:
        """The suffixes below which no node of ``changed`` decided, and every split (they read the routing
        alone, the same in a version the forwarding is carried to)."""
        memo = {dests: {state: s for state, s in states.items() if s.nodes.isdisjoint(changed)}
                for dests, states in self.memo.items()}
        return Walks(memo, dict(self.splits))


class ReachAnswers:
    """The reachability answers asked of one network, each with the nodes its walk decided at: given the
    forwarding state, an answer depends on the states of those nodes alone (every hop of every flow is decided
    by its node; the tunnels' state is the same or nothing is carried, :func:`simulator.carry.carry_over`)."""

    def __init__(self, net: Network):
        self.net = net
        self.kept: dict[tuple, tuple[ReachAnswer, frozenset[str]]] = {}
        self.keep_walks = False  # keep each query's walks too (:class:`Walks`), for a later version
        self.walks: dict[tuple, Walks] = {}
        self.seeds: dict[tuple, Walks] = {}  # walks carried from an earlier version, for a query asked again
        self.spaces: dict[tuple[str, ...], DestinationSpace] = {}  # they read the routing inputs alone

    def space(self, fw: Forwarder, destinations: Iterable[str]) -> DestinationSpace:
        """The :class:`DestinationSpace` of ``destinations``, built once per network and the versions it is
        carried to."""
        key = tuple(dict.fromkeys(destinations))
        found = self.spaces.get(key)
        if found is None:
            found = self.spaces[key] = DestinationSpace(fw, key)
        return found

    def carried(self, net: Network, changed: frozenset[str]) -> ReachAnswers:
        """The answers for ``net``, a later version of this network with the same forwarding but at the nodes
        of ``changed``: each answer whose walk met none of them, its classes now of ``net``; of the others, the
        walks below which none of them decided, which the query asked again starts from (the module docstring
        of :class:`_Suffix` says why a suffix may be given again; a node whose state is the same decides alike)."""
        out = ReachAnswers(net)
        out.keep_walks = self.keep_walks
        out.spaces = self.spaces
        for key, (answer, visited) in self.kept.items():
            if visited.isdisjoint(changed):
                classes = [replace(c, _net=net) for c in answer.classes]
                out.kept[key] = (ReachAnswer(classes, answer.loops, answer.expanded), visited)
                if key in self.walks:
                    out.walks[key] = self.walks[key]
            elif key in self.walks:
                out.seeds[key] = self.walks[key].carried(changed)
        return out


def _reach(net: Network, sources: list[str], destinations: list[str], check: int, budget: int, share: bool,
           footprints: bool = False, seeds: Walks | None = None) -> tuple[ReachAnswer, frozenset[str], Walks | None]:
    fw = build_forwarding(net)
    engine = _Engine(net, fw, check, budget, share, footprints, seeds)
    wanted = frozenset(destinations)  # one set for every source not among them: its hash is computed once
    order = {n: i for i, n in enumerate(net.nodes)}
    out: list[ReachClass] = []
    loops: list[LoopClass] = []
    spaces = net.cached(ReachAnswers).space(fw, destinations)
    for source in dict.fromkeys(sources):
        dst_space = spaces.without(source)
        if not dst_space:
            continue
        src_ip = fw.primary_address(source)
        prefer = dict(PREFER)
        if src_ip is not None:
            prefer[SRC] = (src_ip,)
        before = len(engine.loops)
        found = engine.run(source, dst_space, wanted - {source} if source in wanted else wanted)
        loops.extend(_loop_class(fw, source, flow, prefer) for flow in engine.loops[before:])
        for flow, last in found:
            dst_prefer = dict(prefer)
            primary = fw.primary_address(last.node)
            if primary is not None:
                dst_prefer[DST] = (primary,)
            point = flow.space.representative(dst_prefer)
            header = Header(point[SRC], point[DST], point[PROTO], point[SPORT], point[DPORT])
            steps = fw.walk(source, header, choices=dict(flow.choices))
            end = steps[-1]
            if end.decision != "delivered" or end.node != last.node:
                raise AssertionError(f"reach: the representative {header} of a class to {last.node} was "
                                     f"{end.decision} at {end.node} when replayed")
            out.append(ReachClass(source, last.node, flow.space, _representative(header), net, tuple(steps), flow.path,
                                  tuple(sorted(dict(flow.choices).items()))))
    out.sort(key=lambda c: (order[c.src_node], order[c.dst_node], c.path, _space_key(c.space)))
    loops.sort(key=lambda c: (order[c.src_node], c.path, _space_key(c.space)))
    walks = Walks(engine.memo, engine.split_memo) if footprints else None
    return ReachAnswer(out, loops, engine.expanded), frozenset(engine.visited | set(sources)), walks


def _loop_class(fw: Forwarder, source: str, flow: _Flow, prefer: dict) -> LoopClass:
    space = flow.space.coalesce()
    point = space.representative(prefer)
    header = Header(point[SRC], point[DST], point[PROTO], point[SPORT], point[DPORT])
    steps = fw.walk(source, header, choices=dict(flow.choices))
    return LoopClass(source, space, _representative(header), flow.path, tuple(steps))


def _space_key(space: HeaderSpace) -> tuple:
    return tuple(tuple(f[0] for f in b) for b in space.boxes[:4])


def _representative(h: Header) -> dict:
    out = {"src": ip_text(h.src), "dst": ip_text(h.dst), "proto": proto_name(h.proto), "sport": h.sport, "dport": h.dport}
    if h.proto == 1:
        out["icmp_type"] = h.dport
    return out


def reach_text(classes: list[ReachClass], loops: Sequence[LoopClass] = ()) -> str:
    """The answer as text: one line per class, with its representative; then the classes that loop, if any."""
    lines = []
    if not classes:
        lines.append("no packet gets through")
    for c in classes:
        r = c.representative
        ports = f" {r['sport']}->{r['dport']}" if r["proto"] in ("tcp", "udp") else ""
        lines.append(f"{c.src_node} -> {c.dst_node}: {c.space}")
        lines.append(f"    e.g. {r['proto']} {r['src']} -> {r['dst']}{ports}; via {' > '.join(c.path)}")
    if classes:
        total = sum(c.space.size() for c in classes)
        lines.append(f"{len(classes)} class(es), {total} header(s) in all")
    if loops:
        lines.append(f"FORWARDING LOOP: {len(loops)} class(es) of packets come back to a node they left and never "
                     "arrive:")
        lines.extend(loop.text() for loop in loops)
    return "\n".join(lines) + "\n"


__all__ = [
    "DestinationSpace",
    "LoopClass",
    "ReachAnswer",
    "ReachClass",
    "ReachTooLarge",
    "reach",
    "reach_answer",
    "reach_text",
]
