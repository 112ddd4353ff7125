"""Each failure with its evidence drawn: the offending path as a small map, the packet, the hops, the pcap, the line.

Definitions.

- A *finding* is one failed result of one rule, merged across the phases
  where it failed alike (same message and evidence); the report draws its
  first :data:`DRAWN` evidence items in full and lists the others.
- The *path* of an evidence item is the nodes it is about, in order: the
  ``nodes`` of a path, else the hops of its ``trace``, else the ends of its
  ``link``, else its ``node``. The *map* of a path (:func:`path_figure`) places
  only those nodes, left to right in rows of :data:`PER_ROW` (a snake), each
  coloured by its domain; links that join two domains are drawn thick, and the
  node where the packet was decided (denied, leaked in clear, delivered where
  it must not be) is ringed.
- The *hop table* is the evidence trace's hops with the rule that decided at
  each (ACL and rule number, its plan line) and the packet as it left.
- The *pcap* is the trace rebuilt from the evidence's packet with
  :func:`simulator.trace.trace` and written by :func:`simulator.pcap.pcap_bytes`
  (deterministic bytes), offered only when the rebuilt trace takes the same
  hops with the same decisions as the evidence.
"""

from __future__ import annotations

import base64
from itertools import pairwise
from typing import Any

from simulator.acl import RuleRef
from simulator.pcap import pcap_bytes
from simulator.trace import Trace, trace
from topology.draw import domain_colours
from topology.errors import GovnetError
from topology.model import Network

from ..engine import CheckRun
from ..evidence import rule_marks
from ..i18n import rule_text
from ..model import Evidence, RuleResult
from .source import SourceLines

DRAWN = 5           # evidence items of a finding drawn in full
LISTED = 40         # evidence items of a finding listed at most
PER_ROW = 6         # nodes per row of a path map
STEP_X, STEP_Y = 170, 110
MARGIN = 90         # room for half a label left and right of the outer nodes
LABEL_CHARS = 12    # a longer node name is cut (with …) in the map; its full name is the tooltip
TRACE_PROTOS = ("tcp", "udp", "icmp")


def findings(runs: list[CheckRun], views: dict[str | None, Network], lang: str, lines: SourceLines
             ) -> list[dict[str, Any]]:
    """Every failed result (not waived), merged across phases, with its evidence prepared for drawing."""
    merged: dict[tuple, dict[str, Any]] = {}
    for run in runs:
        net = views[run.phase]
        for result in run.results:
            if not result.failed_:
                continue
            key = (result.rule.id, result.message, tuple(e.summary for e in result.evidence))
            found = merged.get(key)
            if found is None:
                merged[key] = found = _finding(net, result, lang, lines)
            if run.phase is not None:
                found["phases"].append(run.phase)
    return sorted(merged.values(), key=lambda f: (-f["rank"], f["id"]))


def _finding(net: Network, result: RuleResult, lang: str, lines: SourceLines) -> dict[str, Any]:
    rule = result.rule
    items = list(result.evidence)
    return {
        "id": rule.id, "rank": rule.severity_rank(), "severity": rule.severity, "kind": rule.kind,
        "title": rule_text(rule, "title", lang) or rule.id, "description": rule_text(rule, "description", lang),
        "fix": rule_text(rule, "fix", lang), "clause": rule.clause, "message": result.message, "phases": [],
        "drawn": [evidence_view(net, ev, f"{rule.id}-{i + 1}", lines) for i, ev in enumerate(items[:DRAWN])],
        "listed": [{"summary": ev.summary, "sources": [lines.quote(m) for m in ev.marks[:1]]}
                   for ev in items[DRAWN:LISTED]],
        "more": max(0, len(items) - LISTED),
    }


