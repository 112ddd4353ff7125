"""Loading the Yunnan plan, and building its graph views against networkx's own construction.

pytest benchmarks/bench_topology.py --benchmark-enable      (pytest-benchmark)
python -m benchmarks.bench_topology                          (prints the figures and the ratio)
"""

from __future__ import annotations

import networkx as nx
import pytest

from topology import load_plan
from topology.graphs import physical_graph

from .common import YUNNAN, best_of

pytestmark = pytest.mark.skipif(not YUNNAN.exists(), reason="scenarios/yunnan/plan.yaml is missing")


def _fresh_views(net) -> None:
    net._cache.clear()
    physical_graph(net)


def _networkx_baseline(nodes: list, edges: list) -> nx.MultiGraph:
    graph = nx.MultiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    return graph


def _baseline_input(net):
    nodes = [(n.name, {"role": n.role, "domain": n.domain, "site": n.site}) for n in net.nodes.values()]
    edges = [(l.a, l.b, l.name, {"bandwidth": l.bandwidth, "latency": l.latency, "medium": l.medium, "cost": l.cost})
             for l in net.links.values()]
    return nodes, edges


def test_load_yunnan(benchmark):
    net = benchmark(load_plan, YUNNAN)
    assert len(net.nodes) > 1000


def test_physical_graph_yunnan(benchmark):
    net = load_plan(YUNNAN)
    benchmark(_fresh_views, net)


def test_networkx_baseline_yunnan(benchmark):
    nodes, edges = _baseline_input(load_plan(YUNNAN))
    benchmark(_networkx_baseline, nodes, edges)


def main() -> None:
    load = best_of(lambda: load_plan(YUNNAN), 3)
    net = load_plan(YUNNAN)
    views = best_of(lambda: _fresh_views(net))
    nodes, edges = _baseline_input(net)
    baseline = best_of(lambda: _networkx_baseline(nodes, edges))
    print(f"yunnan: {len(net.nodes)} nodes, {len(net.links)} links, {len(net.sites)} sites")
    print(f"load+validate+expand: {load:.3f} s (target < 2 s)")
    print(f"physical graph view: {views * 1000:.1f} ms; networkx construction of the same: {baseline * 1000:.1f} ms; "
          f"ratio {views / baseline:.2f}x")


if __name__ == "__main__":
    main()
