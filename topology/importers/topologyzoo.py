"""Import an Internet Topology Zoo network (GraphML) as a govnet plan.

The Topology Zoo (http://www.topology-zoo.org/) describes carrier and research
networks at PoP level: nodes with ``label``, ``Country``, ``Latitude``,
``Longitude`` and ``Internal``; edges with ``LinkSpeedRaw`` in bits/s on many
files. The mapping:

- every PoP is a ``router`` in one ``extranet`` domain; PoPs sit in one
  prefecture site per ``Country`` below a province site named after the
  network (PoPs without a country sit at the province site);
- names are the labels, made unique (``"London (12)"`` for a repeated label,
  ``"node 7"`` for an empty one; the label is kept as the node's title);
- coordinates are kept as tags ``lat=...`` ``lon=...``, and ``external`` marks
  PoPs with ``Internal`` 0 (the plan format has no coordinate field);
- every edge is a leased-fibre link: bandwidth from ``LinkSpeedRaw`` (the
  default where missing), latency the great-circle distance at 2e8 m/s where
  both ends have coordinates; parallel edges are kept, self-loops dropped.

Every choice a file forces (defaults, renamed PoPs, dropped self-loops) is
written to the plan's ``assumptions``, the link cost model among them
(``--cost bandwidth``, the default, or ``hop``). ``--size none`` leaves links
without a usable ``LinkSpeedRaw`` unsized (``bandwidth: unknown``, routed by
hops) instead of giving them the default; the file has no modules, demands,
units or routing costs, so the other ``--size`` choices, ``--unit`` and
``--cost file`` are refused.

Kunming and Chuxiong are 118 km apart (1.17° of longitude at 25° N), 0.589 ms
of fibre::

    >>> graphml = b'''<?xml version="1.0" encoding="utf-8"?>
    ... <graphml xmlns="http://graphml.graphdrawing.org/xmlns">
    ...   <key attr.name="label" attr.type="string" for="node" id="d1"/>
    ...   <key attr.name="Latitude" attr.type="double" for="node" id="d2"/>
    ...   <key attr.name="Longitude" attr.type="double" for="node" id="d3"/>
    ...   <key attr.name="LinkSpeedRaw" attr.type="double" for="edge" id="d4"/>
    ...   <graph edgedefault="undirected">
    ...     <node id="0"><data key="d1">Kunming</data><data key="d2">25.04</data><data key="d3">102.71</data></node>
    ...     <node id="1"><data key="d1">Chuxiong</data><data key="d2">25.03</data><data key="d3">101.54</data></node>
    ...     <edge source="0" target="1"><data key="d4">10000000000.0</data></edge>
    ...   </graph>
    ... </graphml>'''
    >>> plan = import_topologyzoo(graphml, "yunnan.graphml")
    >>> len(plan["nodes"]), plan["links"][0]
    (2, {'a': 'Kunming', 'b': 'Chuxiong', 'bandwidth': '10G', 'latency': '0.589ms'})
"""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any

from ..expand.links import UNKNOWN_BANDWIDTH
from ..units import MAX_BANDWIDTH
from .builder import DEFAULT_BANDWIDTH, DEFAULT_LATENCY, PlanBuilder, number_text
from .geo import fibre_delay, great_circle_m, is_lat_lon
from .graphml import GraphmlGraph, GraphmlNode, read_graphml
from .naming import clean_name, unique_names
from .options import ImporterError, ImportOptions

CITATION = ('Licence CC BY 4.0; cite S. Knight, H. X. Nguyen, N. Falkner, R. Bowden, M. Roughan, '
            '"The Internet Topology Zoo", IEEE JSAC 29(9), 2011.')


def import_topologyzoo(data: bytes, file: str, name: str | None = None,
                       options: ImportOptions | None = None) -> dict[str, Any]:
    """The plan (a dict in the plan format) for Topology Zoo GraphML ``data``; raises PlanError or ImporterError."""
    options = options or ImportOptions()
    _check_options(options)
    graph = read_graphml(data, file)
    filename = PurePath(file).name
    builder = PlanBuilder(name or _network_name(graph, filename), _text(graph.data.get("Network")),
                          _description(graph, filename))
    names, coords = _add_nodes(builder, graph.nodes)
    unsized = options.size == "none"
    stats = _add_links(builder, graph, names, coords, unsized)
    _note(builder, graph, filename, names, coords, stats, unsized)
    builder.choose_cost_model(options.cost, len(stats["no_speed"]) + len(stats["bad_speed"]) if unsized else 0)
    return builder.to_dict()


def _check_options(options: ImportOptions) -> None:
    if options.unit is not None:
        raise ImporterError("--unit is for SNDlib files without a META unit; a Topology Zoo file's LinkSpeedRaw is "
                            "in bit/s")
    if options.size not in (None, "none") or options.headroom is not None:
        what = f"--size {options.size}" if options.size not in (None, "none") else "--headroom"
        raise ImporterError(f"{what} needs the modules and demands of an SNDlib file; a Topology Zoo "
                            f"file has neither: links without LinkSpeedRaw take {DEFAULT_BANDWIDTH}, or stay unsized "
                            "with --size none")
    if options.cost == "file":
        raise ImporterError("--cost file takes the routing costs of an SNDlib file; a Topology Zoo file has none: "
                            "use --cost hop or --cost bandwidth")


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _network_name(graph: GraphmlGraph, filename: str) -> str:
    for candidate in (graph.data.get("label"), graph.data.get("Network"), PurePath(filename).stem):
        name = clean_name(str(candidate)) if candidate is not None else ""
        if name:
            return name
    return "imported network"


