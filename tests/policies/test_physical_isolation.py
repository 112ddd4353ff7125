"""physical_isolation: passing and failing plans, gateways, and an oracle on generated networks."""

from __future__ import annotations

import itertools

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import write_plan
from topology import load_plan

from .common import evaluate, load, plan

ISOLATED = plan("""\
nodes:
  icore: {role: core_router, domain: intra}
  ipc: {role: host, domain: intra}
  ecore: {role: core_router}
  epc: {role: host}
  fw: {role: firewall, default_action: deny}
  isp: {role: cloud, domain: inet}
links:
  - icore -- ipc
  - ecore -- epc
  - ecore -- fw
  - {a: fw, b: isp, medium: internet}
""")


def test_separate_networks_pass(tmp_path):
    net = load(tmp_path, ISOLATED)
    result = evaluate(net, "physical_isolation", {"domains": ["kind:intranet"], "against": ["*"]})
    assert result.status == "pass", result.message
    assert "intra" in result.message and not result.evidence


def test_dual_homed_computer_fails_with_the_shortest_path(tmp_path):
    text = ISOLATED.replace("  fw: {role", "  epc2: {role: switch}\n  fw: {role") + "  - ipc -- epc2\n  - epc2 -- ecore\n"
    net = load(tmp_path, text)
    result = evaluate(net, "physical_isolation", {"domains": ["kind:intranet"], "against": ["kind:extranet"]})
    assert result.status == "fail"
    (ev,) = result.evidence
    assert [n["name"] for n in ev.data["nodes"]] == ["ipc", "epc2"]
    assert ev.data["crossings"] == ["ipc--epc2"]
    # the crossing link is blamed first, at its line in the plan
    lines = text.splitlines()
    assert "ipc -- epc2" in lines[ev.marks[0].line - 1]


def test_firewall_does_not_make_physical_isolation(tmp_path):
    net = load(tmp_path, ISOLATED)
    result = evaluate(net, "physical_isolation", {"domains": ["kind:extranet"], "against": ["kind:internet"]})
    assert result.status == "fail"
    assert [n["name"] for n in result.evidence[0].data["nodes"]] == ["fw", "isp"]


GATEWAY = plan("""\
nodes:
  icore: {role: core_router, domain: intra}
  ecore: {role: core_router}
  gap:
    role: one_way_gateway
    domain: intra
    gateway: {from: ext, to: intra, approved: %(approved)s}
links:
  - ecore -- gap
  - gap -- icore
""")


def test_declared_one_way_gateway_is_accepted_in_its_direction_only(tmp_path):
    net = load(tmp_path, GATEWAY % {"approved": "false"})
    accepted = evaluate(net, "physical_isolation", {"domains": ["kind:intranet"], "against": ["kind:extranet"],
                                                    "one_way": [{"from": "kind:extranet", "to": "kind:intranet"}]})
    assert accepted.status == "pass", accepted.message
    assert "gap" in accepted.message
    wrong_way = evaluate(net, "physical_isolation", {"domains": ["kind:intranet"], "against": ["kind:extranet"],
                                                     "one_way": [{"from": "kind:intranet", "to": "kind:extranet"}]})
    assert wrong_way.status == "fail"
    assert "accepts no one-way gateway" in wrong_way.evidence[0].summary
    none = evaluate(net, "physical_isolation", {"domains": ["kind:intranet"], "against": ["kind:extranet"]})
    assert none.status == "fail"


def test_gateway_into_classified_network_needs_approval(tmp_path):
    text = GATEWAY.replace("intra: {kind: intranet, pool: 172.16.0.0/16}",
                           "intra: {kind: intranet, pool: 172.16.0.0/16, clearance: 秘密}")
    params = {"domains": ["classified"], "against": ["*"], "one_way": [{"from": "*", "to": "classified"}]}
    unapproved = evaluate(load(tmp_path, text % {"approved": "false"}), "physical_isolation", params)
    assert unapproved.status == "fail"
    assert "not marked as an approved import device" in unapproved.evidence[0].summary
    approved = evaluate(load(tmp_path, text % {"approved": "true"}, "p2.yaml"), "physical_isolation", params)
    assert approved.status == "pass", approved.message


def test_gateway_out_of_a_classified_network_is_never_accepted(tmp_path):
    text = GATEWAY.replace("intra: {kind: intranet, pool: 172.16.0.0/16}",
                           "intra: {kind: intranet, pool: 172.16.0.0/16, clearance: 机密}")
    text = text.replace("gateway: {from: ext, to: intra", "gateway: {from: intra, to: ext")
    result = evaluate(load(tmp_path, text % {"approved": "true"}), "physical_isolation",
                      {"domains": ["*"], "one_way": [{"from": "*", "to": "*"}]})
    assert result.status == "fail"
    assert "out of classified" in result.evidence[0].summary


