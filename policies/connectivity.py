"""Physical connectivity of a network, computed once and queried per domain pair.

Physical isolation and the classified-network rules ask the same question many
times: can anything in domain A reach anything in domain B over cables and
devices, whatever the configuration? The answer comes from the connected
components of the physical graph (scipy's C implementation on a sparse
matrix), computed once per set of *excused* one-way gateways:

- an excused gateway is cut out of the graph and turned into directed edges
  between the component on its ``from`` side and the one on its ``to`` side,
  so data may cross it in the declared direction only;
- every other device, cable and dual-homed host (一机两用) joins components.

Two domains are joined when one component holds nodes of both; data flows
from A to B through gateways when A's components reach B's along the directed
gateway edges. The shortest offending path (the evidence) is searched only for
the pairs that fail.

Which gateways a rule may excuse is decided by :func:`gateway_problem` (the
rules no policy can relax: nothing leaves a classified domain towards a lower
clearance, nothing enters a classified domain but through an approved import
device, a gateway wired to a third domain separates nothing) and by the
rule's own list of accepted directions.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from topology.model import Link, Network
from topology.selectors import is_public

from .registry import Context

SHORT_SEARCH = 3  # links: the first, bounded search for an offending path (most cross at the boundary)


@dataclass
class PhysicalIndex:
    """The physical graph as arrays: node i is ``names[i]``, link k joins ``a[k]`` and ``b[k]``.

    Like the networkx views of :mod:`topology.graphs`, it is a view of the
    immutable network and is cached on it (built once per network).
    """

    names: list[str]
    index: dict[str, int]
    domains: list[str]
    domain_code: np.ndarray
    a: np.ndarray
    b: np.ndarray
    matrix: csr_matrix  # every link, i -> j once (the plain graph, as one would hand it to scipy)
    symmetric: csr_matrix  # every link both ways, float64: what scipy's searches take without converting
    gateways: list[str]  # declared one-way gateways, in plan order
    link_names: list[str] = field(default_factory=list)
    members: dict[str, np.ndarray] = field(default_factory=dict)  # domain -> node indices
    _edge_link: dict[tuple[int, int], str] | None = None

    @property
    def edge_link(self) -> dict[tuple[int, int], str]:
        """(min, max) node index -> the first link name between them (built on first use: evidence only)."""
        if self._edge_link is None:
            table: dict[tuple[int, int], str] = {}
            for name, i, j in zip(self.link_names, self.a.tolist(), self.b.tolist()):
                key = (i, j) if i < j else (j, i)
                if key not in table or name < table[key]:
                    table[key] = name
            self._edge_link = table
        return self._edge_link

    def nodes_of(self, domain: str) -> np.ndarray:
        found = self.members.get(domain)
        if found is None:
            code = self.domains.index(domain) if domain in self.domains else -1
            found = self.members[domain] = np.flatnonzero(self.domain_code == code)
        return found


def physical_index(net: Network, context: Context | None = None) -> PhysicalIndex:
    """The array view of ``net``'s physical graph (cached on the network)."""
    return net.cached(_build_physical_index)


def _build_physical_index(net: Network) -> PhysicalIndex:
    names = list(net.nodes)
    index = {n: i for i, n in enumerate(names)}
    domains = list(net.domains)
    extra = sorted({n.domain for n in net.nodes.values()} - set(domains))
    domains += extra
    code = {d: i for i, d in enumerate(domains)}
    domain_code = np.fromiter((code[n.domain] for n in net.nodes.values()), dtype=np.int64, count=len(names))
    links = list(net.links.values())
    a = np.fromiter((index[l.a] for l in links), dtype=np.int64, count=len(links))
    b = np.fromiter((index[l.b] for l in links), dtype=np.int64, count=len(links))
    n = len(names)
    matrix = csr_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    symmetric = _symmetric(a, b, n)
    gateways = [x.name for x in net.nodes.values() if x.role == "one_way_gateway" or x.gateway is not None]
    return PhysicalIndex(names, index, domains, domain_code, a, b, matrix, symmetric, gateways, list(net.links))


@dataclass
class Components:
    """Components of the physical graph with some gateway nodes cut out."""

    index: PhysicalIndex
    excluded: frozenset[str]
    matrix: csr_matrix  # symmetric, float64 (see PhysicalIndex.symmetric)
    labels: np.ndarray  # component of each node; -1 for excluded gateways
    domain_components: dict[str, set[int]] = field(default_factory=dict)
    component_domains: dict[int, list[str]] = field(default_factory=dict)
    # the gateway digraph: component or gateway id -> what it feeds (gateway ids lie above every label)
    gateway_edges: dict[int, set[int]] = field(default_factory=dict)

    def joined_pairs(self) -> set[frozenset[str]]:
        """Every pair of distinct domains that share a component."""
        out: set[frozenset[str]] = set()
        for doms in self.component_domains.values():
            for i, d1 in enumerate(doms):
                for d2 in doms[i + 1:]:
                    out.add(frozenset((d1, d2)))
        return out

    def feeds(self, source: str, target: str) -> bool:
        """Whether data can flow from domain ``source`` to ``target`` through excused gateways."""
        start = self.domain_components.get(source, set())
        goal = self.domain_components.get(target, set())
        if not start or not goal or not self.gateway_edges:
            return False
        seen = set(start)
        queue = deque(start)
        while queue:
            comp = queue.popleft()
            for nxt in self.gateway_edges.get(comp, ()):
                if nxt in goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return False