def _description(graph: GraphmlGraph, filename: str) -> str:
    if "Network" not in graph.data:  # not from the Zoo: plain GraphML in the Zoo's vocabulary
        return f"Imported from the GraphML file {filename}."
    parts = [f"Imported from the Internet Topology Zoo file {filename}."]
    source = _text(graph.data.get("Source"))
    if source:
        parts.append(f"Source: {source}.")
    parts.append(CITATION)
    return " ".join(parts)


def _coordinates(node: GraphmlNode) -> tuple[float, float] | None:
    lat, lon = _number(node.data.get("Latitude")), _number(node.data.get("Longitude"))
    if lat is None or lon is None or not is_lat_lon(lat, lon):
        return None
    return lat, lon


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _add_nodes(builder: PlanBuilder, nodes: list[GraphmlNode]) -> tuple[dict[str, str], dict[str, tuple[float, float]]]:
    """Add every PoP; returns the plan name and the coordinates of each GraphML node id."""
    labels = [(n.id, _text(n.data.get("label")) or "") for n in nodes]
    names: dict[str, str] = {}
    coords: dict[str, tuple[float, float]] = {}
    for node, (_, label), name in zip(nodes, labels, unique_names(labels)):
        names[node.id] = name
        where = _coordinates(node)
        tags = []
        if where is not None:
            coords[node.id] = where
            tags += [f"lat={number_text(where[0])}", f"lon={number_text(where[1])}"]
        if node.data.get("Internal") == 0:
            tags.append("external")
        title = label if label and label != name else None
        builder.add_node(name, site=builder.site_for(_text(node.data.get("Country"))), title=title, tags=tags)
    return names, coords


def _add_links(builder: PlanBuilder, graph: GraphmlGraph, names: dict[str, str],
               coords: dict[str, tuple[float, float]], unsized: bool = False) -> dict[str, list[int]]:
    """Add every edge but self-loops; returns the lines of edges by what the import did with them."""
    stats: dict[str, list[int]] = {"self_loop": [], "no_speed": [], "bad_speed": [], "no_coords": [], "links": []}
    for edge in graph.edges:
        if edge.source == edge.target:
            stats["self_loop"].append(edge.mark.line)
            continue
        speed = _number(edge.data.get("LinkSpeedRaw"))
        if speed is None:
            stats["no_speed"].append(edge.mark.line)
        elif not 0 < speed <= MAX_BANDWIDTH:
            stats["bad_speed"].append(edge.mark.line)
            speed = None
        latency = None
        if edge.source in coords and edge.target in coords:
            latency = fibre_delay(great_circle_m(*coords[edge.source], *coords[edge.target]))
        else:
            stats["no_coords"].append(edge.mark.line)
        bandwidth: float | str | None = UNKNOWN_BANDWIDTH if speed is None and unsized else speed
        builder.add_link(names[edge.source], names[edge.target], bandwidth=bandwidth, latency=latency)
        stats["links"].append(edge.mark.line)
    return stats


def _note(builder: PlanBuilder, graph: GraphmlGraph, filename: str, names: dict[str, str],
          coords: dict[str, tuple[float, float]], stats: dict[str, list[int]], unsized: bool = False) -> None:
    links = len(stats["links"])
    builder.note(f"Imported from the Internet Topology Zoo file {filename}: {len(names)} PoPs and {links} links; "
                 "every PoP is a router in one extranet domain, every link leased fibre.")
    if any(n.data.get("Country") for n in graph.nodes):
        builder.note("Sites: one prefecture site per Country attribute below a province site for the whole network; "
                     "PoPs without a Country sit at the province site.")
    renamed = sum(1 for n in graph.nodes if (_text(n.data.get("label")) or "") != names[n.id])
    if renamed:
        builder.note(f"{renamed} PoPs with an empty, repeated or unusable label are named 'label (GraphML id)' "
                     "or 'node <id>'; the original label is kept as the node's title.")
    if coords:
        builder.note("Coordinates are kept as node tags lat=... and lon=... (the plan format has no coordinate "
                     "field); link latency is the great-circle distance between them at 2e8 m/s (light in fibre).")
    if any(n.data.get("Internal") == 0 for n in graph.nodes):
        builder.note("The tag 'external' marks PoPs the source lists as not internal (Internal = 0).")
    fate = (("they are left unsized (--size none), marked bandwidth: unknown, so the capacity rules are not "
             "applicable (never passed) until they are given bandwidths") if unsized else
            f"they take the default bandwidth {DEFAULT_BANDWIDTH} (--size none would leave them unsized)")
    _note_lines(builder, stats["no_speed"], links, f"give no LinkSpeedRaw; {fate}")
    _note_lines(builder, stats["bad_speed"], links, f"give a LinkSpeedRaw outside (0, 10T] bits/s; {fate}")
    _note_lines(builder, stats["no_coords"], links,
                f"end at a PoP without coordinates; they take the default latency {DEFAULT_LATENCY}")
    if stats["self_loop"]:
        lines = ", ".join(map(str, stats["self_loop"]))
        builder.note(f"{len(stats['self_loop'])} self-loop edges (a PoP linked to itself) were dropped: lines {lines}.")
    if graph.directed:
        builder.note("The GraphML graph is directed; every edge becomes one link, which carries both directions.")


def _note_lines(builder: PlanBuilder, lines: list[int], total: int, what: str) -> None:
    if lines:
        builder.note(f"{len(lines)} of {total} links {what}.")