def test_gateway_chain_feeding_an_undeclared_direction_fails(tmp_path):
    text = plan("""\
    nodes:
      a: {role: router, domain: inet}
      g1: {role: one_way_gateway, domain: dmz, gateway: {from: inet, to: dmz}}
      b: {role: router, domain: dmz}
      g2: {role: one_way_gateway, domain: ext, gateway: {from: dmz, to: ext}}
      c: {role: router, domain: ext}
    links: [a -- g1, g1 -- b, b -- g2, g2 -- c]
    """)
    net = load(tmp_path, text)
    steps = [{"from": "kind:internet", "to": "kind:dmz"}, {"from": "kind:dmz", "to": "kind:extranet"}]
    result = evaluate(net, "physical_isolation", {"domains": ["kind:internet"], "against": ["kind:extranet"],
                                                  "one_way": steps})
    assert result.status == "fail"
    assert [n["name"] for n in result.evidence[0].data["nodes"]] == ["a", "g1", "b", "g2", "c"]
    ok = evaluate(net, "physical_isolation", {"domains": ["kind:internet"], "against": ["kind:extranet"],
                                              "one_way": steps + [{"from": "kind:internet", "to": "kind:extranet"}]})
    assert ok.status == "pass", ok.message


def test_not_applicable_without_such_networks(tmp_path):
    net = load(tmp_path, ISOLATED)
    result = evaluate(net, "physical_isolation", {"domains": ["kind:party_private"], "against": ["*"]})
    assert result.status == "not_applicable"
    assert result.message == "the plan has no network matching kind:party_private"


# -- oracle: brute force over all simple paths of small generated networks -------------------

DOMAINS = ["d0", "d1", "d2"]
HEAD = """\
name: gen
domain_kinds: {k0: {like: extranet}, k1: {like: extranet}, k2: {like: extranet}}
domains: {d0: {kind: k0, pool: 10.0.0.0/16}, d1: {kind: k1, pool: 10.1.0.0/16}, d2: {kind: k2, pool: 10.2.0.0/16}}
sites: {s: {}}
defaults: {node: {site: s}}
"""


@st.composite
def networks(draw):
    n = draw(st.integers(2, 7))
    doms = [draw(st.sampled_from(DOMAINS)) for _ in range(n)]
    gateways = {}
    for i in range(n):
        if draw(st.integers(0, 4)) == 0:
            src, dst = draw(st.sampled_from(DOMAINS)), draw(st.sampled_from(DOMAINS))
            gateways[i] = (src, dst)
    edges = set()
    for _ in range(draw(st.integers(0, 9))):
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    accepted = draw(st.lists(st.tuples(st.sampled_from(DOMAINS), st.sampled_from(DOMAINS)), max_size=3))
    return doms, gateways, sorted(edges), accepted


def plan_text(doms, gateways, edges) -> str:
    lines = [HEAD, "nodes:"]
    for i, d in enumerate(doms):
        if i in gateways:
            src, dst = gateways[i]
            lines.append(f"  n{i}: {{role: one_way_gateway, domain: {d}, gateway: {{from: {src}, to: {dst}}}}}")
        else:
            lines.append(f"  n{i}: {{role: router, domain: {d}}}")
    lines.append("links:" if edges else "links: []")
    lines += [f"  - n{a} -- n{b}" for a, b in edges]
    return "\n".join(lines) + "\n"


def brute_force(doms, gateways, edges, accepted) -> set[frozenset]:
    """Pairs of domains that fail, by enumerating every simple path (written apart from the rule's code)."""
    n = len(doms)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)

    def usable(g: int) -> bool:  # a gateway the rule may excuse
        src, dst = gateways[g]
        sides = {doms[v] for v in graph[g]}
        return src != dst and sides <= {src, dst} and (src, dst) in accepted

    excused = {g for g in gateways if usable(g)}

    def path_ok_direction(path) -> bool:  # every excused gateway crossed from its 'from' side to its 'to' side
        for k, v in enumerate(path):
            if v in excused:
                if k == 0 or k == len(path) - 1:
                    return False
                if doms[path[k - 1]] != gateways[v][0] or doms[path[k + 1]] != gateways[v][1]:
                    return False
        return True

    failing = set()
    for a, b in itertools.combinations(DOMAINS, 2):
        bad = False
        for u in (x for x in range(n) if doms[x] == a and x not in excused):
            for v in (x for x in range(n) if doms[x] == b and x not in excused):
                for path in nx.all_simple_paths(graph, u, v):
                    if not any(x in excused for x in path):
                        bad = True  # joined without any gateway
                    elif path_ok_direction(path) and (a, b) not in accepted:
                        bad = True  # data flows a -> b through gateways, a direction the rule does not accept
                    elif path_ok_direction(list(reversed(path))) and (b, a) not in accepted:
                        bad = True
                if bad:
                    break
            if bad:
                break
        if bad:
            failing.add(frozenset((a, b)))
    return failing


@settings(max_examples=60)
@given(networks())
def test_oracle_every_pair(tmp_path_factory, spec):
    doms, gateways, edges, accepted = spec
    net = load_plan(write_plan(tmp_path_factory.mktemp("pi"), plan_text(doms, gateways, edges)))
    one_way = [{"from": a, "to": b} for a, b in accepted]
    result = evaluate(net, "physical_isolation", {"domains": DOMAINS, "one_way": one_way})
    present = set(doms)
    got = {frozenset((e.data["from_domain"], e.data["to_domain"])) for e in result.evidence}
    expected = {p for p in brute_force(doms, gateways, edges, accepted) if p <= present}
    assert got == expected
    assert result.status == ("fail" if expected else "pass")
    for ev in result.evidence:  # the evidence is a real path between the two networks
        names = [x["name"] for x in ev.data["nodes"]]
        assert {net.nodes[names[0]].domain, net.nodes[names[-1]].domain} == {ev.data["from_domain"], ev.data["to_domain"]}
        assert all(net.links[l] for l in ev.data["links"]) and len(ev.data["links"]) == len(names) - 1
