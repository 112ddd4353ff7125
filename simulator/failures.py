"""Failure analysis: the loads after a link or node fails, computed incrementally.

Definition. A *failure* removes a set of links and nodes (N-1: one element;
N-2: two; a shared-risk group of the plan, ``risk_groups:``: all its members
at once). The network *after* the failure is :func:`without` (the plan with
those links, nodes, the interfaces on them and the tunnels ending on them
gone); its loads are :func:`simulator.load.assign` of the intact network's
demands on it, routed by a fresh :class:`~simulator.routing.RoutingState`.
Demands with an endpoint on a failed node are *orphaned* (gone with the node,
not counted as lost); a demand is *lost* when it delivers less than before,
and a lost demand is *cut* when the failure leaves no physical way between its
ends but through hosts (which forward nothing) or controlled devices
(firewalls, gateways, tunnel ends) it did not cross before: there is then no
alternative the plan provides, as in a tree-shaped part of the network
(:meth:`FailureAnalysis.new_boundaries`).

:meth:`FailureAnalysis.case` computes the same answer without redoing
everything:

1. **Unaffected demands keep their DAG.** Routing is shortest-path ECMP: if
   none of a demand's DAG edges, nodes, tunnel outer paths or destination
   interface fails, every node on the DAG keeps its next hops, so the demand
   is unchanged. A failure no demand touches changes nothing.
2. **Cut demands, closed form.** A demand whose source and destination the
   failure separates physically (a bridge: every link of a tree-shaped part
   of the plan; a cut node: every router of a pendant tree) delivers nothing
   afterwards, so its load simply leaves every link of its DAG: no routing is
   needed. Bridges and cut nodes come from one depth-first search
   (:class:`Cuts`, low-link values).
3. **The rest is rerouted** on a routing state *derived* from the intact one
   (:meth:`simulator.routing.RoutingState.degraded`: only the VRF graphs the
   failure touches are rebuilt) and a forwarding state derived from the
   intact one (:meth:`simulator.forwarding.Forwarder.derive`: only the nodes
   that lost an interface or a neighbour are rebuilt); each rerouted demand
   is placed by :func:`simulator.load.demand_path`, the one per-hop decision.

:meth:`FailureAnalysis.from_scratch` is the plain recomputation, kept as the
reference the incremental answer is tested and benchmarked against.

Example::

    >>> fa = FailureAnalysis(net)       # the Chuxiong plan: a county's only uplink fails
    >>> r = fa.case(Failure(links=("双柏县外网核心--楚雄州外网核心",)))
    >>> r.method, len(r.lost) > 0
    ('closed-form', True)
"""

from __future__ import annotations

import bisect
import fnmatch
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from topology.errors import GovnetError
from topology.model import Flow, Network, freeze, links_index
from topology.validation import close_match
from topology.vocabulary import CONTROLLED_ROLES

from .forwarding import Forwarder, build_forwarding
from .load import Assignment, Direction, assign, base_assignment, demand_path
from .patched import Patched
from .routing import RoutingState
from .tunnels import behind, tunnel_ends

LOAD_EPSILON = 1e-6  # bit/s: smaller residues of float subtraction are zero
SHARE_EPSILON = 1e-9
MODES = ("none", "n-1", "n-2")
CHOICES = ("none", "n-1", "n-2", "links", "nodes", "risk-groups")  # what ``--failures`` takes (see selection)
GROUP_LABEL = "risk group "


class FailureError(GovnetError):
    """A failure names an element the network does not have, or a mode is unknown."""


@dataclass(frozen=True, slots=True, order=True)
class Failure:
    """The links and nodes that fail together; ``group``: the shared-risk group they are (its name)."""

    links: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    group: str = ""

    @property
    def label(self) -> str:
        """``link A``, ``node B``, ``link A + link C`` (N-2), ``risk group G``: how reports name the failure."""
        if self.group:
            return GROUP_LABEL + self.group
        parts = [f"link {l}" for l in self.links] + [f"node {n}" for n in self.nodes]
        return " + ".join(parts) if parts else "none"

    @property
    def size(self) -> int:
        return len(self.links) + len(self.nodes)


@dataclass(frozen=True)
class CaseResult:
    """Loads after one failure, as changes to the intact loads, and the demands it costs."""

    failure: Failure
    method: str                                   # unaffected | closed-form | rerouted | from-scratch
    changed: tuple[tuple[Direction, float], ...]  # link direction -> load after the failure (only changes)
    lost: tuple[tuple[int, float], ...]           # demand index -> share no longer delivered
    orphaned: tuple[int, ...] = ()                # demands with an endpoint on a failed node
    cut: tuple[int, ...] = ()                     # lost demands whose endpoints no physical path joins any more
    nodes: frozenset[str] = frozenset()           # the nodes the rerouted demands' packets met after the failure
    touched: frozenset[Direction] = field(default=frozenset(), compare=False)  # every direction it summed (kept only)

    def loads(self, base: dict[Direction, float]) -> dict[Direction, float]:
        """The full load map after the failure (links that failed carry nothing)."""
        out = dict(base)
        out.update(self.changed)
        return {k: v for k, v in out.items() if v > LOAD_EPSILON and k[0] not in self.failure.links}


