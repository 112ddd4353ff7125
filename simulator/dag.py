"""Forwarding DAGs: every equal-cost branch of one packet, and what share of its traffic each carries.

Definition. The *forwarding DAG* of a packet sent by node ``s`` holds every
state (node, arrival interface, header, VRF) the packet can be in when
:meth:`simulator.forwarding.Forwarder.step` decides it, following every
equal-cost branch: a state whose step has *n* next hops has *n* successors,
``step(..., branch=b)`` for each *b*. This is the one per-hop decision of the
simulator (routes per VRF, ACLs, NAT, one-way gateways, tunnels and their
state, hop limit); nothing here decides anything on its own. The header
carries the TTL, which every forwarding step lowers, so the graph has no
cycle: a forwarding loop shows as a chain of states that ends when the TTL
runs out (:func:`simulator.forwarding.expiry_detail` says which it was).

Every path of the DAG is a trace: walking the packet with ``choices`` naming
the branch taken at each step gives exactly that path, and every choice of
branches gives a path of the DAG (the tests check both).

Traffic splits equally over the branches of a state, the fluid limit of
per-flow hashing. With ``A(x)`` the share of the packet's traffic that
arrives at state ``x`` (1 at the source) and ``p(x)`` the share of the
traffic at ``x`` that ends up delivered (1 at a delivery to the target, 0 at
a drop, the mean over the branches elsewhere), the transition from ``x``
over branch ``b`` carries ``A(x)/n`` of the traffic (*reached*), of which
``A(x)/n × p(child)`` is delivered.

Example: a host sends to a server behind a square of routers; r1 has two
equal-cost next hops, so half of the traffic crosses r2 and half r3, and
the two halves meet again at r4::

    >>> from topology.loader import load_text
    >>> square = load_text('''
    ... name: ecmp
    ... domains: {外网: {kind: extranet, pool: 10.1.0.0/16}}
    ... sites: {州: {level: prefecture}}
    ... defaults: {node: {domain: 外网, site: 州, role: core_router}}
    ... nodes: {h: {role: host}, r1: {}, r2: {}, r3: {}, r4: {}, srv: {role: server}}
    ... links: [{a: h, b: r1}, {a: r1, b: r2}, {a: r1, b: r3}, {a: r2, b: r4}, {a: r3, b: r4}, {a: r4, b: srv}]
    ... ''')
    >>> from simulator.forwarding import build_forwarding
    >>> from simulator.packets import Header
    >>> fw = build_forwarding(square)
    >>> dag = forwarding_dag(fw, "h", Header.make(fw.primary_address("h"), fw.primary_address("srv")), target="srv")
    >>> dag.delivered, sorted((e.link, e.delivered) for e in dag.transitions if e.link)[:4]
    (1.0, [('h--r1', 1.0), ('r1--r2', 0.5), ('r1--r3', 0.5), ('r2--r4', 0.5)])
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from topology.collector import no_gc
from topology.errors import GovnetError

from .forwarding import TERMINAL, Forwarder, Step, expiry_detail
from .packets import Header

MAX_STATES = 200_000
EPSILON = 1e-12

State = tuple[str, "str | None", Header, "str | None"]  # node, arrival interface (None: sent here), header, VRF


class DagTooLarge(GovnetError):
    """A packet's equal-cost branches fan out into more states than :data:`MAX_STATES`."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One branch out of one state: the step taken, and the shares of traffic it carries."""

    origin: int            # index of the state it leaves
    target: int | None     # index of the state it reaches (None: the step ended the packet's way)
    step: Step
    reached: float         # share of the packet's traffic taking this branch
    delivered: float       # share of it that is then delivered

    @property
    def link(self) -> str | None:
        return self.step.link


@dataclass(frozen=True, slots=True)
class Ending:
    """Where some of the traffic ends: delivered, or dropped with the step that dropped it."""

    state: int
    step: Step
    share: float
    delivered: bool


@dataclass
class ForwardingDag:
    """The forwarding DAG of one packet (see the module docstring)."""

    states: list[State]
    transitions: list[Transition]
    endings: list[Ending]
    delivered: float
    _parent: list[int | None] = field(repr=False, default_factory=list)  # a transition into each state
    _first: list[int] = field(repr=False, default_factory=list)  # the first transition out of each state

    @property
    def nodes(self) -> frozenset[str]:
        """Every node the packet (or its encapsulation) reaches on some branch."""
        return frozenset(s[0] for s in self.states)

    def path_to(self, state: int) -> list[Step]:
        """The steps of one way from the source to ``state`` (the first branch that reached it)."""
        out: list[Step] = []
        while True:
            t = self._parent[state]
            if t is None:
                return list(reversed(out))
            transition = self.transitions[t]
            out.append(transition.step)
            state = transition.origin

    def trace_steps(self, ending: Ending) -> list[Step]:
        """The steps of one way to ``ending``, its own step last, TTL expiry explained as in a trace."""
        steps = self.path_to(ending.state) + [ending.step]
        if ending.step.decision == "ttl_expired":
            steps[-1] = ending.step._replace(detail=expiry_detail(steps))
        return steps

    def way_through(self, transition: int) -> list[Step]:
        """The steps of one way from the source through ``transition`` to an ending (first branches after it)."""
        t = self.transitions[transition]
        steps = self.path_to(t.origin) + [t.step]
        state = t.target
        while state is not None:
            first = self._first[state]
            steps.append(self.transitions[first].step)
            state = self.transitions[first].target
        if steps[-1].decision == "ttl_expired":
            steps[-1] = steps[-1]._replace(detail=expiry_detail(steps))
        return steps

    def drops(self) -> list[Ending]:
        """The endings that are not a delivery, largest share first, then in exploration order."""
        return sorted((e for e in self.endings if not e.delivered), key=lambda e: (-e.share, e.state))


