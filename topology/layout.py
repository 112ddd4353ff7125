"""Node positions for drawing a plan, laid out by its administrative hierarchy.

The layout has two tiers:

- **Sites** form a tidy tree over :func:`~topology.graphs.hierarchy_tree`: the
  province sits on the top band, and every lower level (prefecture, county,
  township, village) on its own band below. A parent is centred over the span
  of its children, and subtrees never overlap sideways. When a site has many
  children that have no children of their own (a county's townships, say),
  they wrap into a few rows inside their band instead of one very long row.
- **Nodes inside a site** form a star per domain: the domain's centre (its
  ``core_router``, else ``router``, else ``aggregation`` ...) sits in the
  middle, the units linked to it on rings around it, and a node that has units
  of its own in the site (an aggregation node and its members, a firewall and
  the servers behind it) sits on an outer ring with its units around it. The
  star of each domain at a site is placed beside the others, so domains stay
  visually apart; domains with no link to another domain go last, so no
  line between two other domains runs across them.

A plan far wider than high (a province of 129 counties) is folded: the
subtrees below the top sites go into several *strips*, one under the other,
each with its own prefecture, county and township bands, and wrapped rows get
the width that brings the whole closest to 2:1.

One unit of distance is the space between two neighbouring nodes; ``y`` grows
upwards, so lower levels have smaller ``y``. Everything is ordered by the
plan's own order: the same plan always gets the same positions.

Example::

    >>> from topology import load_plan
    >>> from topology.layout import hierarchy_layout
    >>> net = load_plan("scenarios/chuxiong/plan.yaml")
    >>> layout = hierarchy_layout(net)
    >>> x, y = layout.nodes["楚雄州外网核心"]
    >>> layout.sites["楚雄州"][1] < layout.sites["云南省"][1]
    True
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .graphs import hierarchy_tree
from .model import Network, freeze
from .vocabulary import LEVELS, Level

Point = tuple[float, float]

NODE_SPACING = 1.0      # between neighbouring nodes on a ring
RING_STEP = 1.6         # between two rings (room for a label along the ray)
CLUSTER_GAP = 1.0       # between the rings of a star and its sub-stars
DOMAIN_GAP = 2.0        # between the stars of two domains at one site
SITE_GAP = 2.5          # between neighbouring sites on a band
ROW_GAP = 1.5           # between wrapped rows of sites inside one band
BAND_GAP = 3.0          # between two bands
STRIP_GAP = 8.0         # between two strips of a folded plan
MAX_ASPECT = 3.0        # a plan wider than this (width / height) is folded ...
TARGET_ASPECT = 2.0     # ... into the strips and rows that come closest to this
PER_ROW_CHOICES = (None, 1, 2, 3, 4, 6, 8)
MAX_STRIPS = 24
WRAP_AFTER = 6          # more leaf children than this wrap into rows
CENTRE_PRIORITY = ("core_router", "router", "aggregation", "firewall", "switch", "access_switch")


@dataclass(frozen=True)
class Layout:
    """Positions of nodes and sites, and the ``y`` of the top of every band.

    ``sites`` maps a site to the centre of its stars; ``bands`` maps a level to
    the ``y`` of the top of its band, one per strip (levels that no site uses
    are absent); ``hubs`` maps a node to the node its star hangs it around
    (centres of stars have none), so a drawing can set labels along the ray.
    """

    nodes: Mapping[str, Point]
    sites: Mapping[str, Point]
    bands: Mapping[str, tuple[float, ...]]
    hubs: Mapping[str, str]

    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` over every node and site (a unit box when empty)."""
        points = list(self.nodes.values()) + list(self.sites.values())
        if not points:
            return (0.0, 0.0, 1.0, 1.0)
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        return (min(xs), min(ys), max(xs), max(ys))