@dataclass(frozen=True)
class Replay:
    """The network in one failure, whole (:meth:`FailureAnalysis.replay`): what ``capacity --under`` shows."""

    failure: Failure
    net: Network                        # the network after the failure (:func:`without`)
    assignment: Assignment              # the intact demands but the orphaned, routed on ``net``
    kept: tuple[int, ...]               # intact demand index of each of ``assignment.demands``
    lost: tuple[tuple[int, float], ...]  # intact demand index -> share no longer delivered
    orphaned: tuple[int, ...]           # demands with an endpoint on a failed node
    cut: tuple[int, ...]                # lost demands whose endpoints no physical path joins any more
    failed_links: tuple[str, ...] = ()  # every link gone: those failed and those at failed nodes, plan order


# -- the network after a failure -------------------------------------------------------------

def without(net: Network, links: Iterable[str] = (), nodes: Iterable[str] = ()) -> Network:
    """``net`` with ``links`` and ``nodes`` (and every link, interface and tunnel on them) removed."""
    failed_nodes = set(nodes)
    failed_links = set(links)
    for name in failed_links:
        if name not in net.links:
            raise FailureError(f"no link '{name}' to fail")
    for name in failed_nodes:
        if name not in net.nodes:
            raise FailureError(f"no node '{name}' to fail")
        failed_links |= {l.name for l in net.links_of(name)}
    index = net.cached(links_index)
    touched = {end for name in failed_links for end in net.links[name].ends} - failed_nodes
    keep_links = Patched(net.links)  # read through the failure's few changes, not copied
    for name in failed_links:
        del keep_links[name]
    nodes_out = Patched(net.nodes)
    for name in failed_nodes:
        del nodes_out[name]
    for name in touched:
        node = nodes_out[name]
        kept = {k: i for k, i in node.interfaces.items() if i.link is None or i.link not in failed_links}
        nodes_out[name] = replace(node, interfaces=freeze(kept))
    flows = net.flows if failed_nodes.isdisjoint(net.cached(flow_ends)) else \
        tuple(f for f in net.flows if f.src not in failed_nodes and f.dst not in failed_nodes)
    tunnels = net.tunnels if not failed_nodes else \
        freeze({k: t for k, t in net.tunnels.items() if t.a not in failed_nodes and t.b not in failed_nodes})
    derived = net.derive(nodes=freeze(nodes_out), links=freeze(keep_links), tunnels=tunnels, flows=flows)
    new_index = dict(index)
    for name in failed_nodes:
        new_index.pop(name, None)
    for name in touched:
        new_index[name] = tuple(l for l in index.get(name, ()) if l.name not in failed_links)
    derived.remember(links_index, new_index)
    return derived


def flow_ends(net: Network) -> frozenset[str]:
    """The nodes some flow of ``net`` starts or ends at (a failure of any other node keeps every flow)."""
    return frozenset(n for f in net.flows for n in (f.src, f.dst))


# -- physical cuts ----------------------------------------------------------------------------