def components(net: Network, context: Context | None, excused: Iterable[str] = ()) -> Components:
    """Components with the gateway nodes ``excused`` cut out (cached per set in ``context``)."""
    excluded = frozenset(excused)

    def build() -> Components:
        pi = physical_index(net, context)
        n = len(pi.names)
        symmetric = pi.symmetric
        if excluded:
            cut = np.zeros(n, dtype=bool)
            cut[[pi.index[g] for g in excluded]] = True
            keep = ~(cut[pi.a] | cut[pi.b])
            symmetric = _symmetric(pi.a[keep], pi.b[keep], n)
        # the matrix holds every link both ways, so strong components are the connected ones, and
        # scipy finds them without building the transpose
        _, labels = connected_components(symmetric, directed=True, connection="strong")
        labels = labels.astype(np.int64)
        for g in excluded:
            labels[pi.index[g]] = -1
        comps = Components(pi, excluded, symmetric, labels)
        keep_nodes = labels >= 0
        nd = len(pi.domains)
        # which (component, domain) pairs occur: one counting pass, no sorting
        key = labels[keep_nodes] * nd + pi.domain_code[keep_nodes]
        pairs = np.flatnonzero(np.bincount(key, minlength=nd)) if len(key) else np.array([], dtype=np.int64)
        comp_of, dom_of = pairs // nd, pairs % nd
        for comp, dom in zip(comp_of.tolist(), dom_of.tolist()):
            comps.domain_components.setdefault(pi.domains[dom], set()).add(comp)
        if len(comp_of):
            multi = np.bincount(comp_of) > 1
            wanted = multi[comp_of]
            for comp, dom in zip(comp_of[wanted].tolist(), dom_of[wanted].tolist()):
                comps.component_domains.setdefault(comp, []).append(pi.domains[dom])
        # each excused gateway is a node of the gateway digraph (ids above the component labels):
        # its 'from' side feeds it, it feeds its 'to' side, and gateways cabled together feed each other
        # when the domains line up, exactly as a packet may cross them
        first = int(labels.max()) + 1 if len(labels) else 0
        gid = {g: first + k for k, g in enumerate(sorted(x for x in excluded if net.nodes[x].gateway is not None))}
        for g, me in gid.items():
            gw = net.nodes[g].gateway
            assert gw is not None
            for link in net.links_of(g):
                other = link.other(g)
                dom = net.nodes[other].domain
                if other in gid:
                    peer = net.nodes[other].gateway
                    if peer is not None and dom == gw.to_domain and net.nodes[g].domain == peer.from_domain:
                        comps.gateway_edges.setdefault(me, set()).add(gid[other])
                    continue
                if other in excluded:
                    continue
                if dom == gw.from_domain:
                    comps.gateway_edges.setdefault(int(labels[pi.index[other]]), set()).add(me)
                if dom == gw.to_domain:
                    comps.gateway_edges.setdefault(me, set()).add(int(labels[pi.index[other]]))
        return comps

    if context is None:
        return build()
    return context.memo(("connectivity.components", excluded), build)


def gateway_problem(net: Network, node: str) -> str | None:
    """Why ``node`` cannot count as a one-way separation, or None when it can.

    These limits hold whatever a policy says (保密法 Art. 31 and the one-way
    import rule for classified networks).
    """
    n = net.nodes[node]
    gw = n.gateway
    if n.role != "one_way_gateway" or gw is None:
        return "it is not a declared one-way gateway"
    if gw.from_domain == gw.to_domain:
        return "it declares the same network on both sides"
    src, dst = net.domains.get(gw.from_domain), net.domains.get(gw.to_domain)
    if src is None or dst is None:
        return "it names a network the plan does not define"
    if src.classified and dst.clearance < src.clearance:
        return (f"it would carry data out of classified {net.domain_label(src.name)} "
                f"to {net.domain_label(dst.name)}, which is never allowed")
    if src.classified and is_public(dst):
        return f"it would carry classified data to a public network ({net.domain_label(dst.name)})"
    if dst.classified and not gw.approved:
        return f"it feeds classified {net.domain_label(dst.name)} but is not marked as an approved import device"
    others = sorted({net.nodes[l.other(node)].domain for l in net.links_of(node)} - {gw.from_domain, gw.to_domain})
    if others:
        return f"it is also cabled to {', '.join(net.domain_label(d) for d in others)}, beyond its two declared sides"
    return None


