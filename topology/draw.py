"""A picture of a plan: matplotlib (Agg, no window), returned as PNG, SVG or PDF bytes.

Nodes sit where :func:`~topology.layout.hierarchy_layout` puts them (province on
top, each lower level on a lower band, a star per domain at every site). Nodes
are coloured by domain (legend: name, kind, clearance) and shaped by role;
links are lines whose width follows the bandwidth class and whose style
follows the medium (lan solid, leased_fibre dashed, carrier_line dash-dot,
internet dotted, wireless dash-dot-dot). A link joining two domains is drawn
dark. Small plans get every label; large ones only those of core routers,
routers, firewalls and servers.

``link_values`` (link name → value, e.g. utilisation 0..1 and above) colours
the links on a green-to-red scale with a colour bar instead; links without a
value are drawn pale. The caller cuts the plan to a phase
(``net.at_phase(p)``); ``domain=`` keeps one domain. The output format comes
from the file suffix (:func:`output_format`).

Example::

    >>> from topology import load_plan
    >>> from topology.draw import draw_network, output_format
    >>> net = load_plan("scenarios/chuxiong/plan.yaml")            # doctest: +SKIP
    >>> png = draw_network(net.at_phase("一期"), output_format("net.png"))  # doctest: +SKIP
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"                        # doctest: +SKIP
    True
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib import cm, transforms

from .cjk_font import cjk_font_families
from .errors import GovnetError
from .layout import Layout, hierarchy_layout
from .model import Network
from .schema import LEVEL_NAMES_CN

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
MEDIUM_STYLES = {
    "lan": "-", "leased_fibre": (0, (5, 2)), "carrier_line": (0, (6, 2, 1, 2)),
    "internet": (0, (1, 1.5)), "wireless": (0, (4, 1.5, 1, 1.5, 1, 1.5)),
}
BANDWIDTH_CLASSES = (  # (upper bound in bit/s, label, line width in points)
    (10e6, "≤10 Mbit/s", 0.6), (100e6, "≤100 Mbit/s", 1.0), (1e9, "≤1 Gbit/s", 1.6),
    (10e9, "≤10 Gbit/s", 2.4), (float("inf"), ">10 Gbit/s", 3.2),
)
INCHES_PER_UNIT = 0.5            # preferred scale: one node spacing
NODE_UNITS = 0.36                # a host-sized marker's diameter in layout units
MAX_PLOT_INCHES = (150.0, 60.0)  # width, height of the plotting area at most
MIN_PLOT_INCHES = (7.0, 4.5)
LEGEND_INCHES = 3.4
TITLE_INCHES = 0.6
MAX_PIXELS = 30000               # Agg's limit is 2**16 per side; stay well below it


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
                 title: str | None = None) -> bytes:
    """Draw ``net`` (one ``domain`` of it if given) and return the file's bytes in ``fmt``."""
    if fmt not in FORMATS.values():
        raise DrawError(f"unknown drawing format '{fmt}' (use {', '.join(FORMATS.values())})")
    nodes = _selected_nodes(net, domain)
    links = [l for l in net.links.values() if l.a in nodes and l.b in nodes]
    layout = hierarchy_layout(net, nodes)
    with matplotlib.rc_context(_rc()):
        scene = _Scene.create(net, layout)
        _draw_links(scene, links, link_values)
        _draw_nodes(scene, nodes)
        _draw_labels(scene, nodes)
        _draw_bands(scene)
        _draw_legend(scene, nodes, links, link_values, value_label)
        scene.figure.suptitle(title or _title(net, domain), fontsize=13, y=1 - 0.15 / scene.figure.get_figheight())
        return _render(scene.figure, fmt)


# -- what to draw -----------------------------------------------------------------


def _selected_nodes(net: Network, domain: str | None) -> list[str]:
    if domain is None:
        return list(net.nodes)
    if domain not in net.domains:
        raise DrawError(f"the plan has no domain '{domain}' (domains: {', '.join(net.domains)})")
    return [n.name for n in net.nodes.values() if n.domain == domain]


