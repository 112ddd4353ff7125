"""Pass ``risk_groups``: the shared-risk groups, each the links and nodes one event fails together.

Definition. A risk group (one carrier, one conduit, one machine room) names
its members under ``links`` and ``nodes``. A link entry is a link's name, a
glob on link names (``*--州核心``), or a link selector: ``name`` (a glob),
``a`` and ``b`` (a node name or a node selector each: the links from a node
``a`` names to one ``b`` names, either way round; ``a`` alone: every link at
the nodes it names) and ``medium``, every field given holding. A node entry
is a node selector of :mod:`topology.selectors`, as text (a node name,
``name:GLOB``, ``site:X,role:Y`` ...) or as a mapping. Every entry must name
at least one member, and a group at least one entry: an entry that names
nothing is an error at its line, with the closest name as a hint. Members
are kept once each, in plan order.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture, children: {双柏县: {}, 牟定县: {}}}}
    ... defaults: {node: {domain: 政务外网, role: core_router}}
    ... nodes: {州核心: {site: 楚雄州}, 州备份: {site: 楚雄州}, 双柏核心: {site: 双柏县}, 牟定核心: {site: 牟定县}}
    ... links: [双柏核心 -- 州核心, 牟定核心 -- 州核心, {a: 双柏核心, b: 州备份, medium: carrier_line}]
    ... risk_groups:
    ...   电信: {links: [{medium: carrier_line}, "牟定核心--*"], reason: 中国电信}
    ...   州机房: {nodes: ["site:楚雄州,level:prefecture"], reason: one machine room}
    ... '''), upto="risk_groups")
    >>> [(g.name, g.links, g.nodes, g.reason) for g in d.risk_groups.values()]
    [('电信', ('牟定核心--州核心', '双柏核心--州备份'), (), '中国电信'), ('州机房', (), ('州核心', '州备份'), 'one machine room')]
"""

from __future__ import annotations

import fnmatch

from ..errors import SelectorError
from ..model import Link, RiskGroup
from ..schema import LinkSelectorSpec, RiskGroupSpec, SelectorSpec
from ..selectors import NodeQuery, node_matcher, parse_selector
from ..validation import suggest
from .draft import Draft

GLOB = "*?["


def risk_groups(d: Draft) -> Draft:
    """Fill ``d.risk_groups``."""
    for name, spec in d.spec.risk_groups.items():
        group = _group(d, name, spec)
        if group is not None:
            d.risk_groups[name] = group
    return d


def _group(d: Draft, name: str, spec: RiskGroupSpec) -> RiskGroup | None:
    path = ("risk_groups", name)
    if not spec.links and not spec.nodes:
        d.error(path, f"risk group '{name}' names no link and no node",
                "list what fails together under links: or nodes:")
        return None
    links: set[str] = set()
    nodes: set[str] = set()
    ok = True
    for i, link_entry in enumerate(spec.links):
        found = _links(d, name, link_entry, path + ("links", i))
        ok = ok and found is not None
        links |= found or set()
    for i, node_entry in enumerate(spec.nodes):
        found = _nodes(d, name, node_entry, path + ("nodes", i))
        ok = ok and found is not None
        nodes |= found or set()
    if not ok:
        return None
    reason = spec.reason.strip() if spec.reason and spec.reason.strip() else None
    return RiskGroup(name, tuple(l for l in d.model_links if l in links), tuple(n for n in d.model_nodes if n in nodes),
                     reason, d.mark(path))


def _links(d: Draft, group: str, entry: str | LinkSelectorSpec, path: tuple) -> set[str] | None:
    """The links one entry names; None (after an error) when it names none."""
    if isinstance(entry, str):
        if entry in d.model_links:
            return {entry}
        if any(c in entry for c in GLOB):
            found = {l for l in d.model_links if fnmatch.fnmatchcase(l, entry)}
            if not found:
                d.error(path, f"risk group '{group}': no link name matches '{entry}'",
                        suggest(entry, d.model_links, "links"))
            return found or None
        d.error(path, f"risk group '{group}' names the unknown link '{entry}'", suggest(entry, d.model_links, "links"))
        return None
    if entry.name is None and entry.a is None and entry.b is None and entry.medium is None:
        d.error(path, f"risk group '{group}': a link selector with nothing to select",
                "give name (a glob), a, b (node names or selectors) or medium")
        return None
    ends = []
    for key in ("a", "b"):
        value = getattr(entry, key)
        if value is None:
            continue
        named = _nodes(d, group, value, path + (key,))
        if named is None:
            return None
        ends.append(named)
    out = {l.name for l in d.model_links.values() if _link_matches(l, entry, ends)}
    if not out:
        d.error(path, f"risk group '{group}': the link selector names no link",
                "check its ends and medium against the plan's links")
        return None
    return out


def _link_matches(link: Link, entry: LinkSelectorSpec, ends: list[set[str]]) -> bool:
    if entry.name is not None and not fnmatch.fnmatchcase(link.name, entry.name):
        return False
    if entry.medium is not None and link.medium != entry.medium:
        return False
    if len(ends) == 1:
        return link.a in ends[0] or link.b in ends[0]
    if len(ends) == 2:
        return (link.a in ends[0] and link.b in ends[1]) or (link.b in ends[0] and link.a in ends[1])
    return True


def _nodes(d: Draft, group: str, entry: str | SelectorSpec, path: tuple) -> set[str] | None:
    """The nodes a node selector (text or mapping) names; None (after an error) when it names none."""
    nodes = d.model_nodes
    spec: NodeQuery
    if isinstance(entry, str):
        if entry in nodes:
            return {entry}
        try:
            spec = parse_selector(entry)
        except SelectorError as exc:
            d.error(path, f"risk group '{group}': {exc}", "write a node name or a selector like site:X,role:Y")
            return None
        what = "" if spec.node == entry.strip() else f": '{entry}'"  # a bare node name needs no repeating
    else:
        spec = entry
        what = ": the node selector"
    matches = node_matcher(spec, d.sites, d.domains)
    found = {n.name for n in nodes.values() if matches(n)}
    if not found:
        message, hint = _why_nothing(d, spec)
        d.error(path, f"risk group '{group}'{what} {message}", hint)
        return None
    return found


def _why_nothing(d: Draft, spec: NodeQuery) -> tuple[str, str]:
    """(what is wrong, how to fix it) for a node selector that names no node of the draft."""
    if spec.node is not None and spec.node not in d.model_nodes:
        return f"names the unknown node '{spec.node}'", suggest(spec.node, d.model_nodes, "nodes")
    if spec.site is not None and spec.site not in d.sites:
        return f"names the unknown site '{spec.site}'", suggest(spec.site, d.sites, "sites")
    if spec.name is not None and not any(fnmatch.fnmatchcase(n, spec.name) for n in d.model_nodes):
        return f"matches no node name with '{spec.name}'", suggest(spec.name, d.model_nodes, "nodes")
    return "names no node (no node matches all of its terms)", "check each term against the plan's nodes"
