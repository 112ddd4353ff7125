"""Graph views of a network (networkx).

- :func:`physical_graph`: every node and every link, whatever its domain: the
  graph on which physical isolation is decided. A ``MultiGraph`` keyed by link
  name, so parallel links stay distinct.
- :func:`domain_graph`: the nodes of one domain and the links between them.
- :func:`hierarchy_tree`: the administrative sites as a tree (``DiGraph``,
  parent → child).

Views are cached on the network (it is immutable) and returned frozen.

    >>> g = physical_graph(net)      # the Chuxiong plan
    >>> g.edges["云南省外网核心", "楚雄州外网核心", "楚雄州外网核心--云南省外网核心"]["bandwidth"]
    155000000.0
"""

from __future__ import annotations

import networkx as nx

from .model import Network


def physical_graph(net: Network) -> nx.MultiGraph:
    """Every node and link; node attributes role/domain/site, edge attributes from the link."""
    return net.cached(_build_physical)


def _build_physical(net: Network) -> nx.MultiGraph:
    graph = nx.MultiGraph(name=net.name)
    graph.add_nodes_from((n.name, {"role": n.role, "domain": n.domain, "site": n.site}) for n in net.nodes.values())
    graph.add_edges_from(
        (l.a, l.b, l.name, {"bandwidth": l.bandwidth, "latency": l.latency, "medium": l.medium, "cost": l.cost})
        for l in net.links.values()
    )
    return nx.freeze(graph)


def domain_graph(net: Network, domain: str) -> nx.MultiGraph:
    """Nodes of ``domain`` and the links joining two of them."""
    return net.cached(_build_domain, domain)


def _build_domain(net: Network, domain: str) -> nx.MultiGraph:
    members = [n.name for n in net.nodes.values() if n.domain == domain]
    return nx.freeze(physical_graph(net).subgraph(members).copy())


def hierarchy_tree(net: Network) -> nx.DiGraph:
    """Sites as a tree from the top level down; node attributes level and title."""
    return net.cached(_build_hierarchy)


def _build_hierarchy(net: Network) -> nx.DiGraph:
    tree = nx.DiGraph(name=net.name)
    tree.add_nodes_from((s.name, {"level": s.level, "title": s.title}) for s in net.sites.values())
    tree.add_edges_from((s.parent, s.name) for s in net.sites.values() if s.parent)
    return nx.freeze(tree)
