"""The capacity, latency and redundancy rule kinds, on hand-computable plans and through the check engine."""

from __future__ import annotations

import pytest

from policies.engine import check_network
from policies.errors import PolicyError
from policies.loader import load_policy_file, rules_of
from policies.model import PolicyRule
from policies.redundancy import disjoint_paths
from policies.registry import RULE_KINDS, Context
from tests.helpers import write_plan
from tests.simulator.capacity_plans import CASCADE, HEAD, STAR
from topology import load_plan


def run(net, kind, **params):
    return RULE_KINDS[kind](net, PolicyRule(f"T-{kind}", kind, "high", params), Context())


# A ring of four routers, a host on each, traffic across the ring; two data centres.
RING = HEAD.format(name="ring") + """\
nodes:
  r0: {role: router}
  r1: {role: router}
  r2: {role: router}
  r3: {role: router}
  h0: {role: host}
  h2: {role: host}
  dc1: {role: server, services: [data_centre]}
  dc2: {role: server, services: [data_centre]}
links:
  - {a: r0, b: r1, bandwidth: BW}
  - {a: r1, b: r2, bandwidth: BW}
  - {a: r2, b: r3, bandwidth: BW}
  - {a: r3, b: r0, bandwidth: BW}
  - {a: h0, b: r0, bandwidth: 1G}
  - {a: h2, b: r2, bandwidth: 1G}
  - {a: dc1, b: r0, bandwidth: 1G}
  - {a: dc1, b: r1, bandwidth: 1G, cost: 200}
  - {a: dc2, b: r2, bandwidth: 1G}
services:
  s: {kind: data, rate: 6M}
traffic:
  - {service: s, from: h0, to: h2}
"""


def test_capacity_fails_above_the_fail_level_with_an_upgrade(tmp_path):
    net = load_plan(write_plan(tmp_path, STAR))
    r = run(net, "capacity")  # core -> srv carries 4M of 5M: 80 %
    assert r.status == "fail"
    (e,) = [e for e in r.evidence if e.data["level"] == "fail"]
    assert e.data["link"] == "srv--core" and e.data["direction"] == "core -> srv"
    assert e.data["utilisation"] == pytest.approx(0.8)
    assert e.data["upgrade_to_bps"] == 10e6  # 4M at 50 % needs 8M: the next standard rate is 10M
    assert {d["src"] for d in e.data["demands"]} == {"h1", "h2"}
    assert e.marks and e.marks[0].line > 0


def test_capacity_warns_between_the_levels(tmp_path):
    net = load_plan(write_plan(tmp_path, STAR))
    r = run(net, "capacity", warn=0.5, fail=0.9)
    assert r.status == "pass"
    assert [e.data["level"] for e in r.evidence] == ["warn"]
    assert "above the planning level" in r.message


def test_latency_against_g114_and_a_tight_limit(tmp_path):
    net = load_plan(write_plan(tmp_path, CASCADE))
    assert run(net, "latency").status == "pass"           # a few ms against 150 ms
    tight = run(net, "latency", max_delay="1ms")
    assert tight.status == "fail"
    assert all(e.data["delay_s"] > 0.001 for e in tight.evidence)
    star = load_plan(write_plan(tmp_path / "s", STAR))
    none = run(star, "latency")  # no video in the star
    assert none.status == "not_applicable" and none.message == "the plan has no video flows"
    assert run(star, "latency", kinds=["document_exchange"], max_delay=2).status == "fail"  # 2 ms


def test_latency_of_a_saturated_path_is_unbounded(tmp_path):
    net = load_plan(write_plan(tmp_path, CASCADE.replace("links: [", "links: [{a: t9, b: core, bandwidth: 1M}, ")
                               .replace("  t2: {role: host}", "  t2: {role: host}\n  t9: {role: host}")
                               + "  - {service: hd, from: t9, to: ca}\n"))
    skipped = run(net, "latency")
    assert skipped.status == "pass" and "left to the capacity rule (t9 -> ca" in skipped.message
    r = run(net, "latency", saturated="fail")
    assert r.status == "fail"
    assert any(e.data["delay_s"] is None and "t9--core" in e.data["saturated"] for e in r.evidence)


def test_redundancy_ring_survives_when_links_are_big_enough(tmp_path):
    net = load_plan(write_plan(tmp_path, RING.replace("BW", "10M").replace("  dc2: {role: server, services: [data_centre]}\n", "")
                               .replace("  - {a: dc2, b: r2, bandwidth: 1G}\n", "")))
    r = run(net, "redundancy")
    assert r.status == "pass", r.message
    assert "after any of" in r.message


def test_redundancy_fails_when_a_failure_overloads_a_link(tmp_path):
    # 6M over two 5M halves of the ring (3M each); one failure puts all 6M on the other half
    net = load_plan(write_plan(tmp_path, RING.replace("BW", "5M").replace("  dc2: {role: server, services: [data_centre]}\n", "")
                               .replace("  - {a: dc2, b: r2, bandwidth: 1G}\n", "")))
    r = run(net, "redundancy")
    assert r.status == "fail"
    over = [e for e in r.evidence if "overloaded" in e.data]
    assert {e.data["failure"] for e in over} == {"link r0--r1", "link r1--r2", "link r2--r3", "link r3--r0",
                                                 "node r1", "node r3"}
    assert all(o["utilisation"] == pytest.approx(1.2) for e in over for o in e.data["overloaded"])


