"""The network section: counts per domain, level and phase, and the data of a map a planner can read at 7,000 nodes.

Definitions.

- Positions come from :func:`topology.layout.hierarchy_layout` (province on
  top, each level a band below, a star per domain at each site), or, for an
  imported network whose nodes carry coordinates (tags ``lat=`` and ``lon=``,
  :mod:`topology.importers.topologyzoo`), from those: longitude to the right,
  latitude up (equirectangular). A network is laid out by its coordinates
  when at least half of its nodes have them; a node without any then sits at
  the mean of its site's nodes that do. ``y`` is flipped for the screen.
- The map is drawn by the page's script from plain arrays (:func:`map_data`):
  sites (level, parent, position, every node below), nodes (site, domain,
  role, phase, position), links (ends, phase, whether they join two domains).
  Sites at or below the level :func:`collapse_level` gives start collapsed:
  drawn as one bubble with the count of the nodes below them until clicked.
"""

from __future__ import annotations

from typing import Any

from topology.draw import domain_colours
from topology.layout import hierarchy_layout
from topology.model import Network
from topology.vocabulary import LEVELS

GEO_SCALE = 12.0        # layout units per degree
SMALL_MAP = 400         # nodes: a map this small starts fully open
OPEN_NODES = 600        # a larger map opens the levels whose nodes, together, stay below this


def counts(net: Network) -> dict[str, Any]:
    """Nodes and links per domain, sites per level, nodes and links added per phase, nodes per role."""
    per_domain = dict.fromkeys(net.domains, 0)
    per_role: dict[str, int] = {}
    for node in net.nodes.values():
        per_domain[node.domain] = per_domain.get(node.domain, 0) + 1
        per_role[node.role] = per_role.get(node.role, 0) + 1
    levels = {level: sum(1 for s in net.sites.values() if s.level == level) for level in LEVELS}
    return {
        "nodes": len(net.nodes), "links": len(net.links), "tunnels": len(net.tunnels), "flows": len(net.flows),
        "domains": [{"name": d, "kind": dom.kind, "clearance": dom.clearance_label, "title": dom.title or "",
                     "nodes": per_domain.get(d, 0)} for d, dom in net.domains.items()],
        "levels": [{"level": level, "sites": n} for level, n in levels.items() if n],
        "phases": [{"name": p.name, "title": p.title or "", "start": p.start or "", "end": p.end or "",
                    "nodes": sum(1 for n in net.nodes.values() if n.phase == p.index),
                    "links": sum(1 for l in net.links.values() if l.phase == p.index)} for p in net.phases],
        "roles": [{"role": r, "nodes": n} for r, n in sorted(per_role.items())],
    }


def coordinates(net: Network) -> dict[str, tuple[float, float]] | None:
    """(x, y) of each node from its ``lat=``/``lon=`` tags, when at least half of the nodes have them; else None."""
    found: dict[str, tuple[float, float]] = {}
    for name, node in net.nodes.items():
        tags = dict(t.split("=", 1) for t in node.tags if "=" in t)
        try:
            lat, lon = float(tags["lat"]), float(tags["lon"])
        except (KeyError, ValueError):
            continue
        found[name] = (lon * GEO_SCALE, lat * GEO_SCALE)
    if not net.nodes or len(found) * 2 < len(net.nodes):
        return None
    by_site: dict[str, list[tuple[float, float]]] = {}
    for name, point in found.items():
        by_site.setdefault(net.nodes[name].site, []).append(point)
    fallback = _mean(list(found.values()))
    for name, node in net.nodes.items():
        if name not in found:
            found[name] = _mean(by_site.get(node.site, [])) if by_site.get(node.site) else fallback
    return found


def _mean(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def collapse_level(net: Network) -> int:
    """The depth from which sites start collapsed: none for a small plan, else the deepest levels whose nodes,
    with those above, stay below :data:`OPEN_NODES` (at least the top sites are open)."""
    if len(net.nodes) <= SMALL_MAP:
        return len(LEVELS) + 1
    depth = _depths(net)
    per_depth: dict[int, int] = {}
    for node in net.nodes.values():
        d = depth.get(node.site, 0)
        per_depth[d] = per_depth.get(d, 0) + 1
    total, level = 0, 1
    for d in sorted(per_depth):
        total += per_depth[d]
        if total > OPEN_NODES:
            return max(1, d)
        level = d + 1
    return level


def _depths(net: Network) -> dict[str, int]:
    out: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in out:
            parent = net.sites[name].parent
            out[name] = 0 if parent is None or parent not in net.sites else depth(parent) + 1
        return out[name]

    for name in net.sites:
        depth(name)
    return out


def map_data(net: Network) -> dict[str, Any]:
    """The arrays the page's script draws the map from (see the module docstring)."""
    geo = coordinates(net)
    layout = None if geo is not None else hierarchy_layout(net)
    positions = geo if geo is not None else dict(layout.nodes)  # type: ignore[union-attr]
    depth = _depths(net)
    order = {s: i for i, s in enumerate(net.sites)}
    site_names = sorted(net.sites, key=lambda s: (depth[s], order[s]))
    site_index = {s: i for i, s in enumerate(site_names)}
    below: dict[str, list[tuple[float, float]]] = {s: [] for s in site_names}
    for name, node in net.nodes.items():
        if node.site in net.sites and name in positions:
            for s in net.site_ancestors(node.site):
                below[s].append(positions[name])
    sites = []
    for s in site_names:
        site = net.sites[s]
        if layout is not None and s in layout.sites:
            x, y = layout.sites[s]
        elif below[s]:
            x, y = _mean(below[s])
        else:
            x, y = 0.0, 0.0
        sites.append([s, LEVELS.index(site.level) if site.level in LEVELS else 0,
                      site_index.get(site.parent, -1) if site.parent else -1, round(x, 2), round(-y, 2),
                      site.phase, depth[s]])
    domains = list(net.domains)
    extra = sorted({n.domain for n in net.nodes.values()} - set(domains))
    domains += extra
    roles = sorted({n.role for n in net.nodes.values()})
    colours = domain_colours(net)
    node_index: dict[str, int] = {}
    nodes: list[list[Any]] = []
    for name, node in net.nodes.items():
        if name not in positions or node.site not in site_index:
            continue
        x, y = positions[name]
        node_index[name] = len(nodes)
        nodes.append([name, site_index[node.site], domains.index(node.domain), roles.index(node.role), node.phase,
                      round(x, 2), round(-y, 2)])
    links = []
    for link in net.links.values():
        if link.a in node_index and link.b in node_index:
            cross = int(net.nodes[link.a].domain != net.nodes[link.b].domain)
            links.append([node_index[link.a], node_index[link.b], link.phase, cross])
    return {
        "sites": sites, "nodes": nodes, "links": links, "roles": roles, "levels": list(LEVELS),
        "domains": [{"name": d, "colour": colours.get(d, "#555555"),
                     "kind": net.domains[d].kind if d in net.domains else ""} for d in domains],
        "phases": [p.name for p in net.phases], "collapse": collapse_level(net), "geo": geo is not None,
    }
