"""Rule kind ``classification``: classified data stays where it is cleared to be.

Definition. Three checks, each switched by a parameter (all on by default):

- ``clearance``: no node holds data above the clearance of its domain (a
  server's ``classification`` is the highest class of the data it holds; a
  秘密 server in a 非涉密 network breaks 保密法 Art. 31);
- ``public_path``: a classified domain reaches nothing public, directly or
  indirectly: following cables, devices and other networks, and crossing
  declared one-way gateways only in their direction, no node of a public
  network (the internet) can be reached from a node of a classified domain;
- ``import_only``: every one-way gateway that touches a classified domain is
  an approved import device carrying data *into* it (low → high); a gateway
  out of it, a two-sided one or an unapproved one breaks the rule.

``domains`` selects the classified domains (default ``classified``),
``public`` the public ones (default ``public``). Evidence: the node and its
classification; the shortest path out to the public network; the gateway.

Example (policy file)::

    - id: CLS-2
      kind: classification
      severity: critical
      clause: 保密法 (2024) 第三十一条
      params: {clearance: false, import_only: false}
"""

from __future__ import annotations

from collections import deque

from topology.model import Network
from topology.selectors import select_domains
from topology.vocabulary import CLASSIFICATIONS

from .connectivity import (
    Components,
    components,
    directed_path,
    gateway_nodes,
    gateway_problem,
)
from .evidence import node_evidence, path_evidence, render_path
from .model import Evidence, PolicyRule, RuleResult
from .params import ClassificationParams
from .registry import LAYOUT, Context, params_of, register


def _forward(comps: Components, start: set[int]) -> set[int]:
    seen = set(start)
    queue = deque(sorted(start))
    while queue:
        comp = queue.popleft()
        for nxt in sorted(comps.gateway_edges.get(comp, ())):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


@register("classification", reads=LAYOUT)
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, ClassificationParams)
    evidence: list[Evidence] = []
    problems: list[str] = []
    checked: list[str] = []
    classified = [d for d in select_domains(net, p.domains) if net.domains[d].classified]
    public = set(select_domains(net, p.public)) - set(classified)

    if p.clearance:
        checked.append("every node's data within its network's clearance")
        over = [n for n in net.nodes.values()
                if n.domain in net.domains and n.classification > net.domains[n.domain].clearance]
        for n in over:
            home = net.domains[n.domain]
            evidence.append(node_evidence(
                net, n.name,
                f"{n.name} holds {CLASSIFICATIONS[n.classification]} data but sits in "
                f"{net.domain_label(home.name)}, cleared only for {home.clearance_label}",
                classification=CLASSIFICATIONS[n.classification], clearance=home.clearance_label))
        if over:
            problems.append(f"{len(over)} node{'s' if len(over) != 1 else ''} hold data above their network's clearance")

    if p.public_path and classified:
        checked.append("no path from a classified network to a public one")
        excused = [g for g in gateway_nodes(net) if gateway_problem(net, g) is None]
        comps = components(net, context, excused)
        public_nodes = {n.name for n in net.nodes.values() if n.domain in public}
        public_comps = {c for d in public for c in comps.domain_components.get(d, ())}
        for d in classified:
            reached = _forward(comps, set(comps.domain_components.get(d, ())))
            if not reached & public_comps:
                continue
            sources = [n.name for n in net.nodes.values() if n.domain == d]
            path = directed_path(net, sources, public_nodes, frozenset(excused)) or []
            evidence.append(path_evidence(
                net, path, f"classified {net.domain_label(d)} reaches the public network "
                f"{net.domain_label(net.nodes[path[-1]].domain) if path else ''}: {render_path(net, path)}",
                from_domain=d))
            problems.append(f"classified {net.domain_label(d)} has a path to a public network")

    if p.import_only and classified:
        checked.append("one-way import only into classified networks")
        bad = 0
        for g in gateway_nodes(net):
            node = net.nodes[g]
            gw = node.gateway
            touched = {net.nodes[l.other(g)].domain for l in net.links_of(g)}
            if gw is not None:
                touched |= {gw.from_domain, gw.to_domain}
            if not touched & set(classified):
                continue
            reason = gateway_problem(net, g)
            if reason is None and gw is not None:
                src, dst = net.domains[gw.from_domain], net.domains[gw.to_domain]
                if dst.name not in classified:
                    reason = f"it does not carry data into a classified network (declared {src.name} → {dst.name})"
                elif src.clearance > dst.clearance:
                    reason = "it carries data from a higher clearance to a lower one"
            if reason is not None:
                bad += 1
                evidence.append(node_evidence(net, g, f"gateway {g} touches a classified network but {reason}"))
        if bad:
            problems.append(f"{bad} gateway{'s' if bad != 1 else ''} at classified networks {'are' if bad != 1 else 'is'} "
                            "not approved one-way import devices")

    if not checked:
        return RuleResult.not_applicable(rule, f"the plan has no classified network (matching {', '.join(p.domains)})")
    if problems:
        return RuleResult.failed(rule, "; ".join(problems), evidence)
    scope = ", ".join(net.domain_label(d) for d in classified) or "no classified network"
    return RuleResult.passed(rule, f"checked {', '.join(checked)} ({scope})")
