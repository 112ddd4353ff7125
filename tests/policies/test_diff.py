"""``policies.diff``: the reachability difference against the trace engine on generated plans, verdicts, capacity,
and the model changes of planted edits."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.diff import DiffOptions, plan_diff, reach_changes, worst_utilisation
from simulator.headerspace import int_ip
from simulator.trace import trace
from tests.helpers import SCENARIOS
from topology import load_plan
from topology.diff import model_changes
from topology.loader import load_text

# a host LAN, a router, a firewall whose internet side filters with ACL 入 (in) and 出 (out), the internet
PLAN = """
name: diff
domains: {{外网: {{kind: extranet, pool: 10.1.0.0/16}}, 互联网: {{kind: internet, pool: 10.9.0.0/16}}}}
sites: {{州: {{level: prefecture}}}}
defaults: {{node: {{domain: 外网, site: 州}}}}
nodes:
  pc1: {{role: host}}
  pc2: {{role: host}}
  srv: {{role: server}}
  core: {{role: core_router}}
  fw: {{role: firewall, default_action: {default}, interfaces: {{net: {{acl_in: 入, acl_out: 出}}}}}}
  isp: {{role: cloud, domain: 互联网}}
  web: {{role: server, domain: 互联网}}
links: [{{a: pc1, b: core}}, {{a: pc2, b: core}}, {{a: srv, b: core}}, {{a: core, b: fw}},
        {{a: "fw:net", b: isp, medium: internet}}, {{a: isp, b: web}}]
acls:
  入: [{inbound}]
  出: [{outbound}]
