"""``topology.diff``: planted edits give exactly their change, nothing else; a plan against itself gives nothing."""

from __future__ import annotations

import pytest

from tests.helpers import SCENARIOS, shipped_plans
from topology import load_plan
from topology.diff import model_changes
from topology.loader import load_text

BASE = """
name: d
domains: {外网: {kind: extranet}}
sites: {州: {level: prefecture}}
defaults: {node: {domain: 外网, site: 州, role: core_router}}
nodes:
  a: {routes: [{prefix: 10.200.0.0/16, via: b}]}
  b: {interfaces: {x: {acl_in: f}}}
  c: {role: server}
links: [{a: a, b: b}, {a: "b:x", b: c}]
acls: {f: [{action: permit, proto: tcp, dport: 22}, {action: permit, proto: tcp, dport: 80}, {action: deny}]}
services: {web: {kind: data, rate: 1M, protocol: tcp, port: 80}}
traffic: [{service: web, from: a, to: c}]
"""


def _texts(old: str, new: str) -> list[str]:
    return [c.text() for c in model_changes(load_text(old), load_text(new))]


@pytest.mark.parametrize("plan", sorted(p.relative_to(SCENARIOS).as_posix() for p in shipped_plans()))
def test_a_plan_against_itself_changes_nothing(plan: str) -> None:
    assert model_changes(load_plan(SCENARIOS / plan), load_plan(SCENARIOS / plan)) == []


def test_one_inserted_rule_is_that_rule_only() -> None:
    new = BASE.replace("{action: permit, proto: tcp, dport: 80}",
                       "{action: permit, proto: tcp, dport: 443}, {action: permit, proto: tcp, dport: 80}")
    assert _texts(BASE, new) == ["ACL f#2 added (permit tcp 0.0.0.0/0 -> 0.0.0.0/0 dport 443)"]


def test_a_removed_rule_points_at_its_line_in_old() -> None:
    new = BASE.replace("{action: permit, proto: tcp, dport: 22}, ", "")
    changes = model_changes(load_text(BASE), load_text(new))
    assert [c.text() for c in changes] == ["ACL f#1 removed (permit tcp 0.0.0.0/0 -> 0.0.0.0/0 dport 22)"]
    assert changes[0].mark.line == BASE.splitlines().index(
        next(line for line in BASE.splitlines() if line.startswith("acls:"))) + 1


def test_routes_traffic_and_services_are_their_own_sections() -> None:
    new = (BASE.replace("via: b}", "via: b}, {prefix: 10.201.0.0/16, via: b}")
           .replace("rate: 1M", "rate: 2M").replace("{service: web, from: a, to: c}",
                                                  "{service: web, from: a, to: c}, {service: web, from: b, to: c}"))
    assert _texts(BASE, new) == [
        "route a 10.201.0.0/16 added (via b)",
        "service web changed: rate: 1M → 2M",
        "flow web a -> c changed: rate: 1M → 2M",
        "flow web b -> c added (2M)",
    ]


def test_a_removed_node_is_reported_with_what_it_was() -> None:
    new = BASE.replace("  c: {role: server}\n", "").replace(', {a: "b:x", b: c}', "").replace(
        "traffic: [{service: web, from: a, to: c}]", "")
    texts = _texts(BASE, new)
    assert "node c removed (server in 外网 at 州)" in texts
    assert "link b--c removed (b ⇄ c, 1G)" in texts
    assert "flow web a -> c removed (1M)" in texts