class Cuts:
    """Bridges and cut nodes of the physical graph, from one depth-first search (low-link values).

    ``nodes`` (default: every node) restricts the graph to those nodes and
    the links between them, e.g. the forwarding devices a path may transit.
    """

    def __init__(self, net: Network, nodes: Iterable[str] | None = None):
        self.net = net
        keep = set(net.nodes) if nodes is None else set(nodes)
        names = [n for n in net.nodes if n in keep]
        self.index = {n: i for i, n in enumerate(names)}
        n = len(names)
        adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        used = [l for l in net.links.values() if l.a in self.index and l.b in self.index]
        self.link_ids = {l.name: k for k, l in enumerate(used)}
        for k, link in enumerate(used):
            a, b = self.index[link.a], self.index[link.b]
            adj[a].append((b, k))
            adj[b].append((a, k))
        self._adj = adj
        self._used = used
        tin = [-1] * n
        low = [0] * n
        tout = [0] * n
        parent = [-1] * n
        parent_edge = [-1] * n
        comp = [-1] * n
        children: list[list[int]] = [[] for _ in range(n)]
        timer = 0
        for root in range(n):
            if tin[root] != -1:
                continue
            tin[root] = low[root] = timer
            timer += 1
            comp[root] = root
            stack = [(root, 0)]
            while stack:
                v, i = stack[-1]
                if i < len(adj[v]):
                    stack[-1] = (v, i + 1)
                    w, k = adj[v][i]
                    if k == parent_edge[v]:
                        continue
                    if tin[w] == -1:
                        tin[w] = low[w] = timer
                        timer += 1
                        parent[w], parent_edge[w], comp[w] = v, k, root
                        children[v].append(w)
                        stack.append((w, 0))
                    else:
                        low[v] = min(low[v], tin[w])
                    continue
                stack.pop()
                tout[v] = timer - 1
                if parent[v] != -1:
                    low[parent[v]] = min(low[parent[v]], low[v])
        self.tin, self.low, self.tout, self.parent, self.parent_edge, self.comp = tin, low, tout, parent, parent_edge, comp
        self.children = children  # in increasing tin order
        self.child_tins = [[tin[c] for c in cs] for cs in children]
        link_names = [l.name for l in used]
        self.bridge_child: dict[str, int] = {}
        for v in range(n):
            p = parent[v]
            if p != -1 and low[v] > tin[p]:
                self.bridge_child[link_names[parent_edge[v]]] = v
        self.names = names

    def _in_subtree(self, x: int, root: int) -> bool:
        return self.tin[root] <= self.tin[x] <= self.tout[root]

    def link_separates(self, link: str, a: str, b: str) -> bool:
        """Whether failing ``link`` leaves ``a`` and ``b`` without any physical path."""
        child = self.bridge_child.get(link)
        if child is None:
            return False
        x, y = self.index[a], self.index[b]
        if self.comp[x] != self.comp[y]:
            return True
        return self._in_subtree(x, child) != self._in_subtree(y, child)

    def _side(self, v: int, x: int) -> int:
        """The component of ``x`` in G − v: a separated child subtree of v, or −1 for the rest."""
        cs = self.children[v]
        i = bisect.bisect_right(self.child_tins[v], self.tin[x]) - 1
        if i >= 0:
            c = cs[i]
            if self._in_subtree(x, c) and self.low[c] >= self.tin[v]:
                return c
        return -1

    def node_separates(self, node: str, a: str, b: str) -> bool:
        """Whether failing ``node`` leaves ``a`` and ``b`` (neither of them ``node``) without a physical path."""
        v, x, y = self.index[node], self.index[a], self.index[b]
        if self.comp[x] != self.comp[y]:
            return True
        if self.comp[v] != self.comp[x]:
            return False
        return self._side(v, x) != self._side(v, y)

    def is_bridge(self, link: str) -> bool:
        return link in self.bridge_child

    def single_points(self, a: str, b: str) -> list[str] | None:
        """The links and nodes whose failure alone separates ``a`` from ``b``; None when no path joins them.

        An empty list means two paths that share no link and no intermediate
        node (Menger's theorem: no single element separates them). Every such
        element lies on every path, so one path is searched and its elements
        are tested: ``link NAME`` for bridges, ``node NAME`` for cut nodes.
        """
        if a not in self.index or b not in self.index:
            return None
        x, y = self.index[a], self.index[b]
        if self.comp[x] != self.comp[y]:
            return None
        parent: dict[int, tuple[int, int] | None] = {x: None}
        queue = [x]
        for v in queue:  # breadth first, the queue grows as it is read
            if v == y:
                break
            for w, k in self._adj[v]:
                if w not in parent:
                    parent[w] = (v, k)
                    queue.append(w)
        out: list[str] = []
        v = y
        while parent[v] is not None:
            u, k = parent[v]  # type: ignore[misc]
            link = self._used[k].name
            if self.link_separates(link, a, b):
                out.append(f"link {link}")
            if u != x and self.node_separates(self.names[u], a, b):
                out.append(f"node {self.names[u]}")
            v = u
        return sorted(out)


# -- the analysis -----------------------------------------------------------------------------

