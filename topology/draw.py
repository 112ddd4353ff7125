"""A picture of a plan: matplotlib (Agg, no window), returned as PNG, SVG or PDF bytes.

Nodes sit where :func:`~topology.layout.hierarchy_layout` puts them (province on
top, each lower level on a lower band, a star per domain at every site). Nodes
are coloured by domain (legend: name, kind, clearance) and shaped by role;
links are lines whose width follows the bandwidth class and whose style
follows the medium (lan solid, leased_fibre dashed, carrier_line dash-dot,
internet dotted, wireless dash-dot-dot). A link joining two domains is drawn
dark. Plans of up to 150 nodes get every label; larger ones only those of
core routers, routers, firewalls and servers. A PNG (at most 8000 pixels a
side) leaves out labels too small to read and enlarges core labels; SVG and
PDF keep every label for zooming in. Chinese text needs a CJK font:
:mod:`topology.cjk_font` finds one. Nothing in the files depends on the clock,
so the same plan gives the same bytes.

``link_values`` (link name → value, e.g. utilisation 0..1 and above) colours
the links on a green-to-red scale with a colour bar instead, wider and more on
top the higher the value (the busiest link is the most visible), and
``label_values`` writes the percentage on the busiest links; links without a
value are drawn pale. The caller cuts the plan to a phase
(``net.at_phase(p)``); ``domain=`` keeps one domain. The output format comes
from the file suffix (:func:`output_format`).

Example::

    >>> from topology import load_plan
    >>> from topology.draw import draw_network, output_format
    >>> net = load_plan("scenarios/chuxiong/plan.yaml")
    >>> png = draw_network(net.at_phase("一期"), output_format("net.png"))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib import cm
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from .cjk_font import FALLBACK_FAMILY, cjk_font_families
from .errors import GovnetError
from .layout import Layout, hierarchy_layout
from .model import Network
from .vocabulary import LEVEL_NAMES_CN

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
SMALL_PLAN = 150                 # up to this many nodes every node is labelled
LARGE_PLAN_LABELS = ("core_router", "router", "firewall", "server")
KIND_COLOURS = {
    "party_private": "#c0392b", "intranet": "#e67e22", "extranet": "#2e86c1",
    "internet": "#7f8c8d", "dmz": "#8e44ad",
}
SPARE_COLOURS = ("#27ae60", "#d4ac0d", "#16a085", "#d35400", "#5d6d7e", "#a93226", "#1f618d", "#7d3c98")
CROSS_DOMAIN_COLOUR = "#222222"
UNVALUED_COLOUR = "#d5d8dc"
VALUE_COLOURMAP = "RdYlGn_r"
OVERLOAD_COLOUR = "#6c1a8a"
ROLE_MARKERS = {  # role -> (marker, size relative to a host-sized node)
    "core_router": ("h", 2.2), "router": ("o", 1.5), "aggregation": ("D", 1.2),
    "access_switch": ("s", 0.9), "switch": ("s", 1.0), "firewall": ("^", 1.5),
    "one_way_gateway": (">", 1.4), "vpn_gateway": ("v", 1.4), "server": ("P", 1.2),
    "host": ("o", 0.8), "mcu": ("*", 1.7), "cloud": ("o", 2.6),
}
MEDIUM_STYLES: dict[str, LineStyleType] = {
    "lan": "-", "leased_fibre": (0, (5, 2)), "carrier_line": (0, (6, 2, 1, 2)),
    "internet": (0, (1, 1.5)), "wireless": (0, (4, 1.5, 1, 1.5, 1, 1.5)),
}
BANDWIDTH_CLASSES = (  # (upper bound in bit/s, label, line width in points)
    (10e6, "≤10 Mbit/s", 0.6), (100e6, "≤100 Mbit/s", 1.0), (1e9, "≤1 Gbit/s", 1.6),
    (10e9, "≤10 Gbit/s", 2.4), (float("inf"), ">10 Gbit/s", 3.2),
)
INCHES_PER_UNIT = 0.5            # preferred scale: one node spacing
NODE_UNITS = 0.36                # a host-sized marker's diameter in layout units
MAX_PLOT_INCHES = (150.0, 80.0)  # width, height of the plotting area at most
MIN_PLOT_INCHES = (7.0, 4.5)
LEGEND_INCHES = 3.4
LEGEND_COLUMNS = 44              # half-width characters that fit on one legend line
TITLE_INCHES = 0.6               # room for two lines of title
TITLE_POINTS = 12
MAX_PNG_PIXELS = 8000            # long side of a PNG at most (time and memory grow with the area)
PNG_DPI = (100, 150)             # lowest and highest resolution of a PNG
MIN_LABEL_PIXELS = 5.0           # a PNG leaves out labels smaller than this (unreadable); vector formats keep them
READABLE_PIXELS = 10.0           # ... and grows core labels towards this, up to MAX_CORE_LABEL_UNITS
MAX_CORE_LABEL_UNITS = 1.4
LABEL_UNITS = {"core_router": 0.45}  # label height in layout units by role; others DEFAULT_LABEL_UNITS
DEFAULT_LABEL_UNITS = 0.2
LABEL_BOX = {"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.6}
HOLLOW_ROLES = ("cloud",)
NODE_EDGE_COLOUR = "#1b1b1b"


class DrawError(GovnetError):
    """A drawing cannot be made as asked (unknown output format or domain)."""


def output_format(path: str | Path) -> str:
    """``png``, ``svg`` or ``pdf`` from the suffix of ``path``; :class:`DrawError` otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        allowed = ", ".join(FORMATS)
        shown = f"'{suffix}'" if suffix else "no suffix"
        raise DrawError(f"cannot draw to {path}: {shown} is not a drawing format (use {allowed})")
    return FORMATS[suffix]


