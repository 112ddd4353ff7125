"""Pass ``nodes``: every node of the model, with its interfaces, loopback, gateway and routes.

Definition. A node's interfaces are those its links cabled (pass ``links``)
and those it declares but no link uses (they keep their address and ACLs).
Each node in a domain with a pool gets a /32 loopback from it, in plan
order. An interface without a VRF is in the node's. Classification is
stored as an index of :data:`~topology.vocabulary.CLASSIFICATIONS`.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture}}
    ... nodes:
    ...   fw: {role: firewall, domain: 政务外网, site: 楚雄州, interfaces: {inside: {acl_in: fw-in}}}
    ... '''), upto="nodes")
    >>> node = d.model_nodes["fw"]
    >>> str(node.loopback), list(node.interfaces), node.interfaces["inside"].link is None
    ('10.53.0.0/32', ['inside'], True)
"""

from __future__ import annotations

from ..addressing import interface
from ..model import Gateway, Interface, Node, StaticRoute, freeze
from ..vocabulary import CLASSIFICATIONS
from .address_plan import allocate
from .draft import Draft


def nodes(d: Draft) -> Draft:
    """Fill ``d.model_nodes``."""
    for name, draft in d.nodes.items():
        f = d.fields[name]
        domain = f.get("domain", "")
        interfaces = dict(d.interfaces.get(name, {}))
        for ifname, spec in draft.interfaces.items():
            if ifname not in interfaces:  # declared but not cabled: keeps its address and ACLs
                interfaces[ifname] = Interface(name, ifname, spec.address, None, spec.acl_in, spec.acl_out,
                                               spec.vrf or f.get("vrf"), spec.nat, spec.cost,
                                               d.mark(draft.path + ("interfaces", ifname)))
        loopback = allocate(d, domain, 32, draft.path, ("loopback", name)) if domain in d.domains else None
        classification = f.get("classification")
        gateway = draft.gateway
        d.model_nodes[name] = Node(
            name=name, role=f.get("role", "host"), domain=domain, site=f.get("site", ""),
            phase=d.phase_of(f.get("phase"), draft.path + ("phase",)),
            interfaces=freeze(dict(sorted(interfaces.items()))),
            loopback=interface(int(loopback.network_address), 32) if loopback else None,
            lan=f.get("lan"), title=f.get("title"),
            classification=CLASSIFICATIONS.index(classification) if classification else 0,
            services=tuple(f.get("services", ())), default_action=f.get("default_action"),
            gateway=Gateway(gateway.from_domain, gateway.to_domain, tuple(gateway.allow), gateway.approved)
            if gateway else None,
            routes=tuple(StaticRoute(r.prefix, r.via, r.vrf) for r in draft.routes),
            vrf=f.get("vrf"), mcu_parent=draft.mcu_parent, tags=tuple(f.get("tags", ())), mark=d.mark(draft.path),
        )
    return d
