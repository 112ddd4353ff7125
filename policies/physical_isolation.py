"""Rule kind ``physical_isolation``: domains share no physical path at all.

Definition. Two domains are physically isolated when no chain of links and
devices joins a node of one to a node of the other, whatever the devices'
configuration: a firewall, a switch or a computer cabled into both networks
(一机两用) all join them. The only exception is a declared one-way gateway
(网闸 / data diode) that the rule accepts (``one_way``) in the gateway's
declared direction: data may then flow from its ``from`` side to its ``to``
side and never back. Some gateways no rule can accept (see
:func:`policies.connectivity.gateway_problem`): out of a classified network
towards a lower clearance or a public network, into a classified network
without approval, or cabled to a third network.

Every pair of distinct domains among ``domains`` is checked, or, when
``against`` is given, every pair of one domain of ``domains`` and one of
``against``. Evidence: for each connected pair, the shortest offending path.

Example (policy file)::

    - id: EGOV-PI-2
      kind: physical_isolation
      severity: critical
      clause: 中办发〔2002〕17号
      params:
        domains: [kind:intranet]
        against: [kind:extranet, kind:internet]
        one_way: [{from: kind:extranet, to: kind:intranet}]
"""

from __future__ import annotations

from topology.model import Network
from topology.selectors import domain_matches, select_domains

from .connectivity import (
    components,
    directed_path,
    gateway_nodes,
    gateway_problem,
    shortest_paths,
)
from .evidence import path_evidence, render_path
from .model import Evidence, PolicyRule, RuleResult
from .params import OneWay, PhysicalIsolationParams
from .registry import LAYOUT, Context, params_of, register


def domain_pairs(net: Network, domains: list[str], against: list[str] | None) -> list[tuple[str, str]]:
    first = select_domains(net, domains)
    second = select_domains(net, against) if against is not None else first
    seen: set[frozenset[str]] = set()
    out = []
    for d1 in first:
        for d2 in second:
            key = frozenset((d1, d2))
            if d1 != d2 and key not in seen:
                seen.add(key)
                out.append((d1, d2))
    return out


def accepted_gateways(net: Network, one_way: list[OneWay]) -> tuple[list[str], dict[str, str]]:
    """Gateways the rule excuses, and why each other declared gateway is not excused."""
    excused: list[str] = []
    refused: dict[str, str] = {}
    for g in gateway_nodes(net):
        gw = net.nodes[g].gateway
        problem = gateway_problem(net, g)
        if problem is None:
            assert gw is not None  # gateway_problem finds no problem only with a declared gateway
            wanted = _accepting(net, one_way, gw.from_domain, gw.to_domain, gw.approved)
            if wanted:
                excused.append(g)
                continue
            problem = (f"this rule accepts no one-way gateway from {net.domain_label(gw.from_domain)} "
                       f"to {net.domain_label(gw.to_domain)}" + ("" if gw.approved else " that is not approved"))
        refused[g] = problem
    return excused, refused


def _accepting(net: Network, one_way: list[OneWay], src: str, dst: str, approved: bool = True) -> bool:
    s, d = net.domains.get(src), net.domains.get(dst)
    if s is None or d is None:
        return False
    return any(domain_matches(s, o.from_) and domain_matches(d, o.to) and (approved or not o.approved) for o in one_way)


@register("physical_isolation", reads=LAYOUT)
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, PhysicalIsolationParams)
    pairs = domain_pairs(net, p.domains, p.against)
    if not pairs:
        if not select_domains(net, p.domains):
            why = f"the plan has no network matching {', '.join(p.domains)}"
        else:
            why = (f"the plan has no other network matching {', '.join(p.against if p.against is not None else p.domains)}"
                   " to keep apart from it")
        return RuleResult.not_applicable(rule, why)
    excused, refused = accepted_gateways(net, p.one_way)
    comps = components(net, context, excused)
    joined = comps.joined_pairs()
    failures: list[tuple[str, str, str]] = []  # (from, to, how)
    for d1, d2 in pairs:
        if frozenset((d1, d2)) in joined:
            failures.append((d1, d2, "joined"))
        elif comps.feeds(d1, d2) and not _accepting(net, p.one_way, d1, d2):
            failures.append((d1, d2, "feeds"))
        elif comps.feeds(d2, d1) and not _accepting(net, p.one_way, d2, d1):
            failures.append((d2, d1, "feeds"))
    pi = comps.index
    accepted_note = ""
    if excused:
        accepted_note = "; one-way gateways accepted: " + ", ".join(
            f"{g} ({net.domain_label(gw.from_domain)} → {net.domain_label(gw.to_domain)})"
            for g in excused if (gw := net.nodes[g].gateway) is not None)
    if not failures:
        listed = ", ".join(f"{net.domain_label(a)} / {net.domain_label(b)}" for a, b in pairs)
        return RuleResult.passed(rule, f"no physical path between {listed}{accepted_note}")

    evidence: list[Evidence] = []
    # one search per source network, from the smaller side of each pair (the evidence is symmetric)
    by_source: dict[str, list[str]] = {}
    for d1, d2, how in failures:
        if how == "joined":
            small, big = (d1, d2) if len(pi.nodes_of(d1)) <= len(pi.nodes_of(d2)) else (d2, d1)
            by_source.setdefault(small, []).append(big)
    paths: dict[tuple[str, str], list[str]] = {}
    for small, targets in by_source.items():
        found = shortest_paths(comps, pi.nodes_of(small), {big: pi.nodes_of(big) for big in targets})
        for big, path in found.items():
            paths[(small, big)] = path
            paths[(big, small)] = list(reversed(path))
    described = []
    for d1, d2, how in failures:
        a, b = net.domain_label(d1), net.domain_label(d2)
        if how == "joined":
            path = paths.get((d1, d2), [])
            via = [g for g in path if g in refused]
            note = "".join(f"; the one-way gateway {g} does not count: {refused[g]}" for g in via)
            summary = (f"{a} and {b} are physically connected: {render_path(net, path)} "
                       f"({len(path) - 1} link{'s' if len(path) != 2 else ''}){note}")
            evidence.append(path_evidence(net, path, summary, from_domain=d1, to_domain=d2))
            described.append(f"{a} / {b}")
        else:
            path = directed_path(net, [pi.names[i] for i in pi.nodes_of(d1)],
                                 {pi.names[i] for i in pi.nodes_of(d2)}, frozenset(excused)) or []
            summary = (f"data can flow from {a} to {b} through one-way gateways, a direction this rule does not "
                       f"accept: {render_path(net, path)}")
            evidence.append(path_evidence(net, path, summary, from_domain=d1, to_domain=d2))
            described.append(f"{a} → {b}")
    message = (f"{len(failures)} of {len(pairs)} network pair{'s' if len(pairs) != 1 else ''} that must share no cable "
               f"or device {'are' if len(failures) != 1 else 'is'} physically connected: {', '.join(described)}")
    return RuleResult.failed(rule, message, evidence)
