"""Rule kind ``redundancy``: the plan survives any single failure (N-1), optionally N-2.

Definition. For every failure of the sweep (:mod:`simulator.failures`; by
default every single link and every single node, ``elements`` says which of
links, nodes and the plan's shared-risk groups (``risk_groups``: every member
of a group at once), ``failures: n-2`` adds every pair drawn from ``pairs``),
with traffic rerouted as the simulator forwards:

1. every demand still routes: none delivers less than it did before the
   failure (demands to or from a failed node go with it and are not counted).
   With ``survive: reachable`` (default) this is asked of the demands the
   failure leaves a way round to (through forwarding devices, and through no
   controlled device the demand did not cross before: see
   :meth:`simulator.failures.FailureAnalysis.new_boundaries`): a demand cut
   off because its only line failed (a tree-shaped part of the plan, which
   claims no redundancy) is reported but passes; a demand that could go
   round the failure but does not (routing, VRFs, filters on the way round)
   fails. ``survive: all`` is
   the strict N-1 criterion: every demand must survive every failure;
2. no failure drives a link direction above ``max_utilisation`` (default
   1.0: 100 %); a direction above it without any failure is the capacity
   rule's finding and is only mentioned here;
3. every **key node** (default: nodes offering ``data_centre`` or tagged
   ``key``; ``key`` takes node selectors, :mod:`topology.selectors`; with ``key_levels``, also the core routers of that many of
   the plan's highest levels) keeps two paths to each of its partners in its
   own network that share no link and no intermediate node (``key_to``, same selectors; default: the key
   nodes at the top level of the same network, see :func:`key_pairs`). Transit
   runs through forwarding nodes only, as routing does.

GB/T 22239-2019 8.1.2.1 e) asks for hardware redundancy of lines and key
network devices [V]; the N-1 criterion is a planning default (POLICY-SOURCES.md).
Evidence: per failing failure, the lost demands and the overloaded links;
per key pair, the single points of failure (a minimum cut). A plan with no
peak demand and no key node is not applicable.

Example (policy file)::

    - id: CAP-RED-1
      kind: redundancy
      clause: "GB/T 22239-2019 8.1.2.1 e) [V]; N-1 planning criterion [S]"
      params: {failures: n-1, elements: [links, nodes], key: ["service:data_centre"]}
"""

from __future__ import annotations

import networkx as nx

from simulator.failures import Cuts, Failure
from topology.errors import Mark
from topology.graphs import physical_graph
from topology.model import Network, RiskGroup
from topology.selectors import select_union
from topology.vocabulary import FORWARDING_ROLES, LEVELS

from .capacity import assignment_of, direction_label, sweep_of, unsized_links, unsized_reason
from .evidence import cap_list, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import RedundancyParams
from .registry import Context, params_of, register

MAX_EVIDENCE = 25


def disjoint_paths(net: Network, a: str, b: str, cuts: dict | None = None) -> tuple[int, list[str]]:
    """How many paths join ``a`` and ``b`` sharing no link, no intermediate node and no shared-risk group of the
    plan (capped at 2), and, when fewer than 2, every single point of failure between them (``link X``,
    ``node Y``, ``risk group Z``).

    Transit runs through forwarding nodes only, as routing does. Two paths
    sharing no link or node exist exactly when no single link or node
    separates the two (Menger's theorem), which one depth-first search of
    the graph answers (:meth:`simulator.failures.Cuts.single_points`);
    ``cuts`` caches those searches between calls. Two such paths that both
    depend on one risk group (two uplinks leased from one carrier) are one
    failure away from none: a group whose members, all failed at once,
    separate ``a`` from ``b`` is a single point of failure too.
    """
    cache = {} if cuts is None else cuts
    forwarding = cache.get("forwarding")
    if forwarding is None:
        forwarding = cache["forwarding"] = frozenset(n for n, node in net.nodes.items() if node.role in FORWARDING_ROLES)
    extra = frozenset(n for n in (a, b) if n not in forwarding)
    found = cache.get(extra)
    if found is None:
        found = cache[extra] = Cuts(net, forwarding | extra)
    points = found.single_points(a, b)
    if points is None:
        return 0, []
    if points:
        return 1, points
    groups = [f"risk group {g.name}" for g in net.risk_groups.values() if _separates(net, g, a, b, forwarding | extra)]
    return (1, groups) if groups else (2, [])


