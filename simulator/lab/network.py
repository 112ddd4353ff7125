"""The part of a plan a lab builds: the plan, cut to a phase and to the selected nodes.

``--select`` names nodes with govnet's node selectors (:mod:`topology.selectors`) (a county is
``site:双柏县``, a boundary ``name:*防火墙,...``); the lab's network keeps those
nodes, the links between them and the tunnels and flows whose ends are both
kept (:meth:`topology.model.Network.cut`, as a phase is cut), and the waivers
whose scope still selects one of its nodes. Both
the lab and the simulator it is compared with work on this one network, so
a county brought up alone is compared with the simulator's view of that
county alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from topology import Network, load_plan
from topology.errors import SelectorError
from topology.selectors import select_nodes
from topology.vocabulary import EVERY_NODE


def select_network(net: Network, selectors: Sequence[str]) -> Network:
    """``net`` with only the nodes that some selector names (all of them when there is none)."""
    if not selectors:
        return net
    keep: set[str] = set()
    for selector in selectors:
        keep.update(select_nodes(net, selector))
    if not keep:
        raise SelectorError(f"no node matches {', '.join(selectors)}")
    part = net.cut(keep)
    return part.derive(waivers=tuple(w for w in net.waivers if _scope_kept(part, w.scope)))


def _scope_kept(part: Network, scope: str) -> bool:
    """Whether a waiver's scope still selects a node of the part (a part carries the waivers of its nodes)."""
    if scope.strip() == EVERY_NODE:
        return True
    try:
        return bool(select_nodes(part, scope))
    except SelectorError:
        return False


def lab_network(plan: str | Path, phase: str | None = None, selectors: Sequence[str] = ()) -> Network:
    """Load ``plan``, cut it to ``phase`` (a phase name) and to ``selectors``."""
    net = load_plan(plan)
    if phase is not None:
        names = [p.name for p in net.phases]
        if phase not in names:
            raise SelectorError(f"the plan has no phase '{phase}' (phases: {', '.join(names) or 'none'})")
        net = net.at_phase(phase)
    return select_network(net, selectors)