def draw_network(net: Network, fmt: str = "png", *, domain: str | None = None,
                 link_values: Mapping[str, float] | None = None, value_label: str = "utilisation",
                 title: str | None = None, label_values: int = 0) -> bytes:
    """Draw ``net`` (one ``domain`` of it if given) and return the file's bytes in ``fmt``.

    With ``link_values`` the links are drawn by value (:func:`_draw_valued_links`): the higher, the wider, the
    stronger and the more on top; ``label_values`` writes the value as a percentage on that many of the links
    with the highest values."""
    if fmt not in FORMATS.values():
        raise DrawError(f"unknown drawing format '{fmt}' (use {', '.join(FORMATS.values())})")
    selected = _selected_nodes(net, domain)
    layout = hierarchy_layout(net, selected, _label_room(net, _label_candidates(net, selected)))
    nodes = list(layout.nodes)  # a node whose site is not in the plan has no place
    links = [l for l in net.links.values() if l.a in layout.nodes and l.b in layout.nodes]
    families = cjk_font_families()  # warns once when no font has Chinese glyphs
    with matplotlib.rc_context(_rc(families)), warnings.catch_warnings():
        if families == [FALLBACK_FAMILY]:  # already warned: not once more per missing glyph
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        scene = _Scene.create(net, layout, fmt)
        if link_values is None:
            _draw_links(scene, links, None)
        else:
            _draw_valued_links(scene, links, link_values)
        _draw_nodes(scene, nodes)
        if link_values is not None and label_values:
            _draw_link_values(scene, links, link_values, label_values)
        _draw_labels(scene, nodes)
        _draw_bands(scene)
        if not nodes:
            _draw_nothing(scene, domain)
        _draw_legend(scene, nodes, links, link_values, value_label)
        _draw_title(scene, title or _fit_title(_title_parts(net, domain), _title_columns(scene)))
        return _render(scene.figure, fmt)


# -- what to draw -----------------------------------------------------------------


def _selected_nodes(net: Network, domain: str | None) -> list[str]:
    if domain is None:
        return list(net.nodes)
    if domain not in net.domains:
        raise DrawError(f"the plan has no domain '{domain}' (domains: {', '.join(net.domains)})")
    return [n.name for n in net.nodes.values() if n.domain == domain]


def _title_parts(net: Network, domain: str | None) -> list[str]:
    """The plan's title and name, the phase, the domain (when one is drawn alone)."""
    parts = [net.title, net.name] if net.title and net.title != net.name else [net.name]
    parts.append(f"phase {net.phases[net.phase].name}" if net.phase is not None else "all phases")
    return parts + ([f"domain {domain}"] if domain else [])