def _separates(net: Network, group: RiskGroup, a: str, b: str, transit: frozenset[str]) -> bool:
    """Whether failing every member of ``group`` (but ``a`` and ``b`` themselves) leaves no path from a to b."""
    down = set(group.nodes) - {a, b}
    graph = physical_graph(net)
    kept = nx.subgraph_view(graph, filter_node=lambda n: n in transit and n not in down,
                            filter_edge=lambda u, v, k: k not in group.links)
    return not nx.has_path(kept, a, b)


def key_pairs(net: Network, keys: list[str], partners: list[str] | None) -> list[tuple[str, str]]:
    """The pairs of nodes that need two disjoint paths, each inside one network.

    With ``partners`` given: every key node with every partner. Otherwise each
    key node with the key nodes of the highest level its network has (the top
    of the hierarchy), and those among themselves; with a single key node in a
    network, that node with the core routers at the top of the site tree.
    """
    pairs: list[tuple[str, str]] = []
    seen: set[frozenset[str]] = set()

    def add(a: str, b: str) -> None:
        key = frozenset((a, b))
        if a != b and key not in seen and net.nodes[a].domain == net.nodes[b].domain:
            seen.add(key)
            pairs.append((a, b))

    if partners is not None:
        for k in keys:
            for t in partners:
                add(k, t)
        return pairs
    roots = {s.name for s in net.sites.values() if s.parent is None}
    by_domain: dict[str, list[str]] = {}
    for k in keys:
        by_domain.setdefault(net.nodes[k].domain, []).append(k)
    for domain, members in by_domain.items():
        rank = {k: LEVELS.index(net.sites[net.nodes[k].site].level) if net.nodes[k].site in net.sites else 0
                for k in members}
        top = [k for k in members if rank[k] == min(rank.values())]
        if len(members) == 1:
            top = [n.name for n in net.nodes.values() if n.role == "core_router" and n.site in roots
                   and n.domain == domain]
        for k in members:
            for t in top:
                add(k, t)
    return pairs


def key_cores(net: Network, levels: int) -> list[str]:
    """The core routers at the ``levels`` highest levels of the plan's site tree that have core routers."""
    if levels <= 0:
        return []
    cores = [n for n in net.nodes.values() if n.role == "core_router" and n.site in net.sites]
    present = sorted({net.sites[n.site].level for n in cores}, key=LEVELS.index)[:levels]
    return [n.name for n in cores if net.sites[n.site].level in present]


def failed_elements(net: Network, failure: Failure) -> tuple[str, ...]:
    """The nodes a failure case is about: the failed nodes and the ends of the failed links."""
    names = list(failure.nodes) + [n for l in failure.links for n in net.links[l].ends]
    return tuple(dict.fromkeys(names))


