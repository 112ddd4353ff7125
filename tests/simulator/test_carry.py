"""Carrying derived state to an edited version (simulator.carry) changes the work, never the answer.

On generated networks of routers, firewalls and hosts (tests/simulator/oracle.py), an edit that changes only
what filters (an ACL's rules, an ACL put on or taken off an interface, a default action) is made to the plan;
every reachability query, round trip and demand path asked of the edited version on what was carried must be
what a fresh load of the edited plan answers, and a failure sweep too. Every clean suffix is kept (``SHARED_WORK`` = 1), so walks are
carried wherever they can be.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_network

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simulator import reach as reach_module
from simulator.carry import carry_over, changed_nodes, keep_for_later, same_routing
from simulator.failures import CaseMemo, FailureAnalysis
from simulator.load import base_assignment
from simulator.reach import reach, reach_answer
from simulator.routing import RoutingState
from simulator.sweep import run_sweep
from simulator.trace import round_trips
from tests.helpers import scenario_plan, write_plan
from topology import load_plan
from topology.model import Acl, Rule

from .oracle import abstract_rule, networks, plan_text
from .test_reach_shared import answer_key


@pytest.fixture
def every_suffix(monkeypatch):
    monkeypatch.setattr(reach_module, "SHARED_WORK", 1)


@st.composite
def edited(draw):
    """A generated network and the same network with one or two edits of what filters."""
    spec = draw(networks())
    n, edges, hosts, kinds, acls, _, _ = spec
    interfaces = [(r, f"r{o}") for (a, b) in edges for r, o in ((a, b), (b, a))]
    interfaces += [(r, f"h{j}") for j, r in enumerate(hosts)]
    new_acls, new_kinds = dict(acls), list(kinds)
    for _ in range(draw(st.integers(1, 2))):
        what = draw(st.sampled_from(["rules", "bind", "unbind", "default"]))
        if what == "rules" and new_acls:
            key = draw(st.sampled_from(sorted(new_acls)))
            new_acls[key] = draw(st.lists(abstract_rule(), min_size=1, max_size=4))
        elif what == "unbind" and new_acls:
            del new_acls[draw(st.sampled_from(sorted(new_acls)))]
        elif what == "default":
            r = draw(st.integers(0, n - 1))
            same_role = {"router": ["router", "router-deny"], "router-deny": ["router", "router-deny"],
                         "firewall": ["firewall", "firewall-permit"], "firewall-permit": ["firewall", "firewall-permit"]}
            new_kinds[r] = draw(st.sampled_from(same_role[kinds[r]]))
        else:
            r, ifname = draw(st.sampled_from(interfaces))
            new_acls[(r, ifname, draw(st.sampled_from(["in", "out"])))] = draw(
                st.lists(abstract_rule(), min_size=1, max_size=4))
    return spec, new_acls, new_kinds


def _plans(tmp_path, spec, new_acls, new_kinds) -> tuple[str, str]:
    n, edges, hosts, kinds, acls, _, _ = spec
    bare = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, [])))
    addresses = sorted(str(a.ip) for node in bare.nodes.values() for a in node.addresses) or ["10.0.0.1"]
    return plan_text(n, edges, hosts, kinds, acls, addresses), plan_text(n, edges, hosts, new_kinds, new_acls, addresses)


def _trips(net, hosts: list[str]) -> list[tuple]:
    out = []
    for src in hosts:
        for dst in hosts:
            if src != dst:
                for proto, port in (("tcp", 443), ("udp", 53), ("icmp", 8)):
                    trip = round_trips(net).get(src, dst, proto, port)
                    out.append(None if trip is None else
                               (trip.delivered, [(h.node, h.decision, h.rule) for h in trip.hops]))
    return out


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          deadline=None)
@given(case=edited())
def test_what_is_carried_answers_as_a_fresh_load_of_the_edited_plan(tmp_path, case, every_suffix):
    spec, new_acls, new_kinds = case
    before, after = _plans(tmp_path, spec, new_acls, new_kinds)
    old = load_plan(write_plan(tmp_path, before, "old.yaml"))
    keep_for_later(old)
    nodes = list(old.nodes)
    hosts = [n for n in nodes if n.startswith("h")]
    reach_answer(old, nodes, nodes)
    for source in nodes:
        reach(old, [source], nodes)
    _trips(old, hosts)
    new = load_plan(write_plan(tmp_path, after, "new.yaml"))
    assert same_routing(old, new)
    carried = carry_over(old, new)
    assert carried.forwarding
    fresh = load_plan(write_plan(tmp_path, after, "fresh.yaml"))
    assert answer_key(reach_answer(new, nodes, nodes)) == answer_key(reach_answer(fresh, nodes, nodes))
    for source in nodes:
        assert answer_key(reach_answer(new, [source], nodes)) == answer_key(reach_answer(fresh, [source], nodes))
    assert _trips(new, hosts) == _trips(fresh, hosts)
    if before == after:
        assert not carried.changed


def test_an_answer_that_met_a_changed_node_is_not_kept_whole():
    old = load_plan(scenario_plan("chuxiong"))
    keep_for_later(old)
    internet = reach_answer(old, ["互联网"], ["楚雄州公众信息网"])
    inside = reach(old, ["双柏县财政局"], ["楚雄州行政审批服务器"])
    assert internet.classes and inside
    new = load_plan(scenario_plan("chuxiong"))
    fw = "楚雄州互联网接入防火墙"
    acl = new.nodes[fw].interfaces["internet"].acl_in
    assert acl is not None
    edited = new.derive(acls={**new.acls, acl: type(new.acls[acl])(acl, new.acls[acl].rules[1:], new.acls[acl].mark)})
    assert changed_nodes(old, edited) == {fw}
    carried = carry_over(old, edited)
    assert carried.forwarding and carried.answers == 1 and carried.walks == 1  # the internet's walks are kept
    assert reach(edited, ["双柏县财政局"], ["楚雄州行政审批服务器"]) == inside
    again = reach_answer(edited, ["互联网"], ["楚雄州公众信息网"])
    fresh = load_plan(scenario_plan("chuxiong")).derive(acls=edited.acls)
    assert answer_key(again) == answer_key(reach_answer(fresh, ["互联网"], ["楚雄州公众信息网"]))


def test_demand_paths_that_met_no_changed_node_are_kept():
    old = load_plan(scenario_plan("chuxiong"))
    base = base_assignment(old)
    new = load_plan(scenario_plan("chuxiong"))
    fw = "楚雄州互联网接入防火墙"
    acl = new.nodes[fw].interfaces["internet"].acl_in
    edited = new.derive(acls={**new.acls, acl: type(new.acls[acl])(acl, (), new.acls[acl].mark)})  # deny all
    carried = carry_over(old, edited)
    through = sum(1 for p in base.paths if fw in p.nodes)
    assert 0 < through < len(base.paths) and 0 < carried.paths < len(base.paths)
    fresh = load_plan(scenario_plan("chuxiong")).derive(acls=edited.acls)
    assert [(p.edges, p.delivered, p.drops) for p in base_assignment(edited).paths] == \
        [(p.edges, p.delivered, p.drops) for p in base_assignment(fresh).paths]


def test_failure_cases_whose_reroutes_met_no_changed_node_are_kept():
    old = load_plan(scenario_plan("chuxiong"))
    keep_for_later(old)
    swept = run_sweep(old, "n-1", progress=False)
    new = load_plan(scenario_plan("chuxiong"))
    acl = "防火墙-外网侧入"
    rules = new.acls[acl].rules
    web = next(i for i, r in enumerate(rules) if r.dport == (80, 80))  # officials' web browsing: no demand uses it
    edited = new.derive(acls={**new.acls, acl: replace(new.acls[acl], rules=rules[:web] + (
        replace(rules[web], dport=(81, 81)),) + rules[web + 1:])})
    carried = carry_over(old, edited)
    assert carried.forwarding and carried.changed
    analysis = FailureAnalysis(edited)
    kept = len(edited.known(CaseMemo).cases)
    assert analysis.keeps_cases and 0 < kept <= len(swept.failures)
    fresh = load_plan(scenario_plan("chuxiong")).derive(acls=edited.acls)
    assert run_sweep(edited, "n-1", progress=False, analysis=analysis) == run_sweep(fresh, "n-1", progress=False)


BACKUP = """\
name: backup
domains: {d: {kind: extranet, pool: 10.0.0.0/24}}
sites: {s: {}}
defaults: {node: {domain: d, site: s}}
nodes: {a: {role: router}, b: {role: router}, m: {role: router}, ha: {role: host}, hb: {role: host}}
links:
  - {a: a, b: b, cost: 1}
  - {a: a, b: m, cost: 5}
  - {a: m, b: b, cost: 5}
  - ha -- a
  - hb -- b
