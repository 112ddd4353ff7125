"""approval: every crossing the plan allows, with its approval; the ``approvals:`` section; the crossings themselves."""

from __future__ import annotations

import datetime

import pytest

from policies.crossings import Control, Crossing, approvals_of, crossing_sources, crossings
from simulator.reach import reach
from topology import load_plan
from topology.errors import PlanError
from topology.model import Approval

from ..helpers import REPO
from .common import evaluate, load, plan

# an extranet host, a one-way gateway into the intranet, a firewall with one rule towards the DMZ
EDGE = plan("""\
nodes:
  ecore: {role: core_router}
  pc: {role: host}
  gap: {role: one_way_gateway, domain: intra, gateway: {from: ext, to: intra, allow: [tcp]}}
  icore: {role: core_router, domain: intra}
  oa: {role: server, domain: intra}
  fw:
    role: firewall
    default_action: deny
    interfaces:
      in: {acl_in: to-dmz}
      dmz: {address: 203.0.113.1/28}
  portal: {role: server, domain: dmz, services: [portal], interfaces: {e0: {address: 203.0.113.2/28}}}
links:
  - pc -- ecore
  - ecore -- gap
  - gap -- icore
  - oa -- icore
  - "ecore -- fw:in"
  - {a: "fw:dmz", b: "portal:e0"}
acls:
  to-dmz:
    - {action: permit, proto: tcp, dst: 203.0.113.2, dport: 443}
    - {action: deny}
%(approvals)s
""")
DAY = "2024-03-01"


def _plan(tmp_path, approvals=""):
    return load(tmp_path, EDGE % {"approvals": approvals})


def test_an_unapproved_crossing_into_the_intranet_fails_with_the_device_and_packets(tmp_path):
    net = _plan(tmp_path)
    result = evaluate(net, "approval")
    assert result.status == "fail"
    assert "into intra have no approval" in result.message or "into intra has no approval" in result.message
    into = [e for e in result.evidence if e.data["to"] == "intra"]
    assert into and all(e.data["level"] == "fail" for e in into)
    first = into[0]
    assert {"ref": "gap", "text": "one-way gateway gap", "node": "gap", "kind": "gateway"} in first.data["controls"]
    assert first.data["packet"]["proto"] == "tcp"  # the gateway passes tcp only
    assert "gap" in first.subjects
    gap_line = next(i for i, line in enumerate(EDGE.splitlines(), 1) if line.startswith("  gap:"))
    assert gap_line in {m.line for m in first.marks}  # the gateway's line in the plan
    # the crossing into the DMZ through the firewall rule is only reported
    dmz = [e for e in result.evidence if e.data["to"] == "dmz"]
    assert dmz and all(e.data["level"] == "warn" for e in dmz)
    assert any(c["ref"] == "to-dmz#1" for e in dmz for c in e.data["controls"])


@pytest.mark.parametrize("approves", ["gap", "ext -> intra"])
def test_an_approval_of_the_gateway_or_of_the_crossing_passes_the_rule(tmp_path, approves):
    net = _plan(tmp_path, f"approvals:\n  - {{approves: '{approves}', unit: 市政府应急办, document: 威应急〔2024〕3号, "
                          f"date: {DAY}}}\n")
    result = evaluate(net, "approval")
    assert result.status == "pass", result.message
    assert result.message.startswith("1 crossing approved")
    assert all(e.data["to"] != "intra" for e in result.evidence)
    assert net.approvals[0].unit == "市政府应急办" and net.approvals[0].date == datetime.date(2024, 3, 1)


def test_an_acl_rule_approval_covers_what_that_rule_lets_through(tmp_path):
    net = _plan(tmp_path, f"approvals:\n  - {{approves: gap, unit: u, document: d1, date: {DAY}}}\n"
                          f"  - {{approves: 'to-dmz#1', unit: u, document: d2, date: {DAY}}}\n")
    result = evaluate(net, "approval")
    assert result.status == "pass"
    assert not any(c["ref"] == "to-dmz#1" for e in result.evidence for c in e.data["controls"])
    found = crossings(net)
    by_rule = [c for c in found if any(x.ref == "to-dmz#1" for x in c.controls)]
    assert by_rule and [a.document for a in approvals_of(by_rule[0], net.approvals)] == ["d2"]


def test_a_plan_without_crossings_makes_the_rule_not_applicable(tmp_path):
    net = load(tmp_path, plan("""\
nodes:
  a: {role: core_router}
  b: {role: host}
  c: {role: core_router, domain: intra}
links: [a -- b]
"""))
    result = evaluate(net, "approval")
    assert result.status == "not_applicable"
    assert "allows no crossing" in result.message