@register("redundancy")
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, RedundancyParams)
    a = assignment_of(net, context)
    keys = list(dict.fromkeys(select_union(net, p.key) + key_cores(net, p.key_levels)))
    if not a.demands and not keys:
        return RuleResult.not_applicable(rule, "the plan has no peak demand and no key node "
                                         f"(matching {', '.join(p.key)})")
    sweep = sweep_of(net, context, p.failures, tuple(p.pairs), "links" in p.elements, "nodes" in p.elements,
                     p.max_utilisation, groups="risk_groups" in p.elements)
    evidence: list[Evidence] = []
    problems: list[str] = []
    # 1. lost demands
    strict = p.survive == "all"
    lost_of = {case: (sweep.lost[case] if strict else sweep.unprotected(case)) for case in sweep.lost}
    lost_cases = sorted(case for case, items in lost_of.items() if items)
    cut_cases = sorted(case for case in sweep.cut if sweep.cut[case])
    for case in lost_cases[:MAX_EVIDENCE]:
        failure = sweep.failures[case]
        lost = lost_of[case]
        names = [f"{a.demands[i].service} {a.demands[i].src} -> {a.demands[i].dst}" for i, _ in lost]
        marks = tuple(net.links[l].mark for l in failure.links) + tuple(net.nodes[n].mark for n in failure.nodes)
        if failure.group:
            marks = (net.risk_groups[failure.group].mark,) + marks
        evidence.append(Evidence("failure", f"after {failure.label}: {plural(len(lost), 'demand')} lose their path "
                                             f"({cap_list(names, 3)})",
                                 {"failure": failure.label, "lost": [{"demand": n, "share": round(s, 9)}
                                                                      for n, (_, s) in zip(names, lost)][:50]},
                                 marks, failed_elements(net, failure)))
    if lost_cases:
        problems.append(f"{plural(len(lost_cases), 'failure')} cut demands off"
                        + ("" if strict else " that still had a physical path"))
    # 2. overloads (not judged on a link of unknown capacity: its bandwidth is a placeholder)
    unsized = unsized_links(net)
    over_cases = [] if unsized else sorted(sweep.overloads)
    for case in over_cases[:max(0, MAX_EVIDENCE - len(evidence))]:
        failure = sweep.failures[case]
        worst_key, worst_u = max(sweep.overloads[case], key=lambda x: (x[1], x[0]))
        evidence.append(Evidence(
            "failure", f"after {failure.label}: {direction_label(net, worst_key)} at {worst_u:.0%}",
            {"failure": failure.label, "overloaded": [{"link": k[0], "direction": direction_label(net, k),
                                                         "utilisation": round(u, 6)} for k, u in sweep.overloads[case]]},
            (net.links[worst_key[0]].mark,), failed_elements(net, failure)))
    if over_cases:
        problems.append(f"{plural(len(over_cases), 'failure')} push a link above {p.max_utilisation:.0%}")
    # directions above the limit without any failure are the capacity rule's finding, not this one's
    intact_over = [] if unsized else [k for k, v in a.load.items() if v / net.links[k[0]].bandwidth > p.max_utilisation]
    # 3. key nodes
    weak = 0
    cuts: dict = {}
    pairs = key_pairs(net, keys, select_union(net, p.key_to) if p.key_to else None)
    for k, t in pairs:
        count, cut = disjoint_paths(net, k, t, cuts)
        if count < 2:
            weak += 1
            if len(evidence) < MAX_EVIDENCE:
                marks = tuple(_cut_mark(net, x) for x in cut[:10])
                evidence.append(Evidence(
                    "node", f"key node {k} has {count} disjoint path{'s' if count != 1 else ''} to {t}"
                            + (f"; single point of failure: {cap_list(cut, 3)}" if cut else ""),
                    {"node": k, "to": t, "disjoint_paths": count, "cut": cut}, (net.nodes[k].mark,) + marks,
                    tuple(dict.fromkeys((k, t)))))
    if weak:
        problems.append(f"{plural(weak, 'key pair')} without two disjoint paths")
    cases = len(sweep.failures)
    if problems:
        unjudged = f"; overloads not judged: {unsized_reason(unsized)}" if unsized else ""
        return RuleResult.failed(rule, "; ".join(problems) + f" ({plural(cases, 'failure case')} tried){unjudged}",
                                 evidence)
    if unsized:  # every demand survives, but whether a link overloads is unknown: never a pass
        return RuleResult.not_applicable(rule, f"every demand survives the failures, but {unsized_reason(unsized)}")
    key_note = f"; {plural(len(keys), 'key node')} with two disjoint paths" if pairs else ""
    if cut_cases and not strict:
        key_note += (f"; {plural(len(cut_cases), 'failure')} of a line or node with no alternative cut demands off "
                     f"(tree-shaped parts; survive: all makes this fail)")
    if intact_over:
        key_note += f"; {plural(len(intact_over), 'link direction')} above {p.max_utilisation:.0%} without any failure (see capacity)"
    routes = "every demand still routes" if strict else "every demand with a path left still routes"
    return RuleResult.passed(rule, f"{routes} and no link exceeds {p.max_utilisation:.0%} "
                                   f"after any of {plural(cases, 'failure')} ({_swept(p)}){key_note}")


def _cut_mark(net: Network, point: str) -> Mark:
    """The plan line of a single point of failure: ``node X``, ``link Y`` or ``risk group Z``."""
    if point.startswith("risk group "):
        return net.risk_groups[point.removeprefix("risk group ")].mark
    kind, name = point.split(" ", 1)
    return net.nodes[name].mark if kind == "node" else net.links[name].mark


def _swept(p: RedundancyParams) -> str:
    """What the sweep failed, for the message: ``n-1``, or ``n-1 of links, risk groups`` when not both kinds."""
    if p.elements == ["links", "nodes"]:
        return p.failures
    return f"{p.failures} of {', '.join(e.replace('_', ' ') for e in p.elements)}"