class CaseMemo:
    """The failure cases answered on one network's own forwarding and demands, kept (when ``keep``) for a
    later version of the network.

    A case's answer reads the intact assignment (every demand's path and the loads they sum to), the topology
    and, for the demands it reroutes, the states of the nodes their packets meet after the failure
    (:attr:`CaseResult.nodes`). In a later version with the same routing inputs
    (:func:`simulator.carry.carry_over`), :meth:`carried` keeps the cases none of whose rerouted demands met a
    changed node. The first analysis of the later version (:meth:`valid_for`) then compares the two
    assignments. The demands must be the same, and so must the controlled devices a way round may not cross.
    The demands whose paths differ are the *moved* ones. A kept case still holds when the failure touches no
    moved demand, in either version: no failed link is one a moved demand uses (or its address sits on), no
    failed node is one it meets, and it meets no tunnel end. Then the case affects the same demands. Its
    answer must also read no load that moved: no link direction it sums
    (:attr:`CaseResult.touched`) carries a different intact load, bit for bit. Under these conditions the case
    is answered alike. The bridges and cut nodes (:class:`Cuts`) are kept too: the topology is the same.
    """

    def __init__(self, net: Network):
        self.net = net
        self.keep = False
        self.cases: dict[Failure, CaseResult] = {}
        self.basis: Assignment | None = None  # the assignment the cases were answered on
        self.controlled: frozenset[str] | None = None  # the controlled devices of that analysis
        self.cuts: Cuts | None = None  # its bridges and cut nodes: they read the topology alone
        self._pending: tuple[Assignment, frozenset[str] | None, dict[Failure, CaseResult]] | None = None

    def carried(self, net: Network, changed: frozenset[str]) -> CaseMemo:
        """The cases for ``net``, a later version with the same forwarding but at the nodes of ``changed``:
        those whose rerouted demands met none of them, held until the later assignment is known."""
        out = CaseMemo(net)
        out.keep = self.keep
        out.cuts = self.cuts
        if self.basis is not None:
            out._pending = (self.basis, self.controlled,
                            {f: r for f, r in self.cases.items() if r.nodes.isdisjoint(changed)})
        return out

    def valid_for(self, analysis: FailureAnalysis) -> dict[Failure, CaseResult]:
        """The kept cases that hold for ``analysis`` (on the network's own assignment; see the class
        docstring)."""
        assignment = analysis.assignment
        assert assignment is not None
        controlled = analysis.controlled()
        if self._pending is not None:
            old, old_controlled, cases = self._pending
            self._pending = None
            self.cases = _still_holding(old, assignment, cases) if old_controlled == controlled else {}
        self.basis = assignment
        self.controlled = controlled
        return self.cases


def _still_holding(old: Assignment, new: Assignment, cases: dict[Failure, CaseResult]) -> dict[Failure, CaseResult]:
    """Of ``cases``, answered on ``old``, those that hold on ``new`` (:class:`CaseMemo`)."""
    if old.demands != new.demands:
        return {}
    moved = {i for i, (p, q) in enumerate(zip(old.paths, new.paths)) if p is not q and p != q}
    if not moved:
        return cases
    net = new.net
    links: set[str] = set()
    nodes: set[str] = set()
    for a in (old, new):
        links.update(link for link, at in a.by_link().items() if not moved.isdisjoint(at))
        nodes.update(node for node, at in a.by_node().items() if not moved.isdisjoint(at))
    if any(t.a in nodes or t.b in nodes for t in net.tunnels.values()):
        return {}
    loads = {key for key in old.load.keys() | new.load.keys() if old.load.get(key) != new.load.get(key)}
    nodes.update(end for name in links if name in net.links for end in net.links[name].ends)  # failing one fails a link

    def holds(r: CaseResult) -> bool:
        return r.method != "from-scratch" and nodes.isdisjoint(r.failure.nodes) \
            and links.isdisjoint(r.failure.links) and loads.isdisjoint(r.touched)

    return {f: r for f, r in cases.items() if holds(r)}