def hierarchy_layout(net: Network, nodes: Iterable[str] | None = None,
                     label_room: Mapping[str, float] | None = None) -> Layout:
    """Lay out ``net`` (or only the given ``nodes`` of it) by administrative level.

    ``label_room`` keeps free space beyond a node on the ray from its hub (in
    layout units, e.g. for its label), so stars side by side leave room for
    their outer labels. Sites without any laid-out node in their subtree are
    left out.
    """
    chosen = list(net.nodes) if nodes is None else [n for n in nodes if n in net.nodes]
    members = _members_by_site(net, chosen)
    room = label_room or {}
    stars = {site: _site_stars(net, names, room) for site, names in members.items()}
    hubs = {child: hub for star in stars.values() for child, hub in star.hubs.items()}
    tree = _SiteTree.build(net, stars)
    site_centres, band_tops = tree.place()
    node_positions: dict[str, Point] = {}
    for site, (cx, cy) in site_centres.items():
        for name, (dx, dy) in stars.get(site, _SiteStars.empty()).offsets.items():
            node_positions[name] = (cx + dx, cy + dy)
    ordered = {name: node_positions[name] for name in chosen if name in node_positions}
    kept_hubs = {n: hubs[n] for n in ordered if n in hubs}
    return Layout(freeze(ordered), freeze(site_centres), freeze(band_tops), freeze(kept_hubs))


# -- stars inside a site ------------------------------------------------------


@dataclass(frozen=True)
class _SiteStars:
    """The stars of one site: node offsets from the site centre, the box they fill, each node's hub."""

    offsets: Mapping[str, Point]
    width: float
    height: float
    hubs: Mapping[str, str]

    @staticmethod
    def empty() -> _SiteStars:
        return _SiteStars({}, 0.0, 0.0, {})


