"""Rule kind ``zone_placement``: important zones are not at the network edge (GB/T 22239-2019 8.1.2.1 d).

Definition. An *important* node is one in a trusted domain matching any of
``important`` (by default every server, except those offering a service in
``edge_services`` such as the public portal, which belongs at the edge, and
every node of an ``edge_domains`` network, by default the DMZ). It
must sit at least ``min_hops`` links away from every node of an untrusted
network (``untrusted``, by default the public ones): with the default 3, a
server behind the core behind the boundary firewall passes (server — core —
firewall — internet), a server plugged into the firewall or the internet
router does not.

Evidence: the important node and its shortest path to the untrusted network.

Example (policy file)::

    - id: DJ-NA-4
      kind: zone_placement
      params: {important: [{role: server}, {service: document_exchange}], min_hops: 3}
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from topology.model import Network
from topology.selectors import is_public, node_matches, select_domains

from .connectivity import components, physical_index
from .evidence import path_evidence, plural, render_path
from .model import Evidence, PolicyRule, RuleResult
from .params import ZonePlacementParams
from .registry import LAYOUT, Context, params_of, register

MAX_EVIDENCE = 25


@register("zone_placement", reads=LAYOUT)
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, ZonePlacementParams)
    untrusted = set(select_domains(net, p.untrusted))
    edge = set(select_domains(net, p.edge_domains))
    important = [n for n in net.nodes.values()
                 if n.domain in net.domains and not is_public(net.domains[n.domain])
                 and n.domain not in untrusted and n.domain not in edge
                 and any(node_matches(m, n, net.sites, net.domains) for m in p.important)
                 and not any(s in n.services for s in p.edge_services)]
    outside = [n.name for n in net.nodes.values() if n.domain in untrusted]
    if not important or not outside:
        return RuleResult.not_applicable(rule, "the plan has " + (
            "no important node (a server of a trusted network that is not at the edge)" if not important
            else f"no untrusted network (matching {', '.join(p.untrusted)})"))
    comps = components(net, context, ())
    pi = physical_index(net, context)
    src = np.array(sorted(pi.index[n] for n in outside), dtype=np.int64)
    dist, pred, _ = dijkstra(comps.matrix, directed=False, indices=src, unweighted=True, min_only=True,
                             return_predecessors=True)
    evidence: list[Evidence] = []
    close = 0
    for node in important:
        d = dist[pi.index[node.name]]
        if np.isfinite(d) and d < p.min_hops:
            close += 1
            if len(evidence) < MAX_EVIDENCE:
                path = [pi.index[node.name]]
                while pred[path[-1]] >= 0:
                    path.append(int(pred[path[-1]]))
                names = [pi.names[i] for i in path]
                ev = path_evidence(net, names, f"{node.name} is {int(d)} link{'s' if d != 1 else ''} from the untrusted "
                                   f"network (at least {p.min_hops} required): {render_path(net, names)}",
                                   node=node.name, hops=int(d))
                evidence.append(Evidence(ev.kind, ev.summary, ev.data, (node.mark,) + ev.marks, (node.name,)))
    if close:
        return RuleResult.failed(rule, f"{plural(close, 'important node')} at the network edge, "
                                 f"fewer than {p.min_hops} links from an untrusted network", evidence)
    return RuleResult.passed(rule, f"{plural(len(important), 'important node')} at least {p.min_hops} links "
                             "from every untrusted network")