def _title(net: Network, domain: str | None) -> str:
    name = f"{net.title} ({net.name})" if net.title else net.name
    phase = f"phase {net.phases[net.phase].name}" if net.phase is not None else "all phases"
    parts = [name, phase] + ([f"domain {domain}"] if domain else [])
    return " — ".join(parts)


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
    axes: object
    scale: float          # inches per layout unit
    colours: dict[str, str]

    @staticmethod
    def create(net: Network, layout: Layout) -> "_Scene":
        xmin, ymin, xmax, ymax = layout.bounds()
        xmin, xmax = xmin - 3.0, xmax + 1.5
        ymin, ymax = ymin - 2.0, ymax + 1.5
        width, height = xmax - xmin, ymax - ymin
        scale = min(INCHES_PER_UNIT, MAX_PLOT_INCHES[0] / width, MAX_PLOT_INCHES[1] / height)
        plot_w = max(width * scale, MIN_PLOT_INCHES[0])
        plot_h = max(height * scale, MIN_PLOT_INCHES[1])
        fig_w, fig_h = plot_w + LEGEND_INCHES, plot_h + TITLE_INCHES
        figure = Figure(figsize=(fig_w, fig_h), dpi=_dpi(fig_w, fig_h))
        FigureCanvasAgg(figure)
        axes = figure.add_axes((0.0, 0.0, plot_w / fig_w, plot_h / fig_h))
        axes.set_xlim(xmin, xmin + plot_w / scale)
        axes.set_ylim(ymax - plot_h / scale, ymax)
        axes.set_aspect("equal", adjustable="box", anchor="NW")
        axes.set_axis_off()
        return _Scene(net, layout, figure, axes, scale, domain_colours(net))

    def points(self, units: float, low: float, high: float) -> float:
        """``units`` of layout distance in points, kept within ``low``..``high``."""
        return min(max(units * self.scale * 72, low), high)


def _dpi(fig_w: float, fig_h: float) -> int:
    return int(max(40, min(150, MAX_PIXELS / max(fig_w, fig_h))))


def _rc() -> dict:
    return {
        "font.family": cjk_font_families(),
        "svg.hashsalt": "govnet",
        "svg.fonttype": "path",
        "pdf.fonttype": 3,
        "path.simplify": True,
        "axes.unicode_minus": False,
    }