def evidence_view(net: Network, ev: Evidence, stem: str, lines: SourceLines) -> dict[str, Any]:
    """One evidence item as the report shows it: summary, lines, path map, packet, hops and pcap."""
    data = ev.data
    recorded = data.get("trace") if isinstance(data.get("trace"), dict) else None
    path = evidence_path(net, data)
    view: dict[str, Any] = {
        "kind": ev.kind, "summary": ev.summary, "stem": stem,
        "sources": [lines.quote(m) for m in ev.marks[:3]],
        "figure": path_figure(net, path, _crossing_links(net, data, path), _decided_at(data, recorded)) if path else None,
        "space": data.get("class") or data.get("space") or _first_class(data),
        "packet": packet_text(data.get("packet")) if isinstance(data.get("packet"), dict) else "",
        "hops": hop_rows(net, recorded, lines) if recorded else [],
        "reason": recorded.get("reason", "") if recorded else "",
        "pcap": None,
    }
    if recorded:
        rebuilt = rebuild_trace(net, recorded, data.get("packet"))
        if rebuilt is not None:
            view["pcap"] = {"name": f"{stem}.pcap",
                            "href": "data:application/vnd.tcpdump.pcap;base64,"
                                    + base64.b64encode(pcap_bytes(rebuilt)).decode("ascii")}
    return view


def _first_class(data: dict[str, Any]) -> str:
    classes = data.get("classes")
    if isinstance(classes, list) and classes and isinstance(classes[0], dict):
        return str(classes[0].get("space", ""))
    return ""


def evidence_path(net: Network, data: dict[str, Any]) -> list[str]:
    """The nodes an evidence item is about, in order (see the module docstring)."""
    nodes = data.get("nodes")
    if isinstance(nodes, list) and nodes:
        names = [n["name"] if isinstance(n, dict) else str(n) for n in nodes]
    elif isinstance(data.get("trace"), dict):
        names = [h["node"] for h in data["trace"].get("hops", [])]
    elif isinstance(data.get("link"), str) and data["link"] in net.links:
        link = net.links[data["link"]]
        names = [link.a, link.b]
    elif isinstance(data.get("node"), str):
        names = [data["node"]]
    else:
        names = []
    out: list[str] = []
    for name in names:
        if name in net.nodes and (not out or out[-1] != name):
            out.append(name)
    return out


def _crossing_links(net: Network, data: dict[str, Any], path: list[str]) -> set[tuple[str, str]]:
    pairs = {tuple(sorted((u, v))) for u, v in pairwise(path) if net.nodes[u].domain != net.nodes[v].domain}
    hot = data.get("link")
    if isinstance(hot, str) and hot in net.links:
        pairs.add(tuple(sorted((net.links[hot].a, net.links[hot].b))))
    return pairs  # type: ignore[return-value]


def _decided_at(data: dict[str, Any], recorded: dict[str, Any] | None) -> str | None:
    """The node where the packet was decided: the clear hop, else the trace's last hop."""
    if isinstance(data.get("node"), str):
        return data["node"]
    if recorded and recorded.get("hops"):
        return recorded["hops"][-1]["node"]
    return None


def path_figure(net: Network, path: list[str], crossing: set[tuple[str, str]], decided: str | None
                ) -> dict[str, Any]:
    """A small map of ``path`` only: positions, colours, the links, the legend (drawn by ``path.svg.j2``).

    >>> from topology.model import Domain, Network, Node
    >>> from types import MappingProxyType as M
    >>> d = {"a": Domain("a", "extranet", None, 0, True, None)}
    >>> net = Network("p", None, "p.yaml", M(d), M({}), M({n: Node(n, "router", "a", "s", 0, M({}))
    ...               for n in "xyz"}), M({}), M({}), M({}), M({}), M({}), (), ())
    >>> fig = path_figure(net, ["x", "y", "z"], set(), "z")
    >>> [(n["name"], n["x"], n["decided"]) for n in fig["nodes"]]
    [('x', 90, False), ('y', 260, False), ('z', 430, True)]
    """
    colours = domain_colours(net)
    nodes: list[dict[str, Any]] = []
    for i, name in enumerate(path):
        row, col = divmod(i, PER_ROW)
        if row % 2:
            col = PER_ROW - 1 - col  # snake: every other row runs back
        node = net.nodes[name]
        label = name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"
        nodes.append({"name": name, "label": label, "role": node.role, "domain": node.domain, "x": MARGIN + col * STEP_X,
                      "y": MARGIN + row * STEP_Y, "colour": colours.get(node.domain, "#555555"),
                      "decided": name == decided})
    edges = []
    for a, b in pairwise(nodes):
        key = (min(a["name"], b["name"]), max(a["name"], b["name"]))
        edges.append({"x1": a["x"], "y1": a["y"], "x2": b["x"], "y2": b["y"], "cross": key in crossing})
    rows = (len(path) + PER_ROW - 1) // PER_ROW
    width = MARGIN * 2 + (min(len(path), PER_ROW) - 1) * STEP_X
    domains = list(dict.fromkeys(str(n["domain"]) for n in nodes))
    return {"nodes": nodes, "edges": edges, "width": max(width, 2 * MARGIN + STEP_X),
            "height": MARGIN + (rows - 1) * STEP_Y + 70,
            "legend": [{"domain": d, "colour": colours.get(d, "#555555")} for d in domains]}