"""

PROTOS = ("tcp", "udp")


def _rule(action: str, proto: str, lo: int, width: int) -> str:
    return f"{{action: {action}, proto: {proto}, dport: {lo}-{lo + width}}}"


rules = st.lists(st.builds(_rule, st.sampled_from(["permit", "deny"]), st.sampled_from(PROTOS),
                           st.integers(20, 30), st.integers(0, 4)), min_size=0, max_size=4)


def _plan(inbound: list[str], outbound: list[str], default: str) -> str:
    return PLAN.format(inbound=", ".join(inbound) or "{action: deny}",
                       outbound=", ".join(outbound) or "{action: deny}", default=default)


@settings(max_examples=50)
@given(old_in=rules, old_out=rules, new_in=rules, new_out=rules,
       defaults=st.tuples(st.sampled_from(["deny", "permit"]), st.sampled_from(["deny", "permit"])),
       seed=st.integers(0, 2**16))
def test_newly_allowed_and_blocked_packets_are_what_the_trace_engine_says(old_in, old_out, new_in, new_out, defaults,
                                                                          seed) -> None:
    """Oracle: sampled packets, traced one by one in both versions. A packet delivered across the boundary in NEW
    and not in OLD lies in a 'newly allowed' class of its source; delivered in OLD only, in a 'newly blocked' one;
    delivered in both or neither, in no change. (And every reported change holds the packets it claims.)"""
    old = load_text(_plan(old_in, old_out, defaults[0]))
    new = load_text(_plan(new_in, new_out, defaults[1]))
    changes = reach_changes(old, new)
    for r in changes:  # each reported class: its example goes through in its version, and not in the other
        version, other = (new, old) if r.direction == "allowed" else (old, new)
        p = r.packet
        assert r.trace.delivered and version.nodes[r.trace.last.node].domain == r.to_domain
        assert r.space.contains(_point(p))
        again = trace(other, r.src_node, p["dst"], p["proto"], p["sport"], p["dport"], src_ip=p["src"])
        assert not (again.delivered and other.nodes[again.last.node].domain == r.to_domain), r.text()
    rng = random.Random(seed)
    pairs = [("pc1", "web"), ("pc2", "isp"), ("web", "srv"), ("isp", "pc1")]
    for _ in range(12):
        src, dst = rng.choice(pairs)
        proto, dport = rng.choice(PROTOS), rng.randint(18, 36)
        before, after = (trace(net, src, dst, proto, 40000, dport) for net in (old, new))
        point = after.hops[0].header.fields()  # the same addresses in both versions: only ACLs differ
        # crossings ask one of the hosts alike (pc1, pc2) for both: match by domain, the header says the source
        home = new.nodes[src].domain
        allowed = [r for r in changes if r.direction == "allowed" and r.from_domain == home and r.space.contains(point)]
        blocked = [r for r in changes if r.direction == "blocked" and r.from_domain == home and r.space.contains(point)]
        assert bool(allowed) == (after.delivered and not before.delivered), (src, dst, proto, dport)
        assert bool(blocked) == (before.delivered and not after.delivered), (src, dst, proto, dport)


def _point(p: dict) -> tuple[int, int, int, int, int]:
    return (int_ip(p["src"]), int_ip(p["dst"]), {"tcp": 6, "udp": 17, "icmp": 1}[p["proto"]], p["sport"], p["dport"])


def test_the_same_plan_changes_nothing() -> None:
    net = load_plan(SCENARIOS / "chuxiong" / "plan.yaml")
    change = plan_diff(net, load_plan(SCENARIOS / "chuxiong" / "plan.yaml"), DiffOptions(failures="none"))
    assert (change.model, change.verdicts, change.reach, change.capacity, change.lost) == ((), (), (), (), ())
    assert not change.regresses


def test_a_planted_firewall_hole_is_a_new_failure_and_an_unapproved_crossing() -> None:
    old = load_plan(SCENARIOS / "chuxiong" / "plan.yaml")
    new = load_plan(SCENARIOS / "chuxiong" / "faults" / "firewall-hole.yaml")
    change = plan_diff(old, new, DiffOptions(failures="none"))
    assert [(c.section, c.action) for c in change.model] == [("acls", "added")]
    assert change.model[0].mark.line == 33  # the planted rule's line in the fault file
    assert [(v.rule, v.old, v.new) for v in change.new_failures] == [("EGOV-LI-1", "pass", "fail")]
    assert change.reach and all(r.direction == "allowed" and r.from_domain == "互联网" for r in change.reach)
    assert {r.packet["dport"] for r in change.reach} == {3389}
    assert change.unapproved and change.regresses
    # and backwards: the fix blocks exactly what the hole let in, and regresses nothing
    back = plan_diff(new, old, DiffOptions(failures="none"))
    assert {r.direction for r in back.reach} == {"blocked"} and not back.regresses
    assert sum(r.space.size() for r in back.reach) == sum(r.space.size() for r in change.reach)


def test_a_thinner_link_moves_its_worst_case_and_loses_nothing_it_still_carries() -> None:
    text = """
name: cap
domains: {外网: {kind: extranet, pool: 10.1.0.0/16}}
sites: {州: {level: prefecture}}
defaults: {node: {domain: 外网, site: 州, role: core_router}}
nodes: {a: {role: host}, r: {}, s: {role: server}}
links: [{a: a, b: r, bandwidth: 100M}, {a: r, b: s, bandwidth: BW}]
services: {web: {kind: data, rate: 10M, protocol: tcp, port: 443}}
traffic: [{service: web, from: a, to: s}]
"""
    old, new = load_text(text.replace("BW", "100M")), load_text(text.replace("BW", "20M"))
    assert worst_utilisation(old, "none")["r--s"] == 10e6 / 100e6  # the demand over the link, by hand
    change = plan_diff(old, new, DiffOptions(failures="none", threshold=5))
    assert [(c.link, c.old, c.new) for c in change.capacity] == [("r--s", 0.1, 0.5)]
    assert plan_diff(old, new, DiffOptions(failures="none", threshold=50)).capacity == ()
    assert [c.text() for c in model_changes(old, new)][-1].startswith("link r--s changed: bandwidth: 100M → 20M")