def test_which_domains_fail_is_a_parameter(tmp_path):
    net = _plan(tmp_path)
    result = evaluate(net, "approval", {"fail_into": ["kind:dmz"]})
    assert result.status == "fail"
    assert {e.data["to"] for e in result.evidence if e.data["level"] == "fail"} == {"dmz"}


@pytest.mark.parametrize("approves, message, hint", [
    ("ext -> intr", "unknown domain 'intr'", "did you mean 'intra'?"),
    ("to-dm#1", "unknown ACL 'to-dm'", "did you mean 'to-dmz'?"),
    ("to-dmz#3", "ACL 'to-dmz' has no rule '3' (it has 2)", "to-dmz#N with N from 1 to 2"),
    ("ga", "unknown gateway 'ga'", "did you mean 'gap'?"),
    ("ecore", "'ecore' is a core_router, not a gateway", "ACL#N"),
    ("ext -> ext", "crosses no boundary", "two different domains"),
])
def test_bad_approvals_are_errors_with_their_line_and_a_hint(tmp_path, approves, message, hint):
    with pytest.raises(PlanError) as caught:
        _plan(tmp_path, f"approvals:\n  - {{approves: '{approves}', unit: u, document: d, date: {DAY}}}\n")
    (issue,) = caught.value.issues
    assert message in issue.message and hint in issue.hint
    assert issue.mark.line == EDGE.count("\n") + 1  # the approval's own line


def test_a_bad_date_is_an_error_at_its_column(tmp_path):
    with pytest.raises(PlanError) as caught:
        _plan(tmp_path, "approvals:\n  - {approves: gap, unit: u, document: d, date: 2024-02-30}\n")
    rendered = caught.value.issues[0].render()
    assert "approvals.0.date" in rendered and "not a real date" in rendered


def test_approvals_merge_across_includes(tmp_path):
    (tmp_path / "more.yaml").write_text(f"approvals:\n  - {{approves: 'to-dmz#1', unit: u, document: d2, date: {DAY}}}\n",
                                        encoding="utf-8")
    net = _plan(tmp_path, f"include: [more.yaml]\napprovals:\n  - {{approves: gap, unit: u, document: d1, date: {DAY}}}\n")
    assert [a.document for a in net.approvals] == ["d1", "d2"]


def test_approvals_of_matches_pair_device_and_rule():
    day = datetime.date(2024, 1, 1)
    fw = Control("fw", "acl", "in", 2, "e0", "in")
    crossing = Crossing("a", "b", (fw,), (), ("fw", "x"))
    pair = Approval("a -> b", "crossing", "u", "d", day, from_domain="a", to_domain="b")
    other = Approval("b -> a", "crossing", "u", "d", day, from_domain="b", to_domain="a")
    device = Approval("fw", "gateway", "u", "d", day, node="fw")
    rule = Approval("in#2", "acl_rule", "u", "d", day, acl="in", index=2)
    wrong = Approval("in#1", "acl_rule", "u", "d", day, acl="in", index=1)
    assert approvals_of(crossing, [pair, other, device, rule, wrong]) == [pair, device, rule]


@pytest.mark.parametrize("scenario", ["civil-affairs", "changchun", "weihai"])
def test_leaving_out_inner_sources_loses_no_crossing(scenario):
    """The crossings from the sources crossing_sources asks are those from every node (by domain pair and
    controls), on shipped plans with gateways, firewalls, VPNs and hosts behind them."""
    net = load_plan(REPO / "scenarios" / scenario / "plan.yaml")
    from policies.connectivity import components
    from policies.crossings import class_controls

    joined = components(net, None).joined_pairs()
    members = {d: [n for n, v in net.nodes.items() if v.domain == d] for d in net.domains}
    everything, asked = set(), set()
    for a in members:
        sources = crossing_sources(net, a)
        assert len(sources) <= len(members[a])
        for b in members:
            if a == b or frozenset((a, b)) not in joined:
                continue
            everything |= {(a, b, class_controls(net, c)) for c in reach(net, members[a], members[b])}
            asked |= {(a, b, class_controls(net, c)) for c in reach(net, sources, members[b])}
    assert asked == everything
    assert {(c.from_domain, c.to_domain, c.controls) for c in crossings(net)} == everything


def test_the_civil_affairs_import_device_is_approved_as_a_planning_assumption():
    net = load_plan(REPO / "scenarios/civil-affairs/plan.yaml")
    (approval,) = net.approvals
    assert approval.kind == "gateway" and approval.node == "内专网安全物理隔离设备"
    assert any("规划假设" in a and "审批" in a for a in net.assumptions)
    result = evaluate(net, "approval")
    assert result.status == "pass" and "1 crossing approved" in result.message