def packet_text(packet: dict[str, Any] | None) -> str:
    """``tcp 10.0.0.1:40000 → 10.0.0.2:443``, with the tunnel and inner packet of an encapsulated one."""
    if not packet:
        return ""
    proto = packet.get("proto", "ip")
    src, dst = packet.get("src", "?"), packet.get("dst", "?")
    if proto in ("tcp", "udp") and "sport" in packet:
        text = f"{proto} {src}:{packet['sport']} → {dst}:{packet['dport']}"
    elif proto == "icmp":
        text = f"icmp {src} → {dst} type {packet.get('icmp_type', packet.get('dport', 8))}"
    else:
        text = f"{proto} {src} → {dst}"
    if packet.get("tunnel"):
        text += f" [{packet['tunnel']}]"
    if isinstance(packet.get("inner"), dict):
        text += f" ({packet_text(packet['inner'])})"
    return text


def hop_rows(net: Network, recorded: dict[str, Any], lines: SourceLines) -> list[dict[str, Any]]:
    """The hops of a trace (its JSON form) with the rule that decided and its plan line."""
    rows = []
    for i, hop in enumerate(recorded.get("hops", []), 1):
        rule = hop.get("rule")
        ref = None
        source = None
        if isinstance(rule, dict):
            ref = RuleRef(rule["acl"], rule["index"], rule["action"], rule["node"], rule.get("interface"),
                          rule.get("direction", "in"))
            marks = rule_marks(net, ref)
            source = lines.quote(marks[0]) if marks else None
        rows.append({"n": i, "node": hop["node"], "in": hop.get("in") or "-", "out": hop.get("out") or "-",
                     "decision": hop["decision"], "rule": f"{ref.acl} #{ref.index} {ref.action}" if ref else "",
                     "rule_source": source, "detail": hop.get("detail", ""),
                     "packet": packet_text(hop.get("packet"))})
    return rows


def rebuild_trace(net: Network, recorded: dict[str, Any], packet: Any) -> Trace | None:
    """The trace of the evidence's packet, walked again, when it takes the recorded hops with their decisions."""
    hops = recorded.get("hops") or []
    if not hops or recorded.get("src") not in net.nodes:
        return None
    candidates = [p for p in (packet, _innermost(hops[0].get("packet"))) if isinstance(p, dict)]
    wanted = [(h["node"], h["decision"]) for h in hops]
    for p in candidates:
        proto = p.get("proto")
        if proto not in TRACE_PROTOS or "src" not in p or "dst" not in p:
            continue
        try:
            walked = trace(net, recorded["src"], p["dst"], proto, int(p.get("sport", 0) or 0),
                           int(p.get("dport", 0) or 0), src_ip=p["src"], icmp_type=int(p.get("icmp_type", 8)))
        except (GovnetError, ValueError):
            continue
        if [(h.node, h.decision) for h in walked.hops] == wanted:
            return walked
    return None


def _innermost(packet: Any) -> Any:
    while isinstance(packet, dict) and isinstance(packet.get("inner"), dict):
        packet = packet["inner"]
    return packet