def _fit_title(parts: list[str], columns: int) -> str:
    """``parts`` joined by " — " on at most two lines of ``columns``; the first part is cut if need be."""
    tail = " — ".join(parts[1:])
    if _columns(" — ".join(parts)) <= columns:
        return " — ".join(parts)
    return _clip(parts[0], columns) + "\n" + _clip(tail, columns)


def _columns(text: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def domain_colours(net: Network) -> dict[str, str]:
    """A colour per domain: the colour of its kind for the first domain of that kind, else a spare one."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    spare = iter(SPARE_COLOURS * (1 + len(net.domains) // len(SPARE_COLOURS)))
    for name, dom in net.domains.items():
        colour = KIND_COLOURS.get(dom.kind)
        if colour is None or colour in taken:
            colour = next(c for c in spare if c not in taken)
        taken.add(colour)
        out[name] = colour
    return out


# -- the figure -------------------------------------------------------------------


@dataclass
class _Scene:
    """The figure, its axes, the layout and the sizes derived from the scale."""

    net: Network
    layout: Layout
    figure: Figure
    axes: Axes
    scale: float          # inches per layout unit
    colours: dict[str, str]
    fmt: str

    @staticmethod
    def create(net: Network, layout: Layout, fmt: str) -> _Scene:
        xmin, ymin, xmax, ymax = layout.bounds()
        xmin, xmax = xmin - 3.0, xmax + 1.5
        ymin, ymax = ymin - 2.0, ymax + 1.5
        width, height = xmax - xmin, ymax - ymin
        max_w, max_h = _max_plot_inches(fmt)
        scale = min(INCHES_PER_UNIT, max_w / width, max_h / height)
        plot_w = max(width * scale, MIN_PLOT_INCHES[0])
        plot_h = max(height * scale, MIN_PLOT_INCHES[1])
        fig_w, fig_h = plot_w + LEGEND_INCHES, plot_h + TITLE_INCHES
        figure = Figure(figsize=(fig_w, fig_h), dpi=min(PNG_DPI[1], MAX_PNG_PIXELS / max(fig_w, fig_h)))
        FigureCanvasAgg(figure)
        axes = figure.add_axes((0.0, 0.0, plot_w / fig_w, plot_h / fig_h))
        axes.set_xlim(xmin, xmin + plot_w / scale)
        axes.set_ylim(ymax - plot_h / scale, ymax)
        axes.set_aspect("equal", adjustable="box", anchor="NW")
        axes.set_axis_off()
        return _Scene(net, layout, figure, axes, scale, domain_colours(net), fmt)

    def points(self, units: float, low: float, high: float) -> float:
        """``units`` of layout distance in points, kept within ``low``..``high``."""
        return min(max(units * self.scale * 72, low), high)

    def pixels(self, points: float) -> float:
        """How many pixels ``points`` take in a PNG."""
        return points * self.figure.get_dpi() / 72


def _max_plot_inches(fmt: str) -> tuple[float, float]:
    """The plotting area's limit: a PNG keeps at least the lower dpi within MAX_PNG_PIXELS."""
    if fmt != "png":
        return MAX_PLOT_INCHES
    side = MAX_PNG_PIXELS / PNG_DPI[0]
    return (min(MAX_PLOT_INCHES[0], side - LEGEND_INCHES), min(MAX_PLOT_INCHES[1], side - TITLE_INCHES))


def _rc(families: list[str]) -> dict:
    """Settings for one drawing: the CJK font first, and stable ids in SVG files."""
    return {
        "font.family": families,
        "svg.hashsalt": "govnet",
        "svg.fonttype": "path",  # glyphs as paths: the viewer needs no Chinese font
        "pdf.fonttype": 3,
    }


def _render(figure: Figure, fmt: str) -> bytes:
    """The file's bytes; no dates or versions inside, so the same plan gives the same bytes."""
    buffer = io.BytesIO()
    if fmt == "png":
        _write_png(figure, buffer)
    else:
        metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
        figure.savefig(buffer, format=fmt, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def _write_png(figure: Figure, buffer: io.BytesIO) -> None:
    """Render with Agg and save as RGB (no alpha channel: smaller, and faster to compress)."""
    figure.set_facecolor("white")
    canvas = figure.canvas
    canvas.draw()
    # the canvas is the FigureCanvasAgg _Scene attaches; the stubs type figure.canvas as FigureCanvasBase
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)  # type: ignore[attr-defined]
    dpi = round(figure.get_dpi())
    image.convert("RGB").save(buffer, format="png", dpi=(dpi, dpi))


# -- links --------------------------------------------------------------------------


def _bandwidth_class(bandwidth: float) -> tuple[str, float]:
    for bound, label, width in BANDWIDTH_CLASSES:
        if bandwidth <= bound:
            return label, width
    return BANDWIDTH_CLASSES[-1][1], BANDWIDTH_CLASSES[-1][2]


def _value_scale() -> tuple[Colormap, Normalize]:
    cmap = matplotlib.colormaps[VALUE_COLOURMAP].with_extremes(over=OVERLOAD_COLOUR)
    return cmap, Normalize(0.0, 1.0)


def _draw_links(scene: _Scene, links: list, values: Mapping[str, float] | None) -> None:
    """One LineCollection per medium (a collection has one dash pattern)."""
    positions = scene.layout.nodes
    thin = scene.points(0.08, 0.15, 1.0)
    cmap, norm = _value_scale()
    by_medium: dict[str, list] = {}
    for link in links:
        by_medium.setdefault(link.medium, []).append(link)
    for medium, group in by_medium.items():
        segments = [(positions[l.a], positions[l.b]) for l in group]
        widths = [_bandwidth_class(l.bandwidth)[1] * thin for l in group]
        colours = [_link_colour(scene, l, values, cmap, norm) for l in group]
        if values is not None:
            widths = [w if l.name in values else w * 0.6 for w, l in zip(widths, group)]
        collection = LineCollection(segments, linewidths=widths, colors=colours,
                                    linestyles=[MEDIUM_STYLES.get(medium, "-")], zorder=1,
                                    capstyle="butt", alpha=0.85)
        scene.axes.add_collection(collection)


VALUE_BINS = (0.2, 0.5, 0.7, 1.0)  # links are drawn in these bins of value, the highest last (on top)
MIN_LABELLED_LENGTH = 1.5         # layout units: a shorter link has no room for its percentage
HOT_VALUE = 0.5                   # the emphasis of a link is its value over the plan's highest, at least this


def _draw_valued_links(scene: _Scene, links: list, values: Mapping[str, float]) -> None:
    """Links by value, so that the busiest link is the most visible thing on the page: the colour says the value
    (green to red), the *emphasis* (value over the plan's highest, at least HOT_VALUE) sets the width (a quiet
    link is a hairline, the busiest seven times as wide) and the opacity; higher bins are drawn over lower ones,
    and links in the upper half of the emphasis solid, whatever their medium, and over the nodes."""
    positions = scene.layout.nodes
    base = scene.points(0.1, 0.3, 1.2)
    cmap, norm = _value_scale()
    top = max([HOT_VALUE, *(v for v in values.values() if v is not None)])
    bins: dict[tuple[int, str], list] = {}
    for link in links:
        value = values.get(link.name)
        rank = -1 if value is None else sum(1 for bound in VALUE_BINS if value >= bound)
        hot = value is not None and value / top >= 0.5
        bins.setdefault((rank + (10 if hot else 0), "lan" if hot else link.medium), []).append(link)
    for (rank, medium), group in sorted(bins.items()):
        segments = [(positions[l.a], positions[l.b]) for l in group]
        widths: list[float] = []
        colours: list[str | tuple[float, float, float, float]] = []
        for l in group:
            value = values.get(l.name)
            if value is None:
                widths.append(base * 0.4)
                colours.append(UNVALUED_COLOUR)
                continue
            emphasis = min(value / top, 1.0)
            widths.append(base * (0.6 + 6.0 * emphasis))
            r, g, b, _ = cmap(norm(value))
            colours.append((r, g, b, 0.25 + 0.75 * emphasis))
        zorder = (3.5 if rank >= 10 else 1.0) + (rank % 10) * 0.1
        scene.axes.add_collection(LineCollection(segments, linewidths=widths, colors=colours,
                                                 linestyles=[MEDIUM_STYLES.get(medium, "-")], zorder=zorder,
                                                 capstyle="round"))


def _draw_link_values(scene: _Scene, links: list, values: Mapping[str, float], count: int) -> None:
    """The value of the ``count`` links with the highest values, as a percentage on the middle of the link."""
    positions = scene.layout.nodes
    long_enough = [l for l in links if values.get(l.name)
                   and math.dist(positions[l.a], positions[l.b]) >= MIN_LABELLED_LENGTH]
    valued = sorted(long_enough, key=lambda l: (-values[l.name], l.name))[:count]
    cmap, norm = _value_scale()
    size = max(scene.points(0.45, 6.0, 11.0), READABLE_PIXELS * 72 / scene.figure.get_dpi() if scene.fmt == "png" else 0)
    for link in valued:
        (xa, ya), (xb, yb) = scene.layout.nodes[link.a], scene.layout.nodes[link.b]
        value = values[link.name]
        scene.axes.text((xa + xb) / 2, (ya + yb) / 2, f"{value:.0%}", ha="center", va="center", fontsize=size,
                        color="#1b1b1b", zorder=6, clip_on=True, gid=f"value-{link.name}",
                        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": cmap(norm(value)),
                              "linewidth": 1.5, "alpha": 0.95})


