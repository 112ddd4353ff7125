"""The part of a plan a lab builds: the plan, cut to a phase and to the selected nodes.

``--select`` names nodes with govnet's node selectors (:mod:`topology.selectors`) (a county is
``site:双柏县``, a boundary ``name:*防火墙,...``); the lab's network keeps those
nodes, the links between them and the tunnels and flows whose ends are both
kept, exactly as :meth:`topology.model.Network.at_phase` cuts a phase. Both
the lab and the simulator it is compared with work on this one network, so
a county brought up alone is compared with the simulator's view of that
county alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from topology import Network, load_plan
from topology.errors import SelectorError
from topology.model import freeze
from topology.selectors import select_nodes


def select_network(net: Network, selectors: Sequence[str]) -> Network:
    """``net`` with only the nodes that some selector names (all of them when there is none)."""
    if not selectors:
        return net
    keep: set[str] = set()
    for selector in selectors:
        keep.update(select_nodes(net, selector))
    if not keep:
        raise SelectorError(f"no node matches {', '.join(selectors)}")
    links = {k: l for k, l in net.links.items() if l.a in keep and l.b in keep}
    nodes = {}
    for name, node in net.nodes.items():
        if name not in keep:
            continue
        if all(i.link is None or i.link in links for i in node.interfaces.values()):
            nodes[name] = node
        else:
            nodes[name] = replace(node, interfaces=freeze(
                {k: i for k, i in node.interfaces.items() if i.link is None or i.link in links}))
    return net.derive(
        nodes=freeze(nodes),
        links=freeze(links),
        tunnels=freeze({k: t for k, t in net.tunnels.items() if t.a in keep and t.b in keep}),
        flows=tuple(f for f in net.flows if f.src in keep and f.dst in keep),
    )


def lab_network(plan: str | Path, phase: str | None = None, selectors: Sequence[str] = ()) -> Network:
    """Load ``plan``, cut it to ``phase`` (a phase name) and to ``selectors``."""
    net = load_plan(plan)
    if phase is not None:
        names = [p.name for p in net.phases]
        if phase not in names:
            raise SelectorError(f"the plan has no phase '{phase}' (phases: {', '.join(names) or 'none'})")
        net = net.at_phase(phase)
    return select_network(net, selectors)