services: {业务: {kind: custom, rate: 1M, protocol: tcp, port: 443}}
traffic:
  - {service: 业务, from: ha, to: hb, bidirectional: true}
"""


def test_a_failure_case_whose_reroute_meets_a_changed_node_is_answered_again(tmp_path):
    """A planted edit the intact network never sees: a node that only carries traffic after some failure
    (m, when a--b fails) starts dropping everything. No demand's intact path changes; the case that reroutes
    through it must be answered again."""
    plan = write_plan(tmp_path, BACKUP)
    old = load_plan(plan)
    keep_for_later(old)
    swept = run_sweep(old, "n-1", progress=False)
    base = set().union(*(p.nodes for p in base_assignment(old).paths))
    backup = sorted({n for r in old.known(CaseMemo).cases.values() for n in r.nodes} - base)
    assert backup, "the plan has no node used only after a failure"
    node = old.nodes[backup[0]]
    deny = Acl("拒绝一切", (Rule(1, "deny", ip_network("0.0.0.0/0"), ip_network("0.0.0.0/0"), "ip", None, None, None),))
    edited = old.derive(acls={**old.acls, deny.name: deny}, nodes={**old.nodes, node.name: replace(node, interfaces={
        k: replace(i, acl_in=deny.name) for k, i in node.interfaces.items()})})
    fresh = load_plan(plan).derive(acls=edited.acls, nodes=edited.nodes)
    assert backup == ["m"] and carry_over(old, edited).changed == {"m"}
    again = run_sweep(edited, "n-1", progress=False)
    assert again == run_sweep(fresh, "n-1", progress=False) != swept


SERVICES = ("services: {web: {kind: custom, rate: 1M, protocol: tcp, port: 443}, "
            "dns: {kind: custom, rate: 64k, protocol: udp, port: 53}}\n")


def _with_traffic(text: str, hosts: int) -> str:
    lines = [f"  - {{service: {s}, from: h{i}, to: h{j}, bidirectional: true}}"
             for i in range(hosts) for j in range(i + 1, hosts) for s in ("web", "dns")]
    return text + SERVICES + ("traffic:\n" + "\n".join(lines) + "\n" if lines else "")


@st.composite
def edited_with_cost(draw):
    """An edit of what filters (:func:`edited`), and maybe a router link's cost changed too."""
    spec, new_acls, new_kinds = draw(edited())
    edges = dict(spec[1])
    if draw(st.booleans()):
        edge = draw(st.sampled_from(sorted(edges)))
        edges[edge] = edges[edge] + draw(st.integers(1, 20))
    return spec, new_acls, new_kinds, edges


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          deadline=None)
@given(case=edited_with_cost())
def test_a_carried_sweep_and_paths_answer_as_a_fresh_load_when_demands_move(tmp_path, case):
    """The failure cases kept across an edit that moves demands (their intact paths differ) or changes a cost
    that decides nothing are those a fresh sweep answers alike; an edit of a cost that decides a route carries
    nothing."""
    spec, new_acls, new_kinds, new_edges = case
    n, edges, hosts, kinds, acls, _, _ = spec
    before, _ = _plans(tmp_path, spec, new_acls, new_kinds)
    bare = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, [])))
    addresses = sorted(str(a.ip) for node in bare.nodes.values() for a in node.addresses) or ["10.0.0.1"]
    after = plan_text(n, new_edges, hosts, new_kinds, new_acls, addresses)
    before, after = _with_traffic(before, len(hosts)), _with_traffic(after, len(hosts))
    old = load_plan(write_plan(tmp_path, before, "old.yaml"))
    keep_for_later(old)
    old_paths = base_assignment(old).paths
    run_sweep(old, "n-1", progress=False)
    new = load_plan(write_plan(tmp_path, after, "new.yaml"))
    carried = carry_over(old, new)
    if new_edges != edges and not carried.forwarding:
        assert not same_routing(old, new, routing=old.known(RoutingState))
    fresh = load_plan(write_plan(tmp_path, after, "fresh.yaml"))
    assert [(p.edges, p.delivered, p.drops) for p in base_assignment(new).paths] == \
        [(p.edges, p.delivered, p.drops) for p in base_assignment(fresh).paths]
    assert run_sweep(new, "n-1", progress=False) == run_sweep(fresh, "n-1", progress=False)
    nodes = list(new.nodes)
    assert answer_key(reach_answer(new, nodes, nodes)) == answer_key(reach_answer(fresh, nodes, nodes))
    moved = any(p.edges != q.edges for p, q in zip(old_paths, base_assignment(new).paths))
    event(f"carried={carried.forwarding} moved={moved} cost={new_edges != edges}")


