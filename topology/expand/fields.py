"""Pass ``fields``: the final value of every field of every node, and the references they make.

Definition. A node's value of a field is, from strongest to weakest: its
own; its groups' (a later group over an earlier); what its star or
aggregation says of its units; for domain, site and phase only, its core's
(resolved first); ``defaults.node``. A node defined in a template stands at
the template's site unless something above says otherwise. A null value
counts as not given. Every node must end with a role, a known domain and a
known site; a one-way gateway must say its direction, in known domains; an
MCU's parent must be a node.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet}}
    ... sites: {楚雄州: {level: prefecture}}
    ... defaults: {node: {domain: 政务外网}}
    ... groups: {bureau: {role: host}}
    ... nodes: {州核心: {role: core_router, site: 楚雄州}}
    ... stars: [{core: 州核心, units: [民政局], group: bureau, role: server}]
    ... '''), upto="fields")
    >>> d.fields["民政局"]
    {'domain': '政务外网', 'site': '楚雄州', 'role': 'host'}
"""

from __future__ import annotations

from ..validation import suggest
from .draft import Draft, Fields, explicit

INHERITED = ("domain", "site", "phase")  # what a unit takes from its core
MAX_DEPTH = 50  # units of units of ...: deeper chains stop inheriting


def fields(d: Draft) -> Draft:
    """Fill ``d.fields`` (node name -> resolved fields) and check what they name."""
    defaults = explicit(d.spec.defaults.node)
    for name in d.nodes:
        _resolve(d, name, defaults, 0)
    for name in d.nodes:
        _check(d, name)
    return d


def _resolve(d: Draft, name: str, defaults: Fields, depth: int) -> Fields:
    if name in d.fields:
        return d.fields[name]
    draft = d.nodes[name]
    out = dict(defaults)
    if draft.inherits_from in d.nodes and depth < MAX_DEPTH:
        core = _resolve(d, draft.inherits_from, defaults, depth + 1)
        out.update({k: core[k] for k in INHERITED if k in core})
    if draft.context_site:
        out["site"] = draft.context_site
    if draft.unit is not None:
        out.update(draft.unit.as_fields())
    for group in draft.groups:
        if group not in d.spec.groups:
            d.error(draft.path + ("group",), f"node '{name}' names unknown group '{group}'",
                    suggest(group, d.spec.groups, "groups"))
            continue
        out.update(d.group_fields.get(group, {}))
    out.update(draft.own)
    d.fields[name] = out
    return out


def _check(d: Draft, name: str) -> None:
    f = d.fields[name]
    draft = d.nodes[name]
    path = draft.path
    for key in ("role", "domain", "site"):
        if f.get(key) is None:
            f.pop(key, None)  # null, e.g. from a group: as if not given
    if "role" not in f:
        d.error(path, f"node '{name}' has no role",
                "set role: (core_router, firewall, host, ...) on it, its group or defaults.node")
        f["role"] = "host"
    if "domain" not in f:
        d.error(path, f"node '{name}' has no domain", "set domain: on it, its group or defaults.node")
    elif f["domain"] not in d.domains:
        d.error(path + ("domain",), f"node '{name}' is in unknown domain '{f['domain']}'",
                suggest(f["domain"], d.domains, "domains"))
    if "site" not in f:
        d.error(path, f"node '{name}' has no site", "set site: on it or define it inside a template applied to a site")
    elif f["site"] not in d.sites:
        d.error(path + ("site",), f"node '{name}' is at unknown site '{f['site']}'", suggest(f["site"], d.sites, "sites"))
    if f["role"] == "one_way_gateway" and draft.gateway is None:
        d.error(path, f"one-way gateway '{name}' does not say its direction", "add gateway: {from: <domain>, to: <domain>}")
    if draft.gateway is not None:
        for key, dom in (("from", draft.gateway.from_domain), ("to", draft.gateway.to_domain)):
            if dom not in d.domains:
                d.error(path + ("gateway", key), f"gateway '{name}' names unknown domain '{dom}'",
                        suggest(dom, d.domains, "domains"))
    if draft.mcu_parent and draft.mcu_parent not in d.nodes:
        d.error(path + ("mcu_parent",), f"MCU '{name}' names unknown parent '{draft.mcu_parent}'",
                suggest(draft.mcu_parent, d.nodes, "nodes"))