def gateway_nodes(net: Network) -> list[str]:
    """Declared one-way gateways (role one_way_gateway or a ``gateway:`` block), in plan order."""
    return physical_index(net).gateways


def link_between(net: Network, u: str, v: str) -> Link | None:
    """The link joining ``u`` and ``v`` (the first by name when there are parallel ones)."""
    pi = physical_index(net)
    i, j = pi.index[u], pi.index[v]
    if pi._edge_link is not None:
        name = pi._edge_link.get((i, j) if i < j else (j, i))
        return net.links[name] if name is not None else None
    # a few lookups for a path: a vectorised scan is cheaper than building the whole table
    hits = np.flatnonzero(((pi.a == i) & (pi.b == j)) | ((pi.a == j) & (pi.b == i)))
    if not len(hits):
        return None
    return net.links[min(pi.link_names[k] for k in hits.tolist())]


def shortest_paths(comps: Components, sources: np.ndarray | list[str],
                   targets: dict[str, np.ndarray | list[str]]) -> dict[str, list[str]]:
    """Shortest path (node names) from any of ``sources`` to any node of each target group.

    Undirected, over the graph without the excluded gateways; one multi-source
    search (scipy, unweighted) answers every group. Nodes are given by name or
    by index; groups that cannot be reached are left out. Ties go to the target
    with the lowest index (plan order).
    """
    pi = comps.index
    src_idx = _indices(pi, sources)
    if not len(src_idx):
        return {}
    groups = {key: _indices(pi, group) for key, group in targets.items()}
    groups = {key: idx for key, idx in groups.items() if len(idx)}
    out: dict[str, list[str]] = {}
    # offending paths are usually short: search near the sources first, the whole graph only if needed
    for limit in (SHORT_SEARCH, np.inf):
        dist, pred, _ = dijkstra(comps.matrix, directed=True, indices=src_idx, unweighted=True,
                                 min_only=True, return_predecessors=True, limit=limit)
        for key, idx in groups.items():
            if key in out:
                continue
            d = dist[idx]
            finite = np.isfinite(d)
            if not finite.any():
                continue
            best = int(idx[np.flatnonzero(d == d[finite].min())[0]])
            path = [best]
            while pred[path[-1]] >= 0:
                path.append(int(pred[path[-1]]))
            out[key] = [pi.names[i] for i in reversed(path)]
        if len(out) == len(groups):
            break
    return out


def _symmetric(a: np.ndarray, b: np.ndarray, n: int) -> csr_matrix:
    rows = np.concatenate((a, b))
    cols = np.concatenate((b, a))
    m = csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    return m


def _indices(pi: PhysicalIndex, nodes: np.ndarray | list[str]) -> np.ndarray:
    if isinstance(nodes, np.ndarray):
        return np.sort(nodes)
    return np.array(sorted(pi.index[n] for n in nodes), dtype=np.int64)


def directed_path(net: Network, sources: Iterable[str], targets: set[str], excused: frozenset[str]) -> list[str] | None:
    """Shortest path from ``sources`` to ``targets`` crossing excused gateways only in their direction (BFS)."""
    parent: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for s in sorted(sources):
        if s not in parent and s not in excused:  # an excused gateway belongs to neither side
            parent[s] = None
            queue.append(s)
    while queue:
        u = queue.popleft()
        if u in targets and u not in excused:
            path = [u]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])  # type: ignore[arg-type]
            return list(reversed(path))
        here = net.nodes[u]
        for link in sorted(net.links_of(u), key=lambda l: l.name):
            v = link.other(u)
            if v in parent:
                continue
            if v in excused:
                gw = net.nodes[v].gateway
                if gw is None or here.domain != gw.from_domain:
                    continue
            if u in excused:
                gw = here.gateway
                if gw is None or net.nodes[v].domain != gw.to_domain:
                    continue
            parent[v] = u
            queue.append(v)
    return None


def path_links(net: Network, path: list[str]) -> list[Link]:
    out = []
    for u, v in itertools.pairwise(path):
        link = link_between(net, u, v)
        if link is not None:
            out.append(link)
    return out


def component_labels(names: list[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Connected components of a small ad-hoc graph: node name → component label."""
    index = {n: i for i, n in enumerate(names)}
    pairs = [(index[u], index[v]) for u, v in edges if u in index and v in index]
    n = len(names)
    if not n:
        return {}
    rows = np.fromiter((u for u, _ in pairs), dtype=np.int64, count=len(pairs))
    cols = np.fromiter((v for _, v in pairs), dtype=np.int64, count=len(pairs))
    matrix = csr_matrix((np.ones(len(pairs), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(matrix, directed=True, connection="weak")
    return dict(zip(names, labels.tolist()))