@dataclass
class FailureAnalysis:
    """Everything needed to answer failure cases of one network quickly (built once)."""

    net: Network
    assignment: Assignment | None = None
    forwarder: Forwarder | None = None
    cuts: Cuts = field(init=False)

    def __post_init__(self) -> None:
        if self.forwarder is None:
            self.forwarder = build_forwarding(self.net)
        if self.assignment is None:
            self.assignment = base_assignment(self.net) if self.forwarder is build_forwarding(self.net) else \
                assign(self.net, forwarder=self.forwarder)
        own = self.assignment is self.net.known(assign) and self.forwarder is self.net.known(Forwarder)
        memo = self.net.cached(CaseMemo) if own else None
        if memo is not None and not memo.keep:
            memo = None
        self.cuts = memo.cuts if memo is not None and memo.cuts is not None else Cuts(self.net)
        if memo is not None:
            memo.cuts = self.cuts
        self.by_link = self.assignment.by_link()
        self.by_node = self.assignment.by_node()
        self._tunnel_sides: dict[str, frozenset[str]] | None = None
        self._base_sides: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._contributions: dict[int, tuple[tuple[Direction, float], ...]] = {}
        self._targets: dict[str, int | None] = {}
        self._devices: frozenset[str] | None = None
        self._hosts: frozenset[str] | None = None
        self.by_tunnel: dict[str, list[int]] = {}
        for i, path in enumerate(self.assignment.paths):
            for name in path.tunnels:
                self.by_tunnel.setdefault(name, []).append(i)
        self._kept = memo.valid_for(self) if memo is not None else None

    @property
    def keeps_cases(self) -> bool:
        """Whether the cases answered are kept for a later version (:class:`CaseMemo`): then they are all
        answered in this process."""
        return self._kept is not None

    @property
    def demands(self) -> tuple[Flow, ...]:
        return self.assignment.demands  # type: ignore[union-attr]

    def check(self, failure: Failure) -> None:
        for name in failure.links:
            if name not in self.net.links:
                raise FailureError(f"no link '{name}' to fail")
        for name in failure.nodes:
            if name not in self.net.nodes:
                raise FailureError(f"no node '{name}' to fail")

    def tunnel_sides(self) -> dict[str, frozenset[str]]:
        """Tunnel → the nodes whose failure may change its selectors or underlay (ends and what is behind them)."""
        if self._tunnel_sides is None:
            out = {}
            for t in self.net.tunnels.values():
                if t.a in self.net.nodes and t.b in self.net.nodes:
                    sides = (frozenset(behind(self.net, t, t.a, t.b)), frozenset(behind(self.net, t, t.b, t.a)))
                    self._base_sides[t.name] = sides
                    out[t.name] = sides[0] | sides[1]
            self._tunnel_sides = out
        return self._tunnel_sides

    def case(self, failure: Failure) -> CaseResult:
        """The loads after ``failure``, incrementally (see the module docstring)."""
        if self._kept is None:
            return self._case(failure)
        found = self._kept.get(failure)
        if found is None:
            found = self._kept[failure] = self._case(failure)
        return found

    def _case(self, failure: Failure) -> CaseResult:
        a = self.assignment
        assert a is not None
        demands = a.demands
        failed_nodes = set(failure.nodes)
        failed_links = set(failure.links) | {l.name for n in failed_nodes for l in self.net.links_of(n)}
        affected: set[int] = set()
        for name in failed_links:
            affected.update(self.by_link.get(name, ()))
        for name in failed_nodes:
            affected.update(self.by_node.get(name, ()))
        derived: Network | None = None
        new_ends: dict[str, tuple] = {}
        if self.net.tunnels:
            touched_nodes = failed_nodes | {e for l in failed_links for e in self.net.links[l].ends}
            for name, side in self.tunnel_sides().items():
                if not side & touched_nodes:
                    continue
                t = self.net.tunnels[name]
                through = set(self.by_node.get(t.a, ())) | set(self.by_node.get(t.b, ()))
                if t.a in failed_nodes or t.b in failed_nodes:
                    affected |= through | set(self.by_tunnel.get(name, ()))
                    continue
                if derived is None:
                    derived = without(self.net, failed_links, failed_nodes)
                if not touched_nodes & {t.a, t.b}:
                    # ends and underlay untouched: a selector changes only by the nodes that moved out of (or
                    # into) the sides behind the ends, and by the failed links' interface addresses, whose
                    # demands are affected through their links already
                    sides = (frozenset(behind(derived, t, t.a, t.b)), frozenset(behind(derived, t, t.b, t.a)))
                    old_sides = self._base_sides[name]
                    moved = (sides[0] ^ old_sides[0]) | (sides[1] ^ old_sides[1])
                    lans = [lan for n in sorted(moved) if (lan := self.net.nodes[n].lan) is not None]
                    for i in through - affected:
                        ip = self._target(i)
                        if demands[i].dst in moved or (ip is not None and any(
                                int(lan.network_address) == ip & int(lan.netmask) for lan in lans)):
                            affected.add(i)
                    continue
                ends = tuple(tunnel_ends(derived, t))
                new_ends[name] = ends
                old = self.forwarder.tunnels[name]  # type: ignore[union-attr]
                if [(e.node, e.address, e.peer_address, e.underlay_if) for e in ends] != \
                        [(e.node, e.address, e.peer_address, e.underlay_if) for e in old]:
                    affected |= through | set(self.by_tunnel.get(name, ()))
                    continue
                for i in through - affected:  # only a demand whose destination changes sides is affected
                    ip = self._target(i)
                    if ip is not None and any(n.selector.contains(ip) != o.selector.contains(ip)
                                              for n, o in zip(ends, old)):
                        affected.add(i)
        if not affected:
            return CaseResult(failure, "unaffected", (), ())
        order = sorted(affected)
        orphaned = [i for i in order if demands[i].src in failed_nodes or demands[i].dst in failed_nodes]
        orphan_set = set(orphaned)
        delta: dict[Direction, float] = {}
        for i in order:
            for key, value in self.contributions(i):
                delta[key] = delta.get(key, 0.0) - value
        lost: list[tuple[int, float]] = []
        cut: list[int] = []
        reroute: list[int] = []
        for i in order:
            if i in orphan_set:
                continue
            d = demands[i]
            if self._separated(d, failure):
                if a.paths[i].delivered > SHARE_EPSILON:
                    lost.append((i, a.paths[i].delivered))
                    cut.append(i)
            else:
                reroute.append(i)
        method = "closed-form"
        met: set[str] = set()
        if reroute:
            method = "rerouted"
            forwarder = self._derived_forwarder(failed_links, failed_nodes, derived, new_ends)
            for i in reroute:
                d = demands[i]
                path = demand_path(forwarder, d)
                met |= path.nodes
                for e in path.edges:
                    delta[e.key] = delta.get(e.key, 0.0) + d.rate * e.share * e.factor
                drop = a.paths[i].delivered - path.delivered
                if drop > SHARE_EPSILON:
                    lost.append((i, drop))
                    if _disconnected(forwarder.net, d.src, d.dst, self.new_boundaries(i)):
                        cut.append(i)
        changed = []
        for key in delta:  # in a fixed order: demands by index, each demand's edges in DAG order
            value = a.load.get(key, 0.0) + delta[key]
            if abs(value) < LOAD_EPSILON:
                value = 0.0
            if abs(value - a.load.get(key, 0.0)) > LOAD_EPSILON:
                changed.append((key, value))
        return CaseResult(failure, method, tuple(changed), tuple(sorted(lost)), tuple(orphaned), tuple(sorted(cut)),
                          frozenset(met), frozenset(delta) if self._kept is not None else frozenset())

    def _derived_forwarder(self, failed_links: set[str], failed_nodes: set[str], derived: Network | None,
                           new_ends: dict[str, tuple]) -> Forwarder:
        """The forwarding state after the failure, derived from the intact one."""
        base = self.forwarder
        assert base is not None
        if derived is None:
            derived = without(self.net, failed_links, failed_nodes)
        state = base.routing.degraded(derived, failed_links, failed_nodes)
        touched = {e for l in failed_links for e in self.net.links[l].ends}
        ends = None
        if self.net.tunnels:
            ends = {}
            for t in derived.tunnels.values():
                found = new_ends.get(t.name)
                if found is None and self._tunnel_sides is not None and t.name in self._tunnel_sides \
                        and self._tunnel_sides[t.name] & (failed_nodes | touched):
                    found = tuple(tunnel_ends(derived, t))  # exact selectors for the rerouted demands
                ends[t.name] = found or base.tunnels[t.name]
        return base.derive(derived, state, touched - failed_nodes, ends, failed_nodes)

    def contributions(self, index: int) -> tuple[tuple[Direction, float], ...]:
        """(link direction, load) of one demand in the intact network (cached)."""
        found = self._contributions.get(index)
        if found is None:
            found = tuple(self.assignment.contributions(index))  # type: ignore[union-attr]
            self._contributions[index] = found
        return found

    def _target(self, index: int) -> int | None:
        d = self.demands[index]
        if d.dst not in self._targets:
            self._targets[d.dst] = self.forwarder.primary_address(d.dst)  # type: ignore[union-attr]
        return self._targets[d.dst]

    def _separated(self, d: Flow, failure: Failure) -> bool:
        if d.src not in self.cuts.index or d.dst not in self.cuts.index:
            return False
        for link in failure.links:
            if self.cuts.link_separates(link, d.src, d.dst):
                return True
        return any(self.cuts.node_separates(node, d.src, d.dst) for node in failure.nodes)

    def from_scratch(self, failure: Failure) -> CaseResult:
        """The reference: rebuild the network, its routing and every demand's path."""
        a = self.assignment
        assert a is not None
        derived = without(self.net, failure.links, failure.nodes)
        after = assign(derived, a.demands, Forwarder(derived, RoutingState(derived)))
        failed_nodes = set(failure.nodes)
        orphaned = tuple(i for i, d in enumerate(a.demands) if d.src in failed_nodes or d.dst in failed_nodes)
        orphan_set = set(orphaned)
        lost = tuple((i, a.paths[i].delivered - p.delivered) for i, p in enumerate(after.paths)
                     if i not in orphan_set and a.paths[i].delivered - p.delivered > SHARE_EPSILON)
        keys = sorted(set(a.load) | set(after.load))
        changed = tuple((k, after.load.get(k, 0.0)) for k in keys
                        if abs(after.load.get(k, 0.0) - a.load.get(k, 0.0)) > LOAD_EPSILON)
        cut = tuple(i for i, _ in lost if _disconnected(derived, a.demands[i].src, a.demands[i].dst,
                                                          self.new_boundaries(i)))
        return CaseResult(failure, "from-scratch", changed, lost, orphaned, cut)

    def replay(self, failure: Failure) -> Replay:
        """The network in ``failure``, recomputed from scratch as :meth:`from_scratch` does, kept whole.

        The intact network's demands, less those orphaned by a failed node,
        are routed on :func:`without` by a fresh routing state; the result's
        network remembers that assignment as its own loads (what
        :func:`simulator.load.base_assignment` gives for it), so rules judge
        the network in the failure with the intact plan's demands.
        """
        a = self.assignment
        assert a is not None
        self.check(failure)
        derived = without(self.net, failure.links, failure.nodes)
        failed = set(failure.nodes)
        kept = [i for i, d in enumerate(a.demands) if d.src not in failed and d.dst not in failed]
        orphaned = tuple(sorted(set(range(len(a.demands))) - set(kept)))
        after = assign(derived, [a.demands[i] for i in kept], Forwarder(derived, RoutingState(derived)))
        lost = tuple((i, a.paths[i].delivered - p.delivered) for i, p in zip(kept, after.paths)
                     if a.paths[i].delivered - p.delivered > SHARE_EPSILON)
        cut = tuple(i for i, _ in lost if _disconnected(derived, a.demands[i].src, a.demands[i].dst,
                                                          self.new_boundaries(i)))
        derived.remember(assign, after)
        gone = tuple(l for l in self.net.links if l not in derived.links)
        return Replay(failure, derived, after, tuple(kept), lost, orphaned, cut, gone)

    def new_boundaries(self, index: int) -> frozenset[str]:
        """The controlled devices demand ``index`` does not cross in the intact network.

        A way round a failure through one of them crosses a security boundary
        the demand never crossed: it is no alternative the plan provides, so a
        demand that only has such a way left counts as cut off.
        """
        fw = self.forwarder
        assert fw is not None and self.assignment is not None
        crossed = self.assignment.paths[index].nodes
        return frozenset(n for n in self.controlled() if n not in crossed) | self._stubs()

    def _stubs(self) -> frozenset[str]:
        """Hosts, servers and MCUs: they carry no traffic for others, so no way round leads through them."""
        fw = self.forwarder
        assert fw is not None
        if self._hosts is None:
            self._hosts = frozenset(n for n, s in fw.nodes.items() if not s.forwarding)
        return self._hosts

    def controlled(self) -> frozenset[str]:
        """The controlled devices: boundaries, gateways, tunnel ends and the roles that control
        (``CONTROLLED_ROLES``); a way round a failure through one the demand never crossed is none."""
        if self._devices is None:
            fw = self.forwarder
            assert fw is not None
            self._devices = frozenset(n for n, s in fw.nodes.items() if s.boundary or s.gateway is not None
                                      or s.tunnel_ends or s.role in CONTROLLED_ROLES)
        return self._devices


