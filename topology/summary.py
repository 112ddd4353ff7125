"""A plain-data summary of an expanded network (what ``govnet show`` prints)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .model import Network
from .units import format_bandwidth
from .vocabulary import LEVELS


def summarize(net: Network) -> dict[str, Any]:
    """Counts per domain, level and phase, and every node and link as plain data."""
    domain_counts = Counter(n.domain for n in net.nodes.values())
    level_counts = Counter(s.level for s in net.sites.values())
    return {
        "name": net.name,
        "title": net.title,
        "nodes": len(net.nodes),
        "links": len(net.links),
        "tunnels": len(net.tunnels),
        "flows": len(net.flows),
        "domains": {d: domain_counts.get(d, 0) for d in net.domains},
        "levels": {level: level_counts.get(level, 0) for level in LEVELS},
        "phases": [
            {"name": p.name, "title": p.title, "start": p.start, "end": p.end,
             "nodes": sum(1 for n in net.nodes.values() if n.phase == p.index),
             "links": sum(1 for l in net.links.values() if l.phase == p.index)}
            for p in net.phases
        ],
        "roles": dict(sorted(Counter(n.role for n in net.nodes.values()).items())),
        "node_list": [
            {
                "name": n.name, "role": n.role, "domain": n.domain,
                "domain_kind": net.domains[n.domain].kind if n.domain in net.domains else None,
                "site": n.site, "level": net.sites[n.site].level if n.site in net.sites else None,
                "phase": net.phases[n.phase].name,
                "addresses": [str(a) for a in n.addresses],
            }
            for n in net.nodes.values()
        ],
        "link_list": [
            {"name": l.name, "a": l.a, "b": l.b, "bandwidth_bps": l.bandwidth if l.sized else None,
             "latency_s": l.latency,
             "medium": l.medium, "shared": l.shared, "phase": net.phases[l.phase].name,
             "subnet": str(l.subnet) if l.subnet else None}
            for l in net.links.values()
        ],
    }


def summary_text(net: Network, data: dict[str, Any]) -> str:
    lines = [f"{net.name}" + (f"  ({net.title})" if net.title else ""),
             f"  {data['nodes']} nodes, {data['links']} links, {data['tunnels']} tunnels, {data['flows']} flows"]
    lines.append("domains:")
    for name, count in data["domains"].items():
        d = net.domains[name]
        lines.append(f"  {name:<16} {d.kind:<14} {d.clearance_label:<4} {'trusted' if d.trusted else 'untrusted':<9} "
                     f"{d.pool!s:<18} {count} nodes")
    lines.append("levels:")
    lines.extend(f"  {level:<11} {count} sites" for level, count in data["levels"].items() if count)
    lines.append("phases:")
    for p in data["phases"]:
        span = f"{p['start'] or '?'} .. {p['end'] or '?'}"
        lines.append(f"  {p['name']:<8} {span:<18} +{p['nodes']} nodes, +{p['links']} links")
    lines.append("roles:")
    lines.extend(f"  {role:<16} {count}" for role, count in data["roles"].items())
    sized = [l for l in net.links.values() if l.sized]
    total = sum(l.bandwidth for l in sized)
    unsized = len(net.links) - len(sized)
    lines.append(f"installed capacity: {format_bandwidth(total)}b/s over {len(sized)} links"
                 + (f"; {unsized} links unsized (bandwidth: unknown)" if unsized else ""))
    return "\n".join(lines) + "\n"
