"""Pass ``flows``: the services and the traffic put on the network, as flows between nodes.

Definition. A traffic entry names a service and its senders: a node's name
or a node selector (:mod:`topology.selectors`, the one language of
selectors). ``to`` is filled in the context of each sender's site, so a
template-like ``{prefecture}政务云`` reaches each sender's own prefecture;
``bidirectional`` adds the reverse flow. A flow's rate is the entry's, else
the service's; its phase the latest of the entry's and its two ends'.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture, children: {禄丰县: {}}}}
    ... defaults: {node: {domain: 政务外网, role: host}}
    ... nodes: {楚雄州政务云: {site: 楚雄州, role: server}, 民政局: {site: 禄丰县}, 教育局: {site: 禄丰县}}
    ... services: {审批: {kind: data, rate: 2M}}
    ... traffic: [{service: 审批, from: {site: 禄丰县}, to: "{prefecture}政务云"}]
    ... '''), upto="flows")
    >>> [(f.src, f.dst, f.rate) for f in d.flows]
    [('民政局', '楚雄州政务云', 2000000.0), ('教育局', '楚雄州政务云', 2000000.0)]
"""

from __future__ import annotations

from ..model import Flow, Service
from ..schema import SelectorSpec
from ..selectors import node_matcher
from ..validation import suggest
from .draft import Draft


def flows(d: Draft) -> Draft:
    """Fill ``d.services`` and ``d.flows``."""
    d.services = {name: Service(name, s.kind, s.rate, s.packet_size, s.protocol, s.port, s.title, s.max_delay,
                                d.mark(("services", name)), s.one_way) for name, s in d.spec.services.items()}
    nodes = d.model_nodes
    for i, t in enumerate(d.spec.traffic):
        path = ("traffic", i)
        service = d.services.get(t.service)
        if service is None:
            d.error(path + ("service",), f"unknown service '{t.service}'", suggest(t.service, d.services, "services"))
            continue
        phase = d.phase_of(t.phase, path + ("phase",))
        missing: list[str] = []
        for src in senders(d, t.from_, path + ("from",)):
            dst = d.format(t.to, d.context(nodes[src].site), path + ("to",))
            if dst is None:
                break
            if dst not in nodes:
                missing.append(dst)
                continue
            if dst == src:
                continue
            rate = t.rate or service.rate
            for s, r in [(src, dst), (dst, src)] if t.bidirectional else [(src, dst)]:
                d.flows.append(Flow(service.name, service.kind, s, r, rate, service.packet_size, service.protocol,
                                    service.port, max(phase, nodes[s].phase, nodes[r].phase), d.mark(path),
                                    one_way=service.one_way))
        if missing:
            d.error(path + ("to",), f"traffic to '{missing[0]}' names no node"
                    + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""), suggest(missing[0], nodes, "nodes"))
    return d


def senders(d: Draft, selector: str | SelectorSpec, path: tuple) -> list[str]:
    """The nodes a traffic entry's ``from`` names, in plan order."""
    if isinstance(selector, str):
        if selector not in d.model_nodes:
            d.error(path, f"traffic from unknown node '{selector}'", suggest(selector, d.model_nodes, "nodes"))
            return []
        return [selector]
    matches = node_matcher(selector, d.sites, d.domains)
    return [n.name for n in d.model_nodes.values() if matches(n)]