def _disconnected(net: Network, a: str, b: str, avoid: frozenset[str] = frozenset()) -> bool:
    """Whether no physical path joins ``a`` and ``b`` in ``net`` through nodes not in ``avoid`` (breadth first)."""
    if a not in net.nodes or b not in net.nodes:
        return True
    seen = {a}
    frontier = [a]
    while frontier:
        nxt = []
        for node in frontier:
            for link in net.links_of(node):
                other = link.other(node)
                if other == b:
                    return False
                if other not in seen and other not in avoid:
                    seen.add(other)
                    nxt.append(other)
        frontier = nxt
    return a != b


# -- which failures to try ------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """Which failures a sweep tries: its mode (``n-1`` or ``n-2``) and the kinds of single elements."""

    mode: str = "n-1"
    links: bool = True
    nodes: bool = True
    groups: bool = False
    label: str = "n-1"  # as the command line wrote it, e.g. links+risk-groups

    @property
    def elements(self) -> list[str]:
        """The ``elements`` parameter of the redundancy rule: links, nodes, risk_groups."""
        return [k for k, on in (("links", self.links), ("nodes", self.nodes), ("risk_groups", self.groups)) if on]


def selection(choices: Iterable[str]) -> Selection | None:
    """What ``--failures`` asks for (repeatable, or joined by ``,``); None for ``none``.

    ``n-1``: every link and every node; ``n-2``: those and the pairs;
    ``links``, ``nodes``, ``risk-groups``: every single link, node, or
    shared-risk group of the plan. Several combine (``links,risk-groups``).

    >>> selection(["links", "risk-groups"])
    Selection(mode='n-1', links=True, nodes=False, groups=True, label='links+risk-groups')
    >>> selection(["none"]) is None
    True
    """
    wanted: list[str] = []
    for choice in choices:
        for part in choice.split(","):
            part = part.strip().lower()
            if part not in CHOICES:
                raise FailureError(f"unknown failure choice '{part}' (use {', '.join(CHOICES)})")
            if part not in wanted:
                wanted.append(part)
    if not wanted:
        wanted = ["n-1"]
    if "none" in wanted:
        if len(wanted) > 1:
            raise FailureError("'none' sweeps no failure; give it alone")
        return None
    return Selection(
        mode="n-2" if "n-2" in wanted else "n-1",
        links=bool({"n-1", "n-2", "links"} & set(wanted)),
        nodes=bool({"n-1", "n-2", "nodes"} & set(wanted)),
        groups="risk-groups" in wanted,
        label="+".join(wanted),
    )