def test_key_nodes_need_two_disjoint_paths(tmp_path):
    net = load_plan(write_plan(tmp_path, RING.replace("BW", "100M")))
    assert disjoint_paths(net, "dc1", "r2")[0] == 2
    count, cut = disjoint_paths(net, "dc2", "dc1")
    assert count == 1 and cut == ["link dc2--r2", "node r2"]  # each alone cuts dc2 off
    r = run(net, "redundancy")
    assert r.status == "fail"
    (e,) = [e for e in r.evidence if e.kind == "node"]
    assert e.data == {"node": "dc1", "to": "dc2", "disjoint_paths": 1, "cut": ["link dc2--r2", "node r2"]}
    dual = RING.replace("BW", "100M").replace("  - {a: dc2, b: r2, bandwidth: 1G}\n",
                                              "  - {a: dc2, b: r2, bandwidth: 1G}\n  - {a: dc2, b: r3, bandwidth: 1G}\n")
    fixed = load_plan(write_plan(tmp_path / "f", dual))
    assert run(fixed, "redundancy").status == "pass"


def test_tree_parts_pass_unless_every_demand_must_survive(tmp_path):
    net = load_plan(write_plan(tmp_path, STAR))
    reachable = run(net, "redundancy")
    assert reachable.status == "pass" and "no alternative" in reachable.message
    strict = run(net, "redundancy", survive="all")
    assert strict.status == "fail"
    assert any(e.data.get("failure") == "link srv--core" for e in strict.evidence)


def test_a_way_round_through_a_host_is_no_way_round(tmp_path):
    # r0 and r1 are also joined through a host, which forwards nothing: after r0--r1 fails the demand is
    # cut off as in a tree (it passes unless every demand must survive)
    plan = HEAD.format(name="h") + """\
nodes: {r0: {role: router}, r1: {role: router}, h: {role: host}, a: {role: host}, b: {role: host}}
links: [r0 -- r1, r0 -- h, h -- r1, a -- r0, b -- r1]
services: {s: {kind: data, rate: 1M}}
traffic: [{service: s, from: a, to: b}]
"""
    net = load_plan(write_plan(tmp_path, plan))
    assert run(net, "redundancy", elements=["links"]).status == "pass"
    strict = run(net, "redundancy", elements=["links"], survive="all")
    assert strict.status == "fail" and any(e.data.get("failure") == "link r0--r1" for e in strict.evidence)


def test_routing_that_cannot_use_a_remaining_path_fails(tmp_path):
    # r0 and r1 are also joined through r2, but r2 sits in another VRF: after r0--r1 fails a way round
    # through forwarding devices exists and routing does not use it, which is the plan's fault
    plan = HEAD.format(name="v") + """\
vrfs: {x: {}}
nodes:
  r0: {role: router}
  r1: {role: router}
  r2: {role: router, vrf: x, interfaces: {p: {vrf: x}, q: {vrf: x}}}
  a: {role: host}
  b: {role: host}
links: [r0 -- r1, "r0 -- r2:p", "r2:q -- r1", a -- r0, b -- r1]
services: {s: {kind: data, rate: 1M}}
traffic: [{service: s, from: a, to: b}]
"""
    r = run(load_plan(write_plan(tmp_path, plan)), "redundancy", elements=["links"])
    assert r.status == "fail"
    assert any(e.data.get("failure") == "link r0--r1" for e in r.evidence)


def test_the_rules_run_inside_the_check_engine(tmp_path):
    policy = write_plan(tmp_path, """\
        name: capacity-rules
        rules:
          - {id: C1, kind: capacity, params: {warn: 0.5, fail: 0.7}}
          - {id: C2, kind: latency, params: {max_delay: 150ms}}
          - {id: C3, kind: redundancy, params: {failures: n-1, elements: [links]}}
        """, "rules.yaml")
    net = load_plan(write_plan(tmp_path, STAR))
    results = check_network(net, rules_of([load_policy_file(policy)]))
    # the star carries no video: the latency rule cannot judge it
    assert [(r.rule.id, r.status) for r in results] == [("C1", "fail"), ("C2", "not_applicable"), ("C3", "pass")]
    bad = write_plan(tmp_path, "rules:\n  - {id: C1, kind: capacity, params: {warn: high}}\n", "bad.yaml")
    with pytest.raises(PolicyError):
        load_policy_file(bad)


LATENCY_UNDELIVERED = """\
name: latency-undelivered
policies: [capacity]
domains: {ext: {kind: extranet, pool: 10.53.0.0/16}}
sites: {省: {}}
defaults: {node: {site: 省, domain: ext, role: router}, link: {bandwidth: 1G, latency: 1ms}}
nodes: {a: {}, b: {}, c: {}}
links: [a -- b]
services: {v: {kind: video, rate: 4M, protocol: udp, port: 5004}}
traffic:
  - {service: v, from: a, to: b}
"""


def test_latency_counts_only_the_flows_it_judged(tmp_path):
    """A video flow that is never delivered (c has no link) has no delay: the pass counts the one delivered
    flow and names the other as not delivered; with only undelivered flows the rule cannot judge."""
    both = load_plan(write_plan(tmp_path, LATENCY_UNDELIVERED + "  - {service: v, from: a, to: c}\n"))
    r = run(both, "latency")
    assert r.status == "pass"
    assert r.message.startswith("1 flow of video within") and "1 flow not delivered" in r.message
    assert "a -> c" in r.message
    alone = load_plan(write_plan(tmp_path / "alone", LATENCY_UNDELIVERED.replace("from: a, to: b", "from: a, to: c")))
    r = run(alone, "latency")
    assert r.status == "not_applicable" and "no video flow has a delay to judge" in r.message