def test_cases_are_kept_when_a_demand_moves_and_the_failure_does_not_touch_it():
    """Chuxiong: the internet side stops letting the public reach the portal's web port. Those demands move
    (they are now dropped at the firewall); the failures elsewhere keep their answers."""
    old = load_plan(scenario_plan("chuxiong"))
    keep_for_later(old)
    swept = run_sweep(old, "n-1", progress=False)
    acl = old.nodes["楚雄州互联网接入防火墙"].interfaces["internet"].acl_in
    assert acl is not None
    edited = old.derive(acls={**old.acls, acl: replace(old.acls[acl], rules=())})  # deny everything inbound
    carried = carry_over(old, edited)
    assert carried.forwarding
    analysis = FailureAnalysis(edited)
    moved = [i for i, (p, q) in enumerate(zip(base_assignment(old).paths, analysis.assignment.paths)) if p != q]
    kept = len(edited.known(CaseMemo).cases)
    assert moved and 0 < kept < len(swept.failures)
    fresh = load_plan(scenario_plan("chuxiong")).derive(acls=edited.acls)
    assert run_sweep(edited, "n-1", progress=False, analysis=analysis) == run_sweep(fresh, "n-1", progress=False)


def test_a_cost_that_decides_nothing_keeps_the_forwarding():
    """Chuxiong: the cost of the office VPN gateway's internet link (a leaf of the routing graph) changes."""
    old = load_plan(scenario_plan("chuxiong"))
    keep_for_later(old)
    before = reach_answer(old, ["互联网"], ["楚雄州公众信息网"])
    name = "州驻昆明办事处VPN网关--互联网"
    edited = old.derive(links={**old.links, name: replace(old.links[name], cost=old.links[name].cost + 50)})
    carried = carry_over(old, edited)
    assert carried.forwarding and carried.answers == 1
    assert answer_key(reach_answer(edited, ["互联网"], ["楚雄州公众信息网"])) == answer_key(before)
    core = "楚雄州互联网接入防火墙--互联网"  # on a cycle through the internet: its cost decides routes
    other = old.derive(links={**old.links, core: replace(old.links[core], cost=old.links[core].cost + 50)})
    assert not carry_over(old, other).forwarding