def _link_colour(scene: _Scene, link, values: Mapping[str, float] | None, cmap, norm):
    if values is not None:
        value = values.get(link.name)
        return UNVALUED_COLOUR if value is None else cmap(norm(value))
    a, b = scene.net.nodes[link.a].domain, scene.net.nodes[link.b].domain
    return scene.colours.get(a, CROSS_DOMAIN_COLOUR) if a == b else CROSS_DOMAIN_COLOUR


# -- nodes and labels -----------------------------------------------------------------


def _draw_nodes(scene: _Scene, nodes: list[str]) -> None:
    """One scatter per role (a scatter has one marker shape); hollow roles get a thick domain-coloured ring."""
    by_role: dict[str, list[str]] = {}
    for name in nodes:
        by_role.setdefault(scene.net.nodes[name].role, []).append(name)
    edge = scene.points(0.02, 0.1, 0.6)
    for role, group in by_role.items():
        marker = ROLE_MARKERS.get(role, ("o", 1.0))[0]
        xs = [scene.layout.nodes[n][0] for n in group]
        ys = [scene.layout.nodes[n][1] for n in group]
        colours = [scene.colours.get(scene.net.nodes[n].domain, CROSS_DOMAIN_COLOUR) for n in group]
        hollow = role in HOLLOW_ROLES
        scene.axes.scatter(xs, ys, s=_marker_points(scene, role) ** 2, marker=marker,
                           c=["white"] * len(group) if hollow else colours,
                           edgecolors=colours if hollow else NODE_EDGE_COLOUR,
                           linewidths=edge * 4 if hollow else edge, zorder=2 if hollow else 3)