def _members_by_site(net: Network, chosen: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in chosen:
        site = net.nodes[name].site
        if site in net.sites:
            out.setdefault(site, []).append(name)
    return out


def _site_stars(net: Network, names: list[str], room: Mapping[str, float]) -> _SiteStars:
    """One star per domain, side by side from left to right.

    Domains linked to another domain come first, isolated ones last, each in
    the plan's domain order: a line between two domains never crosses the
    star of a domain that is linked to neither.
    """
    by_domain: dict[str, list[str]] = {}
    for name in names:
        by_domain.setdefault(net.nodes[name].domain, []).append(name)
    domain_order = {d: i for i, d in enumerate(net.domains)}

    def key(item: tuple[str, list[str]]) -> tuple[bool, int]:
        domain, group = item
        return (not _crosses_domains(net, group), domain_order.get(domain, len(domain_order)))

    groups = sorted(by_domain.items(), key=key)
    stars = [_star(net, group, room) for _, group in groups]
    width = sum(2 * radius for _, radius, _ in stars) + DOMAIN_GAP * (len(stars) - 1)
    height = max((2 * radius for _, radius, _ in stars), default=0.0)
    offsets: dict[str, Point] = {}
    hubs: dict[str, str] = {}
    left = -width / 2
    for positions, radius, star_hubs in stars:
        centre = left + radius
        offsets.update({n: (centre + x, y) for n, (x, y) in positions.items()})
        hubs.update(star_hubs)
        left += 2 * radius + DOMAIN_GAP
    return _SiteStars(offsets, width, height, hubs)


def _crosses_domains(net: Network, group: list[str]) -> bool:
    """Whether a node of ``group`` (all of one domain) has a link into another domain."""
    return any(net.nodes[link.other(name)].domain != net.nodes[name].domain
               for name in group for link in net.links_of(name))


def _star(net: Network, group: list[str], room: Mapping[str, float]) -> tuple[dict[str, Point], float, dict[str, str]]:
    """Positions of ``group`` (one domain at one site) around its centre, the star's radius, each node's hub."""
    children = _star_tree(net, group)
    order = _walk([min(group, key=_ranker(net, group))], children)
    radius: dict[str, float] = {}
    plans: dict[str, _Rings] = {}
    for node in reversed(order):
        kids = children.get(node, [])
        plans[node] = _Rings.around([radius[c] for c in kids], [room.get(c, 0.0) for c in kids])
        radius[node] = plans[node].radius
    positions: dict[str, Point] = {order[0]: (0.0, 0.0)}
    for node in order:
        x, y = positions[node]
        for child, (dx, dy) in zip(children.get(node, []), plans[node].offsets):
            positions[child] = (x + dx, y + dy)
    hubs = {child: hub for hub, kids in children.items() for child in kids}
    return positions, radius[order[0]], hubs


def _star_tree(net: Network, group: list[str]) -> dict[str, list[str]]:
    """A breadth-first tree over the links inside ``group``, rooted at its centre.

    Parts not linked to the centre inside the group hang off the centre.
    """
    inside = set(group)
    starts = sorted(group, key=_ranker(net, group))
    root = starts[0]
    seen = {root}
    children: dict[str, list[str]] = {}
    for start in starts:
        if start not in seen:
            seen.add(start)
            children.setdefault(root, []).append(start)
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for link in net.links_of(current):
                other = link.other(current)
                if other in inside and other not in seen:
                    seen.add(other)
                    children.setdefault(current, []).append(other)
                    queue.append(other)
    return children


def _ranker(net: Network, group: list[str]):
    """Sort key: centre roles first (core router, router, aggregation ...), then plan order."""
    index = {name: i for i, name in enumerate(group)}
    last = len(CENTRE_PRIORITY)

    def key(name: str) -> tuple[int, int]:
        role = net.nodes[name].role
        return (CENTRE_PRIORITY.index(role) if role in CENTRE_PRIORITY else last, index[name])

    return key


@dataclass(frozen=True)
class _Rings:
    """Where the children of one star node go: offsets in child order, and the radius needed."""

    offsets: tuple[Point, ...]
    radius: float

    @staticmethod
    def around(child_radii: list[float], rooms: list[float]) -> _Rings:
        """Leaves (radius 0.5, plus their room outwards) on inner rings, sub-stars on an outer ring."""
        leaf_radius = NODE_SPACING / 2
        leaves = [i for i, r in enumerate(child_radii) if r <= leaf_radius]
        hubs = [i for i, r in enumerate(child_radii) if r > leaf_radius]
        offsets: dict[int, Point] = {}
        inner = _ring_positions(len(leaves))
        offsets.update(zip(leaves, inner))
        inner_radius = max((math.hypot(x, y) + leaf_radius + rooms[i] for i, (x, y) in zip(leaves, inner)),
                           default=leaf_radius)
        radius = inner_radius
        if hubs:
            hub_radii = [child_radii[i] for i in hubs]
            ring, placed = _outer_ring(inner_radius, hub_radii)
            offsets.update(zip(hubs, placed))
            radius = ring + max(hub_radii)
        return _Rings(tuple(offsets[i] for i in range(len(child_radii))), max(radius, leaf_radius))


def _ring_positions(count: int) -> list[Point]:
    """``count`` points on concentric rings ``RING_STEP`` apart, inner rings filled first.

    A ring's nodes sit between the nodes of the ring inside it, so the line
    from the centre to an outer node passes between inner nodes and labels.
    """
    out: list[Point] = []
    inner: list[float] = []
    ring = 1
    while len(out) < count:
        radius = ring * RING_STEP
        capacity = max(1, int(2 * math.pi * radius / NODE_SPACING))
        take = min(capacity, count - len(out))
        angles = _ring_angles(take, inner)
        out.extend((radius * math.cos(a), radius * math.sin(a)) for a in angles)
        inner = angles
        ring += 1
    return out


def _ring_angles(take: int, inner: list[float]) -> list[float]:
    """Angles for ``take`` nodes: gaps of the inner ring when they suffice, else evenly spaced."""
    if not inner:
        turn = math.pi / take  # no node straight up, where the line to the parent runs
        return [math.pi / 2 + turn + 2 * math.pi * k / take for k in range(take)]
    if take <= len(inner):
        gaps = [(a + (inner[(i + 1) % len(inner)] + (2 * math.pi if i + 1 == len(inner) else 0.0))) / 2
                for i, a in enumerate(inner)]
        return [gaps[int(k * len(gaps) / take)] for k in range(take)]
    return [inner[0] + math.pi / take + 2 * math.pi * k / take for k in range(take)]


def _outer_ring(inner_radius: float, radii: list[float]) -> tuple[float, list[Point]]:
    """A ring outside ``inner_radius`` on which discs of ``radii`` fit without touching."""
    half = CLUSTER_GAP / 2
    ring = inner_radius + CLUSTER_GAP + max(radii)
    if len(radii) > 1:
        while sum(_half_angle(r + half, ring) for r in radii) > math.pi:
            ring *= 1.1
    halves = [_half_angle(r + half, ring) for r in radii]
    spare = (2 * math.pi - 2 * sum(halves)) / len(radii)
    out: list[Point] = []
    angle = -math.pi / 2  # the first sub-star hangs below its centre
    for h in halves:
        angle += h
        out.append((ring * math.cos(angle), ring * math.sin(angle)))
        angle += h + spare
    return ring, out


def _half_angle(radius: float, ring: float) -> float:
    return math.asin(min(1.0, radius / ring))


# -- the tree of sites ----------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """How the site tree is folded: sites per wrapped row, and the subtrees of each strip."""

    per_row: int | None  # None: about sqrt(2n) for n wrapped children
    strips: list[list[str]]


@dataclass
class _SiteTree:
    """The sites to draw, their bands and boxes, and the tidy placement of their subtrees.

    The sites from the root down to the first site with several children form
    the *chain* (the province and, for a one-prefecture plan, the prefecture);
    the subtrees below it are the *units*. A plan far wider than high puts its
    units into several *strips*, one below the other, each with every band.
    """

    roots: list[str]
    children: dict[str, list[str]]
    band: dict[str, int]
    box: dict[str, tuple[float, float]]
    levels: list[Level]
    _memo: dict = field(default_factory=dict, repr=False)

    @staticmethod
    def build(net: Network, stars: Mapping[str, _SiteStars]) -> _SiteTree:
        tree = hierarchy_tree(net)
        order = {s: i for i, s in enumerate(net.sites)}
        children = {s: sorted(tree.successors(s), key=order.__getitem__) for s in net.sites}
        roots = [s for s in net.sites if net.sites[s].parent not in net.sites]
        kept = _sites_with_nodes(roots, children, set(stars))
        children = {s: [c for c in kids if c in kept] for s, kids in children.items() if s in kept}
        roots = [r for r in roots if r in kept]
        band = _bands(net, roots, children)
        box = {s: (stars[s].width, stars[s].height) if s in stars else (1.0, 1.0) for s in kept}
        levels = [LEVELS[min(b, len(LEVELS) - 1)] for b in range(max(band.values(), default=-1) + 1)]
        return _SiteTree(roots, children, band, box, levels)

    # chain and units

    def chain(self) -> list[str]:
        if len(self.roots) != 1:
            return []
        out = [self.roots[0]]
        while len(self.children.get(out[-1], [])) == 1:
            out.append(self.children[out[-1]][0])
        return out

    def units(self) -> list[str]:
        chain = self.chain()
        return list(self.children.get(chain[-1], [])) if chain else list(self.roots)

    # placement

    def place(self) -> tuple[dict[str, Point], dict[str, tuple[float, ...]]]:
        """Centre of every site, and the tops of the bands of each level (one per strip)."""
        shape = self._choose_shape()
        widths = self._subtree_widths(shape.per_row)
        width = self._width(shape, widths)
        xs: dict[str, float] = dict.fromkeys(self.chain(), width / 2)
        row_of: dict[str, int] = {}
        for strip in shape.strips:
            left = (width - _row_width(strip, widths)) / 2
            for unit in strip:
                self._place_subtree(unit, left, widths, shape.per_row, xs, row_of)
                left += widths[unit] + SITE_GAP
        tops = self._band_tops(shape)
        cell = self._cell_heights()
        centres: dict[str, Point] = {}
        for site in self.chain():
            b = self.band[site]
            centres[site] = (xs[site], tops[0][b] - (cell[b] + ROW_GAP) / 2)
        for k, strip in enumerate(shape.strips):
            for site in _walk(strip, self.children):
                b = self.band[site]
                centres[site] = (xs[site], tops[k][b] - (row_of.get(site, 0) + 0.5) * (cell[b] + ROW_GAP))
        return centres, self._level_tops(tops)

    def _place_subtree(self, root: str, left: float, widths: Mapping[str, float], per_row: int | None,
                       xs: dict[str, float], row_of: dict[str, int]) -> None:
        stack = [(root, left)]
        while stack:
            site, slot_left = stack.pop()
            centre = slot_left + widths[site] / 2
            xs[site] = centre
            rows = self._child_rows(site, per_row)
            for r, row in enumerate(rows):
                x = centre - _row_width(row, widths) / 2
                for child in row:
                    if len(rows) > 1:
                        row_of[child] = r
                    stack.append((child, x))
                    x += widths[child] + SITE_GAP

    # the shape: wrapping and strips

    def _choose_shape(self) -> _Shape:
        """One strip unless the plan is far wider than high; then the fold closest to TARGET_ASPECT."""
        units = self.units()
        best = _Shape(None, [units])
        if len(units) < 2 or self._aspect(best) <= MAX_ASPECT:
            return best
        best_score = abs(math.log(self._aspect(best) / TARGET_ASPECT))
        for per_row in PER_ROW_CHOICES:
            widths = self._subtree_widths(per_row)
            for count in range(1, min(len(units), MAX_STRIPS) + 1):
                shape = _Shape(per_row, _pack(units, widths, count))
                score = abs(math.log(self._aspect(shape, widths) / TARGET_ASPECT))
                if score < best_score - 1e-9:
                    best, best_score = shape, score
        return best

    def _aspect(self, shape: _Shape, widths: Mapping[str, float] | None = None) -> float:
        widths = widths if widths is not None else self._subtree_widths(shape.per_row)
        tops = self._band_tops(shape)
        height = -self._bottom(shape, tops)
        return self._width(shape, widths) / max(height, 1.0)

    def _width(self, shape: _Shape, widths: Mapping[str, float]) -> float:
        strips = max((_row_width(strip, widths) for strip in shape.strips), default=0.0)
        chain = max((self.box[s][0] for s in self.chain()), default=0.0)
        return max(strips, chain, 1.0)

    def _wraps(self, site: str) -> bool:
        kids = self.children.get(site, [])
        return len(kids) > WRAP_AFTER and not any(self.children.get(k) for k in kids)

    def _child_rows(self, site: str, per_row: int | None) -> list[list[str]]:
        kids = self.children.get(site, [])
        if not self._wraps(site):
            return [kids] if kids else []
        size = per_row or math.ceil(math.sqrt(len(kids) * 2))
        return [kids[i:i + size] for i in range(0, len(kids), size)]

    def _subtree_widths(self, per_row: int | None) -> dict[str, float]:
        widths: dict[str, float] = {}
        for site in reversed(_walk(self.roots, self.children)):
            span = max((_row_width(row, widths) for row in self._child_rows(site, per_row)), default=0.0)
            widths[site] = max(self.box[site][0], span)
        return widths

    # bands

    def _cell_heights(self) -> dict[int, float]:
        cell: dict[int, float] = {}
        for site, b in self.band.items():
            cell[b] = max(cell.get(b, 0.0), self.box[site][1])
        return cell

    def _band_heights(self, per_row: int | None) -> dict[int, float]:
        """Height of each band: its tallest site times the most rows any wrapped group needs there."""
        cached = self._memo.get(("heights", per_row))
        if cached is None:
            cached = self._memo[("heights", per_row)] = self._measure_bands(per_row)
        return cached

    def _measure_bands(self, per_row: int | None) -> dict[int, float]:
        rows: dict[int, int] = dict.fromkeys(self.band.values(), 1)
        for site in self.band:
            child_rows = self._child_rows(site, per_row)
            if len(child_rows) > 1:
                b = self.band[child_rows[0][0]]
                rows[b] = max(rows[b], len(child_rows))
        cell = self._cell_heights()
        return {b: rows[b] * (cell[b] + ROW_GAP) for b in rows}

    def _band_tops(self, shape: _Shape) -> list[dict[int, float]]:
        """For each strip, the top ``y`` of each band (the chain's bands are in strip 0's map)."""
        heights = self._band_heights(shape.per_row)
        chain_bands, unit_bands = self._band_sets()
        top = 0.0
        head: dict[int, float] = {}
        for b in chain_bands:
            head[b] = top
            top -= heights[b] + BAND_GAP
        strip_height = sum(heights[b] for b in unit_bands) + BAND_GAP * max(len(unit_bands) - 1, 0)
        out: list[dict[int, float]] = []
        for _ in shape.strips or [[]]:
            tops = dict(head) if not out else {}
            y = top
            for b in unit_bands:
                tops[b] = y
                y -= heights[b] + BAND_GAP
            out.append(tops)
            top -= strip_height + STRIP_GAP
        return out

    def _band_sets(self) -> tuple[list[int], list[int]]:
        """The bands of the chain and the bands of the units, top first."""
        cached = self._memo.get("bands")
        if cached is None:
            chain = sorted({self.band[s] for s in self.chain()})
            units = sorted({self.band[s] for s in _walk(self.units(), self.children)})
            cached = self._memo["bands"] = (chain, units)
        return cached

    def _bottom(self, shape: _Shape, tops: list[dict[int, float]]) -> float:
        heights = self._band_heights(shape.per_row)
        return min((y - heights[b] for strip in tops for b, y in strip.items()), default=-1.0)

    def _level_tops(self, tops: list[dict[int, float]]) -> dict[str, tuple[float, ...]]:
        out: dict[str, list[float]] = {}
        for strip in tops:
            for b, y in sorted(strip.items()):
                out.setdefault(self.levels[b], []).append(y)
        return {level: tuple(ys) for level, ys in out.items()}


def _walk(roots: Iterable[str], children: Mapping[str, list[str]]) -> list[str]:
    """``roots`` and everything below them, parents before children."""
    order = list(roots)
    for site in order:  # the list grows while it is walked: a breadth-first walk
        order.extend(children.get(site, []))
    return order


def _pack(units: list[str], widths: Mapping[str, float], count: int) -> list[list[str]]:
    """``units`` in order, cut into at most ``count`` strips of about equal width."""
    target = _row_width(units, widths) / count
    strips: list[list[str]] = [[]]
    used = 0.0
    for unit in units:
        if strips[-1] and used + widths[unit] / 2 > target and len(strips) < count:
            strips.append([])
            used = 0.0
        strips[-1].append(unit)
        used += widths[unit] + SITE_GAP
    return strips


def _row_width(row: list[str], widths: Mapping[str, float]) -> float:
    return sum(widths[s] for s in row) + SITE_GAP * max(len(row) - 1, 0)


def _sites_with_nodes(roots: list[str], children: Mapping[str, list[str]], occupied: set[str]) -> set[str]:
    """Sites whose subtree holds at least one laid-out node."""
    kept: set[str] = set()
    for site in reversed(_walk(roots, children)):
        if site in occupied or any(c in kept for c in children.get(site, [])):
            kept.add(site)
    return kept


def _bands(net: Network, roots: list[str], children: Mapping[str, list[str]]) -> dict[str, int]:
    """Band index per site: its level's place in LEVELS, and always below its parent."""
    band: dict[str, int] = {}
    for site in _walk(roots, children):
        level = net.sites[site].level
        own = LEVELS.index(level) if level in LEVELS else len(LEVELS)
        parent = net.sites[site].parent
        band[site] = max(own, band[parent] + 1) if parent in band else own
    return band