def _render(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    figure.savefig(buffer, format=fmt, metadata=metadata, facecolor="white")
    return buffer.getvalue()


# -- links --------------------------------------------------------------------------


def _bandwidth_class(bandwidth: float) -> tuple[str, float]:
    for bound, label, width in BANDWIDTH_CLASSES:
        if bandwidth <= bound:
            return label, width
    return BANDWIDTH_CLASSES[-1][1], BANDWIDTH_CLASSES[-1][2]


def _value_scale() -> tuple[object, Normalize]:
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


def _link_colour(scene: _Scene, link, values: Mapping[str, float] | None, cmap, norm):
    if values is not None:
        value = values.get(link.name)
        return UNVALUED_COLOUR if value is None else cmap(norm(value))
    a, b = scene.net.nodes[link.a].domain, scene.net.nodes[link.b].domain
    return scene.colours.get(a, CROSS_DOMAIN_COLOUR) if a == b else CROSS_DOMAIN_COLOUR


# -- nodes and labels -----------------------------------------------------------------


def _draw_nodes(scene: _Scene, nodes: list[str]) -> None:
    """One scatter per role (a scatter has one marker shape)."""
    by_role: dict[str, list[str]] = {}
    for name in nodes:
        by_role.setdefault(scene.net.nodes[name].role, []).append(name)
    base = scene.points(NODE_UNITS, 1.2, 12.0)
    edge = scene.points(0.02, 0.1, 0.6)
    for role, group in by_role.items():
        marker, size = ROLE_MARKERS.get(role, ("o", 1.0))
        xs = [scene.layout.nodes[n][0] for n in group]
        ys = [scene.layout.nodes[n][1] for n in group]
        colours = [scene.colours.get(scene.net.nodes[n].domain, CROSS_DOMAIN_COLOUR) for n in group]
        face = ["white"] * len(group) if role == "cloud" else colours
        scene.axes.scatter(xs, ys, s=(base * size) ** 2, marker=marker, c=face, edgecolors=colours if role == "cloud"
                           else "#1b1b1b", linewidths=edge * (4 if role == "cloud" else 1), zorder=3 if role != "cloud" else 2)


def _labelled(scene: _Scene, nodes: list[str]) -> list[str]:
    if len(nodes) <= SMALL_PLAN:
        return nodes
    return [n for n in nodes if scene.net.nodes[n].role in LARGE_PLAN_LABELS]


def _draw_labels(scene: _Scene, nodes: list[str]) -> None:
    """Hubs and lone nodes are labelled below; units of a star along the ray from their hub."""
    size = scene.points(0.2, 1.0, 7.0)
    per_unit = scene.scale * 72  # points per layout unit
    boxed = len(nodes) <= SMALL_PLAN
    centres = set(scene.layout.hubs.values())  # nodes with a star of their own
    for name in _labelled(scene, nodes):
        node = scene.net.nodes[name]
        gap = (_marker_points(scene, node.role) / 2 + 1.5) / per_unit
        fontsize = size * (1.15 if node.role == "core_router" else 1.0)
        style = {"fontsize": fontsize, "zorder": 4, "clip_on": True, "color": "#1b1b1b",
                 "bbox": _LABEL_BOX if boxed else None}
        x, y = scene.layout.nodes[name]
        hub = scene.layout.hubs.get(name)
        if hub is None or name in centres or scene.layout.nodes[hub] == (x, y):
            scene.axes.text(x, y - gap, name, ha="center", va="top", **style)
            continue
        hx, hy = scene.layout.nodes[hub]
        angle = math.degrees(math.atan2(y - hy, x - hx))
        dx, dy = math.cos(math.radians(angle)) * gap, math.sin(math.radians(angle)) * gap
        flipped = not -90.0 < angle <= 90.0
        scene.axes.text(x + dx, y + dy, name, rotation=angle - 180.0 if flipped else angle,
                        rotation_mode="anchor", ha="right" if flipped else "left", va="center", **style)


_LABEL_BOX = {"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.6}


def _marker_points(scene: _Scene, role: str) -> float:
    """The marker's diameter in points."""
    return scene.points(NODE_UNITS, 1.2, 12.0) * ROLE_MARKERS.get(role, ("o", 1.0))[1]


def _draw_bands(scene: _Scene) -> None:
    """The level of each band, at the left edge."""
    xmin = scene.axes.get_xlim()[0]
    for level, top in scene.layout.bands.items():
        label = f"{LEVEL_NAMES_CN.get(level, level)}\n{level}"
        scene.axes.text(xmin + 0.3, top - 0.3, label, fontsize=scene.points(0.5, 6.0, 11.0), color="#7b7d7d",
                        ha="left", va="top", zorder=0)
        scene.axes.axhline(top + 1.0, color="#eaecee", linewidth=0.6, zorder=0)


# -- legend ---------------------------------------------------------------------------


def _draw_legend(scene: _Scene, nodes: list[str], links: list, values: Mapping[str, float] | None,
                 value_label: str) -> None:
    handles: list[Line2D] = []
    headers: list[int] = []

    def header(text: str) -> None:
        headers.append(len(handles))
        handles.append(Line2D([], [], linestyle="none", label=text))

    net = scene.net
    header("domains")
    present = {net.nodes[n].domain for n in nodes}
    for name, dom in net.domains.items():
        if name in present:
            label = f"{name}{f' {dom.title}' if dom.title else ''}: {dom.kind}, {dom.clearance_label}"
            handles.append(Line2D([], [], marker="o", linestyle="none", markersize=8,
                                  markerfacecolor=scene.colours[name], markeredgecolor="#1b1b1b", label=label))
    header("roles")
    roles = dict.fromkeys(net.nodes[n].role for n in nodes)
    for role in ROLE_MARKERS:
        if role in roles:
            marker, size = ROLE_MARKERS[role]
            handles.append(Line2D([], [], marker=marker, linestyle="none", markersize=min(4 + 2.5 * size, 10),
                                  markerfacecolor="#bfc9ca", markeredgecolor="#1b1b1b", label=role))
    header("media")
    media = dict.fromkeys(l.medium for l in links)
    for medium in list(MEDIUM_STYLES) + [m for m in media if m not in MEDIUM_STYLES]:
        if medium in media:
            handles.append(Line2D([], [], color="#444444", linestyle=MEDIUM_STYLES.get(medium, "-"),
                                  linewidth=1.2, label=medium))
    if values is None and any(net.nodes[l.a].domain != net.nodes[l.b].domain for l in links):
        handles.append(Line2D([], [], color=CROSS_DOMAIN_COLOUR, linewidth=1.6, label="joins two domains"))
    header("bandwidth")
    classes = {_bandwidth_class(l.bandwidth)[0] for l in links}
    for _, label, width in BANDWIDTH_CLASSES:
        if label in classes:
            handles.append(Line2D([], [], color="#444444", linewidth=width, label=label))
    _place_legend(scene, handles, headers)
    if values is not None:
        _draw_colour_bar(scene, value_label)


def _place_legend(scene: _Scene, handles: list[Line2D], headers: list[int]) -> None:
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