def _label_candidates(net: Network, nodes: list[str]) -> list[str]:
    """Every node of a small plan; of a large one the core routers, routers, firewalls and servers."""
    return nodes if len(nodes) <= SMALL_PLAN else [n for n in nodes if net.nodes[n].role in LARGE_PLAN_LABELS]


def _label_room(net: Network, labelled: list[str]) -> dict[str, float]:
    """The length of each label in layout units (wide CJK characters count as one em)."""
    room: dict[str, float] = {}
    for name in labelled:
        ems = sum(1.0 if ord(ch) >= 0x2E80 else 0.6 for ch in name)
        room[name] = ems * LABEL_UNITS.get(net.nodes[name].role, DEFAULT_LABEL_UNITS) + 0.2
    return room


def _labelled(scene: _Scene, nodes: list[str]) -> list[str]:
    """The label candidates; a PNG leaves out labels too small to read at its resolution."""
    chosen = _label_candidates(scene.net, nodes)
    if scene.fmt != "png":
        return chosen
    readable = {role for role in {scene.net.nodes[n].role for n in chosen}
                if scene.pixels(_label_points(scene, role)) >= MIN_LABEL_PIXELS}
    return [n for n in chosen if scene.net.nodes[n].role in readable]


def _label_points(scene: _Scene, role: str) -> float:
    """Label size: a fixed share of the node spacing; core labels of a large PNG grow to stay readable."""
    if role not in LABEL_UNITS:
        return scene.points(DEFAULT_LABEL_UNITS, 0.5, 7.0)
    size = scene.points(LABEL_UNITS[role], 0.5, 8.5)
    if scene.fmt == "png" and scene.pixels(size) < READABLE_PIXELS:
        size = min(READABLE_PIXELS * 72 / scene.figure.get_dpi(), scene.points(MAX_CORE_LABEL_UNITS, 0.5, 8.5))
    return size


