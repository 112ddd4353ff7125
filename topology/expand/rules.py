"""Pass ``rules``: ACLs and VRFs, and every reference an interface or a static route makes.

Definition. An ACL rule's ``src`` and ``dst`` are a prefix, ``any`` or a
node; a node stands for each of its addresses (as /32) and its LAN, and the
rule becomes one model rule per (source, destination) pair, all with the
rule's place in the list as index (so first-match order holds and a report
names the rule as written). Ports need proto tcp or udp, ``icmp_type`` needs
icmp. A VRF's domain and imports must exist; so must every ACL and VRF an
interface names, and a static route's next hop must be an address of the
plan or a neighbour cabled to the node.

The ACLs are those the pass ``templates`` drafted (``d.acl_drafts``): the
plan's own, then those its templates made per site, their names and rules
filled there; each keeps the mark of where it is written, so a generated
ACL and its rules point at the template's lines.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture}}
    ... nodes: {portal: {role: server, domain: 政务外网, site: 楚雄州, lan: 10.53.9.0/24}}
    ... acls: {web: [{action: permit, src: any, dst: portal, proto: tcp, dport: 443}]}
    ... '''), upto="rules")
    >>> [(r.index, str(r.dst)) for r in d.acls["web"].rules]
    [(1, '10.53.0.0/32'), (1, '10.53.9.0/24')]

An ACL of a template, made at two sites, with rules naming each site's nodes:

    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... defaults: {node: {domain: 政务外网}}
    ... sites: {云南省: {level: province, children: {昆明市: {}, 楚雄州: {}}}}
    ... templates:
    ...   prefecture:
    ...     nodes: {"{site}门户": {role: server}}
    ...     acls: {"{site}入": [{action: deny, proto: icmp}, {action: permit, proto: tcp, dst: "{site}门户"}]}
    ... level_templates: {prefecture: [prefecture]}
    ... '''), upto="rules")
    >>> [(name, [(r.index, str(r.dst)) for r in acl.rules]) for name, acl in d.acls.items()]
    [('昆明市入', [(1, '0.0.0.0/0'), (2, '10.53.0.0/32')]), ('楚雄州入', [(1, '0.0.0.0/0'), (2, '10.53.0.1/32')])]
    >>> d.acls["楚雄州入"].rules[1].mark.line   # the template's rule, line 9 of the plan
    9
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..model import Acl, Link, Node, Rule, Vrf
from ..validation import suggest
from .draft import AclDraft, Draft, is_address


def rules(d: Draft) -> Draft:
    """Fill ``d.acls`` and ``d.vrfs``; check the ACLs, VRFs and next hops interfaces and routes name."""
    d.acls = {name: _acl(d, draft) for name, draft in d.acl_drafts.items()}
    d.vrfs = _vrfs(d)
    _check_references(d)
    return d


def _prefixes(d: Draft, value: Any, path: tuple) -> list[ipaddress.IPv4Network]:
    if isinstance(value, ipaddress.IPv4Network):
        return [value]
    node = d.model_nodes.get(value)
    if node is None:
        d.error(path, f"'{value}' is neither an address, a prefix, 'any' nor a node", suggest(value, d.model_nodes, "nodes"))
        return []
    out = [ipaddress.IPv4Network((int(a.ip), 32)) for a in node.addresses]
    if node.lan is not None:
        out.append(node.lan)
    if not out:
        d.error(path, f"node '{value}' has no address to match", "give its domain a pool or the node an address")
    return out


def _acl(d: Draft, draft: AclDraft) -> Acl:
    name = draft.name
    built: list[Rule] = []
    for i, r in enumerate(draft.rules):
        if r is None:  # its patterns could not be filled (reported); the others keep their places
            continue
        path = draft.path + (i,)
        if (r.sport or r.dport) and r.proto not in ("tcp", "udp"):
            d.error(path, f"ACL {name} rule {i + 1}: ports need proto tcp or udp", "set proto: tcp or udp, or drop the ports")
        if r.icmp_type is not None and r.proto != "icmp":
            d.error(path, f"ACL {name} rule {i + 1}: icmp_type needs proto icmp", "set proto: icmp")
        sources = _prefixes(d, r.src, path + ("src",))
        targets = _prefixes(d, r.dst, path + ("dst",))
        built.extend(Rule(i + 1, r.action, src, dst, r.proto, r.sport, r.dport, r.icmp_type, r.description,
                          d.mark(path)) for src in sources for dst in targets)
    return Acl(name, tuple(built), d.mark(draft.path))


def _vrfs(d: Draft) -> dict[str, Vrf]:
    out = {}
    for name, v in d.spec.vrfs.items():
        if v.domain and v.domain not in d.domains:
            d.error(("vrfs", name, "domain"), f"VRF '{name}' is in unknown domain '{v.domain}'",
                    suggest(v.domain, d.domains, "domains"))
        for i, imported in enumerate(v.import_):
            if imported not in d.spec.vrfs:
                d.error(("vrfs", name, "import", i), f"VRF '{name}' imports unknown VRF '{imported}'",
                        suggest(imported, d.spec.vrfs, "vrfs"))
        out[name] = Vrf(name, v.title, v.domain, tuple(v.import_), d.mark(("vrfs", name)))
    return out


def _neighbours(node: Node, links: dict[str, Link]) -> set[str]:
    return {links[i.link].other(node.name) for i in node.interfaces.values() if i.link in links}


def _check_references(d: Draft) -> None:
    owned: set[str] | None = None  # every address a node has, as text: built when a route names one
    add = d.issues.add
    for node in d.model_nodes.values():
        if node.vrf and node.vrf not in d.vrfs:
            add(node.mark, f"node '{node.name}' is in unknown VRF '{node.vrf}'", suggest(node.vrf, d.vrfs, "vrfs"))
        for iface in node.interfaces.values():
            for key in ("acl_in", "acl_out"):
                acl = getattr(iface, key)
                if acl and acl not in d.acls:
                    add(iface.mark, f"interface {node.name}:{iface.name} uses unknown ACL '{acl}'", suggest(acl, d.acls, "acls"))
            if iface.vrf and iface.vrf not in d.vrfs and iface.vrf != node.vrf:
                add(iface.mark, f"interface {node.name}:{iface.name} is in unknown VRF '{iface.vrf}'",
                    suggest(iface.vrf, d.vrfs, "vrfs"))
        neighbours: set[str] | None = None
        for route in node.routes:
            if route.vrf and route.vrf not in d.vrfs:
                add(node.mark, f"a static route of '{node.name}' names unknown VRF '{route.vrf}'",
                    suggest(route.vrf, d.vrfs, "vrfs"))
            if is_address(route.via):
                if owned is None:
                    owned = {str(a.ip) for n in d.model_nodes.values() for a in n.addresses}
                if route.via not in owned:
                    add(node.mark, f"a static route of '{node.name}' goes via {route.via}, an address no node of the "
                        "plan has", "write the address of a next-hop interface or a neighbour's name")
                continue
            if route.via not in d.model_nodes:
                add(node.mark, f"a static route of '{node.name}' goes via '{route.via}', neither an address nor a node",
                    "write an IPv4 address or a neighbour's name")
                continue
            if neighbours is None:
                neighbours = _neighbours(node, d.model_links)
            if route.via not in neighbours:
                add(node.mark, f"a static route of '{node.name}' goes via '{route.via}', which is not linked to "
                    f"{node.name}", "name a node cabled to this one, or give the next hop's address")