def forwarding_dag(fw: Forwarder, src: str, header: Header, target: str | None = None,
                   vrf: str | None = None) -> ForwardingDag:
    """The forwarding DAG of ``header`` sent by ``src`` (delivered means: to ``target``, when given)."""
    with no_gc():
        return _build(fw, src, header, target, fw.nodes[src].vrf if vrf is None else vrf)


def _build(fw: Forwarder, src: str, header: Header, target: str | None, vrf: str | None) -> ForwardingDag:
    start: State = (src, None, header, vrf)
    index: dict[State, int] = {start: 0}
    states: list[State] = [start]
    succ: list[list[tuple[Step, int | None]]] = []
    order = 0
    while order < len(states):  # breadth first: indices grow along every path, a topological order
        node, in_if, h, v = states[order]
        first = fw.step(node, in_if, h, v, None, 0)
        steps = [first] + [fw.step(node, in_if, h, v, None, b) for b in range(1, first.branches)] \
            if first.decision not in TERMINAL else [first]
        out: list[tuple[Step, int | None]] = []
        for s in steps:
            if s.decision in TERMINAL:
                out.append((s, None))
                continue
            nxt: State = (s.next_node, s.next_if, s.header, s.vrf)  # type: ignore[assignment]
            k = index.get(nxt)
            if k is None:
                k = index[nxt] = len(states)
                states.append(nxt)
                if len(states) > MAX_STATES:
                    raise DagTooLarge(f"the packet from {src} fans out into more than {MAX_STATES:,} states "
                                      "over equal-cost branches")
            out.append((s, k))
        succ.append(out)
        order += 1
    n = len(states)
    order_ = _topological(succ)
    p = _delivery(succ, order_, target)
    arrive = [0.0] * n
    arrive[0] = 1.0
    parent: list[int | None] = [None] * n
    transitions: list[Transition] = []
    endings: list[Ending] = []
    firsts = [0] * n
    for x in order_:
        branches = succ[x]
        share = arrive[x] / len(branches)
        firsts[x] = len(transitions)
        for s, k in branches:
            if k is None:
                done = _delivered(s, target)
                transitions.append(Transition(x, None, s, share, share if done else 0.0))
                endings.append(Ending(x, s, share, done))
                continue
            transitions.append(Transition(x, k, s, share, share * p[k]))
            arrive[k] += share
            if parent[k] is None:
                parent[k] = len(transitions) - 1
    delivered = sum(e.share for e in endings if e.delivered)
    return ForwardingDag(states, transitions, endings, min(1.0, delivered), parent, firsts)


def _delivered(s: Step, target: str | None) -> bool:
    return s.decision == "delivered" and (target is None or s.node == target)


def _delivery(succ: list[list[tuple[Step, int | None]]], order: list[int], target: str | None) -> list[float]:
    """p(x) for every state: the mean over its branches of what each delivers (successors first)."""
    p = [0.0] * len(succ)
    for x in reversed(order):
        branches = succ[x]
        total = 0.0
        for s, k in branches:
            total += (1.0 if _delivered(s, target) else 0.0) if k is None else p[k]
        p[x] = total / len(branches)
    return p


def _topological(succ: list[list[tuple[Step, int | None]]]) -> list[int]:
    """The states in an order where every state comes after each state that leads to it (Kahn)."""
    indegree = [0] * len(succ)
    for branches in succ:
        for _, k in branches:
            if k is not None:
                indegree[k] += 1
    ready = [x for x in range(len(succ)) if indegree[x] == 0]
    out: list[int] = []
    while ready:
        x = heapq.heappop(ready)  # the lowest index first: a fixed order close to the exploration's
        out.append(x)
        for _, k in succ[x]:
            if k is not None:
                indegree[k] -= 1
                if indegree[k] == 0:
                    heapq.heappush(ready, k)
    if len(out) != len(succ):  # the TTL falls on every forwarding step, so this cannot happen
        raise GovnetError("internal error: a packet's states form a cycle")
    return out


__all__ = ["MAX_STATES", "DagTooLarge", "Ending", "ForwardingDag", "Transition", "forwarding_dag"]