def _draw_labels(scene: _Scene, nodes: list[str]) -> None:
    """Hubs and lone nodes are labelled below; units of a star along the ray from their hub."""
    per_unit = scene.scale * 72  # points per layout unit
    boxed = len(nodes) <= SMALL_PLAN
    centres = set(scene.layout.hubs.values())  # nodes with a star of their own
    for name in _labelled(scene, nodes):
        node = scene.net.nodes[name]
        gap = (_marker_points(scene, node.role) / 2 + 1.5) / per_unit
        style: dict[str, Any] = {"fontsize": _label_points(scene, node.role), "zorder": 4, "clip_on": True, "color": "#1b1b1b",
                 "bbox": LABEL_BOX if boxed or node.role in LABEL_UNITS else None}
        x, y = scene.layout.nodes[name]
        hub = scene.layout.hubs.get(name)
        if hub is None or name in centres or scene.layout.nodes[hub] == (x, y):
            scene.axes.text(x, y - gap, name, ha="center", va="top", gid=f"label-{name}", **style)
            continue
        hx, hy = scene.layout.nodes[hub]
        angle = math.degrees(math.atan2(y - hy, x - hx))
        dx, dy = math.cos(math.radians(angle)) * gap, math.sin(math.radians(angle)) * gap
        flipped = not -90.0 < angle <= 90.0
        scene.axes.text(x + dx, y + dy, name, rotation=angle - 180.0 if flipped else angle, gid=f"label-{name}",
                        rotation_mode="anchor", ha="right" if flipped else "left", va="center", **style)


def _marker_points(scene: _Scene, role: str) -> float:
    """The marker's diameter in points."""
    return scene.points(NODE_UNITS, 1.2, 12.0) * ROLE_MARKERS.get(role, ("o", 1.0))[1]


def _title_columns(scene: _Scene) -> int:
    """Half-width characters that fit across the figure at the title's size."""
    return int(scene.figure.get_figwidth() * 72 / (TITLE_POINTS * 0.55))


def _draw_title(scene: _Scene, text: str) -> None:
    scene.figure.suptitle(text, fontsize=TITLE_POINTS, y=1 - 0.08 / scene.figure.get_figheight(), va="top",
                          linespacing=1.15)


def _draw_nothing(scene: _Scene, domain: str | None) -> None:
    what = f"domain {domain} has no nodes" if domain else "the plan has no nodes"
    scene.axes.text(0.5, 0.5, f"nothing to draw: {what}" + (" in this phase" if scene.net.phase is not None else ""),
                    transform=scene.axes.transAxes, ha="center", va="center", fontsize=12, color="#7b7d7d")


def _draw_bands(scene: _Scene) -> None:
    """The level of each band, at the left edge."""
    xmin = scene.axes.get_xlim()[0]
    for level, tops in scene.layout.bands.items():
        label = f"{LEVEL_NAMES_CN.get(level, level)}\n{level}"
        for top in tops:
            scene.axes.text(xmin + 0.3, top - 0.3, label, fontsize=9, color="#7b7d7d",
                            ha="left", va="top", zorder=0)
            scene.axes.axhline(top + 1.0, color="#eaecee", linewidth=0.6, zorder=0)


# -- legend ---------------------------------------------------------------------------


def _draw_legend(scene: _Scene, nodes: list[str], links: list, values: Mapping[str, float] | None,
                 value_label: str) -> None:
    """Domains, roles, media and bandwidth classes in the right-hand column (and the colour bar)."""
    sections = [
        ("domains", _domain_handles(scene, nodes)),
        ("roles", _role_handles(scene, nodes)),
        ("media", _medium_handles(scene, links, values)),
        ("bandwidth", _bandwidth_handles(links)),
    ]
    handles: list[Line2D] = []
    headers: set[int] = set()
    for title, entries in sections:
        if entries:
            headers.add(len(handles))
            handles.append(Line2D([], [], linestyle="none", label=title))
            handles.extend(entries)
    _place_legend(scene, handles, headers)
    if values is not None:
        _draw_colour_bar(scene, value_label)