LINE = """\
name: line
domains: {d: {kind: extranet, pool: 10.0.0.0/24}}
sites: {s: {}}
defaults: {node: {domain: d, site: s}}
nodes:
  a: {role: router, interfaces: {ha: {acl_in: 入}}}
  b: {role: router}
  ha: {role: host}
  hb: {role: host}
links: [{a: ha, b: 'a:ha'}, a -- b, hb -- b]
acls:
  入: [{action: deny, proto: tcp, dport: 443}, {action: permit}]
services: {业务: {kind: custom, rate: 1M, protocol: tcp, port: 443}}
traffic:
  - {service: 业务, from: ha, to: hb}
"""


def test_a_failure_of_a_link_a_moved_demand_now_crosses_is_answered_again(tmp_path):
    """Planted: the demand is dropped at a, so failing a--b affects nothing; the edit lets it through a--b, and
    the kept "unaffected" answer of that failure must not survive."""
    plan = write_plan(tmp_path, LINE)
    old = load_plan(plan)
    keep_for_later(old)
    swept = run_sweep(old, "n-1", progress=False)
    link = next(name for name, l in old.links.items() if {l.a, l.b} == {"a", "b"})
    assert old.known(CaseMemo).cases[next(f for f in swept.failures if f.links == (link,))].method == "unaffected"
    edited = old.derive(acls={**old.acls, "入": replace(old.acls["入"], rules=old.acls["入"].rules[1:])})
    assert carry_over(old, edited).forwarding
    fresh = load_plan(plan).derive(acls=edited.acls)
    again = run_sweep(edited, "n-1", progress=False)
    assert again == run_sweep(fresh, "n-1", progress=False) != swept
