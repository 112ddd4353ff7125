"""Rule kind ``delivery``: declared traffic arrives there and back, tunnels are up; judged per phase."""

from __future__ import annotations

from tests.simulator import sim_plans

from .common import evaluate, load, plan

SERVER = plan("""\
nodes:
  pc: {role: host}
  core: {role: core_router}
  fw:
    role: firewall
    interfaces: {inside: {acl_in: out}, outside: {acl_in: in}}
  isp: {role: cloud, domain: inet}
  web: {role: server, domain: inet}
links: [pc -- core, core -- fw:inside, {a: "fw:outside", b: isp, domain: inet}, {a: web, b: isp, domain: inet}]
acls:
  out: [{action: permit, proto: tcp, dport: 443}, {action: deny}]
  in: [{action: deny}]
services:
  web: {kind: internet, rate: 1M, protocol: tcp, port: PORT}
traffic:
  - {service: web, from: pc, to: web}
""")


def test_a_declared_flow_that_arrives_with_its_answer_passes(tmp_path):
    r = evaluate(load(tmp_path, SERVER.replace("PORT", "443")), "delivery")
    assert r.status == "pass" and "1 declared demand arrive" in r.message and "1 TCP answers" in r.message


def test_a_declared_flow_the_firewall_denies_fails_at_the_rule_that_denies_it(tmp_path):
    r = evaluate(load(tmp_path, SERVER.replace("PORT", "8080")), "delivery")
    assert r.status == "fail"
    (e,) = r.evidence
    assert e.data["way"] == "there" and e.data["node"] == "fw" and e.data["decision"] == "denied"
    assert "rule 2 of out" in e.data["cause"]
    assert e.data["trace"]["hops"][-1]["node"] == "fw"
    assert {"pc", "web", "fw"} <= set(e.subjects)


ONE_WAY_TCP = sim_plans.ONE_WAY.replace("allow: [udp]", "allow: [tcp]") + """\
services: {push: {kind: data, rate: 1M, protocol: tcp, port: 443ONE}}
traffic: [{service: push, from: e1, to: i1}]
"""


def test_a_flow_whose_answers_are_lost_fails_on_the_way_back(tmp_path):
    # TCP through a one-way gateway: the packets arrive, the answers cannot come back
    r = evaluate(load(tmp_path, ONE_WAY_TCP.replace("ONE", "")), "delivery")
    assert r.status == "fail", r.message
    (e,) = r.evidence
    assert e.data["way"] == "back" and e.data["node"] == "gw" and e.data["decision"] == "denied"


def test_a_one_way_service_asks_no_answer(tmp_path):
    r = evaluate(load(tmp_path, ONE_WAY_TCP.replace("ONE", ", one_way: true")), "delivery")
    assert r.status == "pass", r.message


def test_a_tunnel_that_is_down_fails_with_the_probe_that_does_not_get_through(tmp_path):
    net = load(tmp_path, sim_plans.tunnel_plan("ipsec", accept="udp"))
    r = evaluate(net, "delivery")
    assert r.status == "fail"
    (e,) = r.evidence
    assert e.kind == "tunnel" and "tunnel t1 is down" in e.summary
    assert e.data["way"] == "tunnel" and e.data["trace"]["hops"][-1]["decision"] == "denied"


def test_every_phase_is_judged(tmp_path):
    # the internet line comes in phase 二期: in phase 一期 the declared flow has no way out
    text = SERVER.replace("PORT", "443").replace("sites:", "phases: {一期: {}, 二期: {}}\nsites:")
    text = text.replace('{a: "fw:outside", b: isp, domain: inet}', '{a: "fw:outside", b: isp, domain: inet, phase: 二期}')
    r = evaluate(load(tmp_path, text), "delivery")
    assert r.status == "fail" and "2 phases" in r.message
    assert {e.data["phase"] for e in r.evidence} == {"一期"}


def test_nothing_declared_is_not_applicable(tmp_path):
    net = load(tmp_path, plan("nodes: {a: {role: host}, r: {role: router}}\nlinks: [a -- r]\n"))
    r = evaluate(net, "delivery")
    assert r.status == "not_applicable" and "declares no traffic and no tunnel" in r.message