def failure_cases(net: Network, mode: str, pair_set: Sequence[str] | None = None,
                  links: bool = True, nodes: bool = True, groups: bool = False) -> list[Failure]:
    """The failures of ``mode``, in a fixed order.

    ``n-1``: every link (plan order), then every node, then (``groups``)
    every shared-risk group of the plan, all its members at once. ``n-2``:
    those, then every pair of elements of ``pair_set`` (names or globs of
    links and nodes; default: the links of the meshed core, i.e. links that
    are no bridge).
    """
    if mode not in MODES:
        raise FailureError(f"unknown failure mode '{mode}' (use {', '.join(MODES)})")
    if mode == "none":
        return []
    out = [Failure(links=(l,)) for l in net.links] if links else []
    if nodes:
        out += [Failure(nodes=(n,)) for n in net.nodes]
    if groups:
        out += [group_failure(net, name) for name in net.risk_groups]
    if mode == "n-2":
        elements = pair_elements(net, pair_set)
        for x, y in itertools.combinations(elements, 2):
            out.append(Failure(links=tuple(e[1] for e in (x, y) if e[0] == "link"),
                               nodes=tuple(e[1] for e in (x, y) if e[0] == "node")))
    return out


def group_failure(net: Network, name: str) -> Failure:
    """The failure of shared-risk group ``name``: every link and node of it at once."""
    group = net.risk_groups[name]
    return Failure(links=group.links, nodes=group.nodes, group=name)