def _domain_handles(scene: _Scene, nodes: list[str]) -> list[Line2D]:
    present = {scene.net.nodes[n].domain for n in nodes}
    return [Line2D([], [], marker="o", linestyle="none", markersize=8, markerfacecolor=scene.colours[name],
                   markeredgecolor=NODE_EDGE_COLOUR, label=_domain_label(name, dom.kind, dom.clearance_label, dom.title))
            for name, dom in scene.net.domains.items() if name in present]


def _role_handles(scene: _Scene, nodes: list[str]) -> list[Line2D]:
    present = {scene.net.nodes[n].role for n in nodes}
    roles = list(ROLE_MARKERS) + sorted(present - set(ROLE_MARKERS))
    return [Line2D([], [], marker=ROLE_MARKERS.get(role, ("o", 1.0))[0], linestyle="none",
                   markersize=min(4 + 2.5 * ROLE_MARKERS.get(role, ("o", 1.0))[1], 10),
                   markerfacecolor="#bfc9ca", markeredgecolor=NODE_EDGE_COLOUR, label=role)
            for role in roles if role in present]


def _medium_handles(scene: _Scene, links: list, values: Mapping[str, float] | None) -> list[Line2D]:
    present = {l.medium for l in links}
    media = list(MEDIUM_STYLES) + sorted(present - set(MEDIUM_STYLES))
    out = [Line2D([], [], color="#444444", linestyle=MEDIUM_STYLES.get(m, "-"), linewidth=1.2, label=m)
           for m in media if m in present]
    if values is None and any(scene.net.nodes[l.a].domain != scene.net.nodes[l.b].domain for l in links):
        out.append(Line2D([], [], color=CROSS_DOMAIN_COLOUR, linewidth=1.6, label="joins two domains"))
    return out


def _bandwidth_handles(links: list) -> list[Line2D]:
    present = {_bandwidth_class(l.bandwidth)[0] for l in links}
    return [Line2D([], [], color="#444444", linewidth=width, label=label)
            for _, label, width in BANDWIDTH_CLASSES if label in present]


def _domain_label(name: str, kind: str, clearance: str, title: str | None) -> str:
    """``name: kind, clearance`` and, on a second line, the title cut to the legend's width."""
    label = f"{name}: {kind}, {clearance}"
    if title and title != name:
        label += "\n" + _clip(title, LEGEND_COLUMNS)
    return label


def _clip(text: str, columns: int) -> str:
    """``text`` cut to ``columns`` (a wide CJK character takes two), ending in … when cut."""
    used = 0
    for index, ch in enumerate(text):
        used += _columns(ch)
        if used > columns - 1:
            return text[:index] + "…"
    return text


def _place_legend(scene: _Scene, handles: list[Line2D], headers: set[int]) -> None:
    fig_w = scene.figure.get_figwidth()
    left = 1 - (LEGEND_INCHES - 0.1) / fig_w
    top = 1 - TITLE_INCHES / scene.figure.get_figheight()
    legend = scene.figure.legend(handles=handles, loc="upper left", bbox_to_anchor=(left, top), fontsize=8,
                                 frameon=False, handlelength=2.6, borderaxespad=0.0)
    for index, text in enumerate(legend.get_texts()):
        if index in headers:
            text.set_fontsize(9.5)
            text.set_color("#4d5656")


def _draw_colour_bar(scene: _Scene, label: str) -> None:
    fig_w, fig_h = scene.figure.get_figwidth(), scene.figure.get_figheight()
    height = min(3.0, fig_h * 0.35)
    cax = scene.figure.add_axes((1 - (LEGEND_INCHES - 0.3) / fig_w, 0.4 / fig_h, 0.18 / fig_w, height / fig_h))
    cmap, norm = _value_scale()
    bar = scene.figure.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax, extend="max")
    bar.set_label(f"{label} (above 1: overloaded)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
