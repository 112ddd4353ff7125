"""The address plan's shared addresses (topology.addressing.shared_addresses)."""

from __future__ import annotations

from tests.helpers import write_plan
from topology import load_plan
from topology.addressing import shared_addresses
from topology.diff import differing_nodes

PLAN = """\
name: shared
domains: {外网: {kind: extranet, pool: 10.8.0.0/16}}
sites: {州: {level: prefecture}}
defaults: {node: {domain: 外网, site: 州, role: router}}
nodes: {a: {}, b: {}, c: {role: host}}
links: [a -- b, c -- b]
"""


def test_a_plan_loaded_twice_while_shared_gets_the_same_address_objects(tmp_path):
    plan = write_plan(tmp_path, PLAN)
    with shared_addresses():
        first = load_plan(plan)
        second = load_plan(plan)
    pairs = [(a, b) for name, node in first.nodes.items() for a, b in zip(node.addresses, second.nodes[name].addresses)]
    assert len(pairs) == 3 + 4 and all(a is b for a, b in pairs)  # three loopbacks, four link ends
    assert differing_nodes(first, second) == []
    third = load_plan(plan)  # outside: fresh objects of equal value
    assert all(a == b and a is not b for a, b in zip(first.nodes["a"].addresses, third.nodes["a"].addresses))
    assert first.nodes == third.nodes
