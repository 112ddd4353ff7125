"""Building evidence items: paths, links and nodes, with the plan lines they blame and the nodes they are about.

The *subjects* of an item (:attr:`policies.model.Evidence.subjects`) are the
nodes a finding is about, so that a waiver scoped to some nodes covers it:
for a path, the ends of the links where the network changes (or every node
of the path when it never changes network); for a link, its two ends; for a
node, the node.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from topology.errors import Mark
from topology.model import Link, Network

from .model import Evidence


def render_path(net: Network, path: list[str]) -> str:
    """``a [内网] — b — c [外网]``: node names, the network named where it changes."""
    parts = []
    previous = None
    for name in path:
        node = net.nodes[name]
        if node.domain != previous:
            parts.append(f"{name} [{net.domain_label(node.domain)}]")
        else:
            parts.append(name)
        previous = node.domain
    return " — ".join(parts)


def path_evidence(net: Network, path: list[str], summary: str, **data: Any) -> Evidence:
    """A path as evidence; the links where the network changes are blamed first."""
    from .connectivity import path_links  # here: connectivity brings numpy and scipy, which waivers' users need not

    links = path_links(net, path)
    crossing = [l for l in links if net.nodes[l.a].domain != net.nodes[l.b].domain]
    others = [l for l in links if l not in crossing]
    gateways = [n for n in path if net.nodes[n].role == "one_way_gateway"]
    marks: list[Mark] = [l.mark for l in crossing]
    marks += [net.nodes[n].mark for n in gateways]
    marks += [l.mark for l in others]
    subjects = [n for l in crossing for n in (l.a, l.b)] if crossing else list(path)
    return Evidence(
        kind="path",
        summary=summary,
        data={
            **data,
            "nodes": [{"name": n, "domain": net.nodes[n].domain, "role": net.nodes[n].role} for n in path],
            "links": [l.name for l in links],
            "crossings": [l.name for l in crossing],
        },
        marks=_unique(marks),
        subjects=tuple(dict.fromkeys(subjects)),
    )


def link_evidence(net: Network, link: Link, summary: str, **data: Any) -> Evidence:
    return Evidence(kind="link", summary=summary,
                    data={"link": link.name, "a": link.a, "b": link.b, "medium": link.medium, **data},
                    marks=(link.mark,), subjects=link_subjects(link))


def node_evidence(net: Network, name: str, summary: str, **data: Any) -> Evidence:
    node = net.nodes[name]
    return Evidence(kind="node", summary=summary,
                    data={"node": name, "domain": node.domain, "role": node.role, "site": node.site, **data},
                    marks=(node.mark,), subjects=(name,))


def link_subjects(link: Link) -> tuple[str, ...]:
    """The nodes a finding about ``link`` is about: its two ends."""
    return tuple(dict.fromkeys((link.a, link.b)))


def _unique(marks: list[Mark]) -> tuple[Mark, ...]:
    seen: list[Mark] = []
    for m in marks:
        if m not in seen:
            seen.append(m)
    return tuple(seen)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def cap_list(items: list[str], limit: int = 5) -> str:
    """``a, b, c and 7 more``."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def evidence_pcap(trace: Any, context: Any, stem: str) -> str | None:
    """Write ``trace`` as ``<pcap_dir>/<stem>.pcap`` when the run asked for pcaps; its path, else None."""
    if not getattr(context, "pcap_dir", None) or trace is None:
        return None
    from simulator.pcap import write_pcap

    folder = Path(context.pcap_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^\w.-]+", "_", stem) + ".pcap")
    write_pcap(trace, path)
    return str(path)


def rule_marks(net: Network, ref: Any) -> list[Mark]:
    """The plan lines of the rule that decided (a :class:`simulator.acl.RuleRef`): the ACL rule, the interface."""
    marks: list[Mark] = []
    if ref is None:
        return marks
    if ref.acl in net.acls:
        # a rule naming a node is expanded into one model rule per address, all with its index
        written = next((r for r in net.acls[ref.acl].rules if r.index == ref.index), None)
        if written is not None:
            marks.append(written.mark)
    if ref.node in net.nodes:
        iface = net.nodes[ref.node].interfaces.get(ref.interface or "")
        if iface is not None:
            marks.append(iface.mark)
    return marks


def trace_marks(net: Network, trace: Any) -> list[Mark]:
    """The plan lines a trace's last hop blames: the ACL rule that decided, the interface, the node."""
    last = trace.hops[-1]
    marks = rule_marks(net, last.rule)
    if last.node in net.nodes:
        marks.append(net.nodes[last.node].mark)
    return marks
