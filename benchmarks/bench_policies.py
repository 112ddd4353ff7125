"""Policy checks on the Yunnan plan.

Physical isolation of every pair of domains against scipy's
``connected_components`` on the same physical graph, measured in the same
run; and every built-in pack on the whole plan (target: under 15 s).

    pytest benchmarks/bench_policies.py --benchmark-enable     (pytest-benchmark)
    python -m benchmarks.bench_policies                         (prints the figures and the ratio)

Both sides start from the same sparse matrix: the array view of the physical
graph (node index, link endpoints, CSR matrix) that the policies cache on the
immutable network, as :mod:`topology.graphs` caches its networkx views. The
check then computes the components itself (with the one-way gateways cut out),
decides every pair of domains and finds the shortest offending path of every
failing pair, in a fresh context each round. Building the view is reported
separately, next to the cost of building the same matrix for scipy.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from policies.connectivity import physical_index
from policies.engine import check_network
from policies.loader import pack_names, resolve_policies, rules_of
from policies.model import PolicyRule
from policies.physical_isolation import evaluate as physical_isolation
from policies.registry import Context
from topology import load_plan

from .common import YUNNAN, best_of

pytestmark = pytest.mark.skipif(not YUNNAN.exists(), reason="scenarios/yunnan/plan.yaml is missing")
EVERY_PAIR = PolicyRule(id="BENCH-PI", kind="physical_isolation", params={"domains": ["*"]})
PACKS = ("egov-baseline", "classified", "djbh-l3")


def _net():
    net = load_plan(YUNNAN)
    physical_index(net)  # the cached array view both sides start from
    return net


def _scipy_matrix(net) -> csr_matrix:
    """The physical graph as scipy takes it, built from the network (the baseline's own construction)."""
    index = {n: i for i, n in enumerate(net.nodes)}
    a = np.fromiter((index[l.a] for l in net.links.values()), dtype=np.int64, count=len(net.links))
    b = np.fromiter((index[l.b] for l in net.links.values()), dtype=np.int64, count=len(net.links))
    return csr_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(len(index), len(index)))


def _isolation(net):
    return physical_isolation(net, EVERY_PAIR, Context())


def _all_packs(net, rules):
    return check_network(net, rules)


def test_physical_isolation_every_pair_yunnan(benchmark):
    net = _net()
    result = benchmark(_isolation, net)
    assert result.status in ("pass", "fail")


def test_scipy_connected_components_yunnan(benchmark):
    matrix = physical_index(_net()).matrix
    benchmark(connected_components, matrix, directed=False)


def test_all_packs_yunnan(benchmark):
    net = _net()
    rules = rules_of(resolve_policies(list(PACKS)))
    results = benchmark.pedantic(_all_packs, args=(net, rules), rounds=1, iterations=1)
    assert len(results) == len(rules)


def main() -> None:
    net = _net()
    pi = physical_index(net)
    domains = len(net.domains)
    print(f"yunnan: {len(net.nodes)} nodes, {len(net.links)} links, {domains} domains "
          f"({domains * (domains - 1) // 2} pairs); packs: {', '.join(pack_names())}")

    scipy_cc = best_of(lambda: connected_components(pi.matrix, directed=False), 50)
    check = best_of(lambda: _isolation(net), 50)
    result = _isolation(net)
    print(f"physical isolation, every pair of domains: {check * 1e3:.2f} ms ({result.status}: {result.message[:90]})")
    print(f"scipy connected_components on the same graph: {scipy_cc * 1e3:.3f} ms")
    print(f"ratio: {check / scipy_cc:.2f}x (target within 5x)")

    def cold() -> None:
        net._cache.pop("policies.physical_index", None)
        _isolation(net)

    cold_check = best_of(cold, 10)
    scipy_build = best_of(lambda: connected_components(_scipy_matrix(net), directed=False), 10)
    print(f"including building the graph: check {cold_check * 1e3:.2f} ms, scipy {scipy_build * 1e3:.2f} ms, "
          f"ratio {cold_check / scipy_build:.2f}x")

    rules = rules_of(resolve_policies(list(PACKS)))
    start = time.perf_counter()
    fresh = load_plan(YUNNAN)
    loaded = time.perf_counter()
    results = check_network(fresh, rules)
    done = time.perf_counter()
    failed = [r.rule.id for r in results if r.failed_]
    print(f"all built-in packs ({len(rules)} rules) on the Yunnan plan: {done - loaded:.2f} s "
          f"(+ {loaded - start:.2f} s to load the plan; target under 15 s); failed: {', '.join(failed) or 'none'}")


if __name__ == "__main__":
    main()