def failure_named(net: Network, text: str) -> Failure:
    """The failure a report's label names: ``link A``, ``node B``, ``risk group G``, a bare name of one of
    them, or several links and nodes joined by `` + `` (an N-2 case); raises FailureError with the closest
    labels as a hint.

    >>> failure_named(net, "双柏县外网核心--楚雄州外网核心").label      # the Chuxiong plan
    'link 双柏县外网核心--楚雄州外网核心'
    >>> failure_named(net, "node 楚雄州外网核心 + link 双柏县外网核心--楚雄州外网核心").size
    2
    """
    parts = [p.strip() for p in text.split(" + ")]
    if not text.strip() or not all(parts):
        raise FailureError("name a failure: a link, a node or a risk group, as the report labels it")
    found = [_element(net, part) for part in parts]
    if any(kind == "group" for kind, _ in found):
        if len(found) > 1:
            raise FailureError(f"'{text}': a risk group fails on its own; name it alone")
        return group_failure(net, found[0][1])
    links = tuple(dict.fromkeys(name for kind, name in found if kind == "link"))
    nodes = tuple(dict.fromkeys(name for kind, name in found if kind == "node"))
    return Failure(links=links, nodes=nodes)


def _element(net: Network, text: str) -> tuple[str, str]:
    """(link | node | group, name) of one part of a failure label."""
    for prefix, kind, known in ((GROUP_LABEL, "group", net.risk_groups), ("group ", "group", net.risk_groups),
                                ("link ", "link", net.links), ("node ", "node", net.nodes)):
        if text.startswith(prefix) and text[len(prefix):].strip() in known:
            return kind, text[len(prefix):].strip()
    matches = [(kind, text) for kind, known in (("link", net.links), ("node", net.nodes), ("group", net.risk_groups))
               if text in known]
    if len(matches) == 1:
        return matches[0]
    if matches:
        labels = [Failure(links=(n,)).label if k == "link" else Failure(nodes=(n,)).label if k == "node"
                  else GROUP_LABEL + n for k, n in matches]
        raise FailureError(f"'{text}' names {' and '.join(f'a {k}' for k, _ in matches)}: say which, as "
                           + " or ".join(f"'{x}'" for x in labels))
    labels = [f"link {l}" for l in net.links] + [f"node {n}" for n in net.nodes] + \
        [GROUP_LABEL + g for g in net.risk_groups]
    close = close_match(text, labels, cutoff=0.5) or close_match(text, [*net.links, *net.nodes, *net.risk_groups],
                                                                   cutoff=0.5)
    hint = f"did you mean '{close}'?" if close else "give a link, node or risk group name as the report labels it"
    raise FailureError(f"no link, node or risk group '{text}' to fail ({hint})")


def pair_elements(net: Network, pair_set: Sequence[str] | None) -> list[tuple[str, str]]:
    """(kind, name) of the elements N-2 pairs are drawn from (see :func:`failure_cases`)."""
    if not pair_set:
        cuts = Cuts(net)
        return [("link", l) for l in net.links if not cuts.is_bridge(l)]
    out: list[tuple[str, str]] = []
    for pattern in pair_set:
        found = [("link", l) for l in net.links if fnmatch.fnmatchcase(l, pattern)]
        found += [("node", n) for n in net.nodes if fnmatch.fnmatchcase(n, pattern)]
        if not found:
            raise FailureError(f"'{pattern}' names no link or node of the plan")
        out += [e for e in found if e not in out]
    return out
