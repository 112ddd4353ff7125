"""Waivers: a recorded, unexpired waiver is the only way out of a failure, and only for what it covers."""

from __future__ import annotations

import datetime

import pytest

from policies.engine import check_plan
from policies.errors import PolicyError
from policies.loader import select_policies
from policies.model import Evidence, PolicyRule, RuleResult
from policies.waivers import ScopedWaiver, apply_waivers, today
from topology.errors import GovnetError
from topology.model import Waiver

from .common import load, plan

RULES = """\
rules:
  - id: UC-1
    kind: unified_channel
    severity: high
    clause: 统一网络通道
  - id: PP-1
    kind: physical_isolation
    params: {domains: [kind:party_private], against: ["*"]}
"""
# two links outside the unified channel: a1 -- b1 (a side link between two counties) and a2 -- core
BODY = """\
policies: [rules.yaml]
nodes:
  core: {role: core_router}
  a1: {role: host, site: 县A}
  a2: {role: host, site: 县A}
  b1: {role: host, site: 县B}
links:
  - a1 -- core
  - a2 -- core
  - b1 -- core
  - a1 -- b1
  - {a: a2, b: core, channel: false}
waivers:
"""
DAY = datetime.date(2025, 1, 1)


def waiver_line(scope: str, rule: str = "UC-1", expires: str = "2025-06-30") -> str:
    return (f"  - {{rule: {rule}, scope: \"{scope}\", reason: 县际专线改造中, approver: 州网管中心, "
            f"document: 楚电政〔2024〕12号, expires: {expires}}}\n")


def check(tmp_path, *waivers: str, names=None, on=DAY):
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    text = plan(BODY + ("".join(waivers) or "  []\n"))
    net = load(tmp_path, text)
    runs = check_plan(net, select_policies(net, names), on=on)
    return text, {r.rule.id: r for r in runs[0].results}, runs


def test_without_waivers_the_rule_fails_with_two_findings(tmp_path):
    _, results, _ = check(tmp_path)
    uc = results["UC-1"]
    assert uc.status == "fail" and len(uc.evidence) == 2
    assert [e.subjects for e in uc.evidence] == [("a1", "b1"), ("a2", "core")]


def test_a_waiver_covering_every_finding_waives(tmp_path):
    _, results, _ = check(tmp_path, waiver_line("site:县A"))
    uc = results["UC-1"]
    assert uc.status == "waived" and not uc.failed_ and uc.waived_
    assert len(uc.evidence) == 2  # the evidence stays
    assert uc.message.startswith("2 links outside the unified network channel")
    assert "approved by 州网管中心 (document 楚电政〔2024〕12号), until 2025-06-30, scope site:县A: 县际专线改造中" in uc.message
    (use,) = uc.waivers
    assert use.covers == (0, 1) and not use.expired and use.waiver.approver == "州网管中心"


def test_two_waivers_together_cover_every_finding(tmp_path):
    _, results, _ = check(tmp_path, waiver_line("b1"), waiver_line("a2"))
    uc = results["UC-1"]
    assert uc.status == "waived"
    assert [u.covers for u in uc.waivers] == [(0,), (1,)]


def test_a_waiver_covering_part_of_the_evidence_leaves_a_failure(tmp_path):
    _, results, runs = check(tmp_path, waiver_line("a1"))
    uc = results["UC-1"]
    assert uc.status == "fail"
    assert "1 of 2 findings waived" in uc.message and "the others stand" in uc.message
    assert [u.covers for u in uc.waivers] == [(0,)]
    assert [r.rule.id for r in runs[0].failed] == ["UC-1"]


def test_an_expired_waiver_never_waives_and_says_so(tmp_path):
    _, results, _ = check(tmp_path, waiver_line("*", expires="2024-12-31"))
    uc = results["UC-1"]
    assert uc.status == "fail"
    assert "expired on 2024-12-31 and no longer waives" in uc.message
    (use,) = uc.waivers
    assert use.expired and use.covers == (0, 1)
    # the last day it holds is the expiry date itself
    _, on_the_day, _ = check(tmp_path, waiver_line("*", expires="2024-12-31"), on=datetime.date(2024, 12, 31))
    assert on_the_day["UC-1"].status == "waived"


def test_waivers_leave_passes_and_not_applicable_rules_alone(tmp_path):
    _, results, _ = check(tmp_path, waiver_line("*", rule="PP-1"))
    assert results["PP-1"].status == "not_applicable" and results["PP-1"].waivers == ()


def test_a_waiver_of_a_rule_not_checked_is_an_error_at_its_position(tmp_path):
    with pytest.raises(PolicyError) as exc:
        check(tmp_path, waiver_line("a1", rule="UC-2"))
    text = plan(BODY + waiver_line("a1", rule="UC-2"))
    line = text.splitlines().index(waiver_line("a1", rule="UC-2").rstrip("\n")) + 1
    (issue,) = exc.value.issues
    assert issue.mark.file == str(tmp_path / "plan.yaml") and (issue.mark.line, issue.mark.col) == (line, 5)
    assert issue.message == "waiver of rule 'UC-2', which is not among the rules checked"
    assert issue.hint == "did you mean 'UC-1'?"


def test_with_policies_from_the_command_line_such_a_waiver_is_listed_as_unused(tmp_path):
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    _, results, runs = check(tmp_path, waiver_line("a1", rule="UC-2"), names=[str(tmp_path / "rules.yaml")])
    assert [w.rule for w in runs[0].unused_waivers] == ["UC-2"]
    assert results["UC-1"].status == "fail"


@pytest.mark.parametrize("scope, why", [
    ("site:县C", "no site named '县C'"),
    ("role:firewall", "no node matches 'role:firewall'"),
    ("colour:red", "unknown selector key 'colour:'"),
])
def test_a_scope_that_selects_nothing_is_an_error_at_the_waiver(tmp_path, scope, why):
    with pytest.raises(PolicyError) as exc:
        check(tmp_path, waiver_line(scope))
    text = plan(BODY + waiver_line(scope))
    line = text.splitlines().index(waiver_line(scope).rstrip("\n")) + 1
    (issue,) = exc.value.issues
    assert (issue.mark.line, issue.mark.col) == (line, 5)
    assert f"the scope '{scope}' of the waiver of UC-1 selects no node" in issue.message and why in issue.message


def test_covering_needs_a_subject_in_scope_and_star_covers_everything():
    w = Waiver("R", "site:x", "why", "who", None, datetime.date(2030, 1, 1))
    scoped = ScopedWaiver(w, frozenset({"a"}))
    assert scoped.covers(Evidence("link", "x", subjects=("b", "a")))
    assert not scoped.covers(Evidence("link", "x", subjects=("b",)))
    assert not scoped.covers(Evidence("rule", "no subjects"))
    assert ScopedWaiver(w, None).covers(Evidence("rule", "no subjects"))


def test_a_failure_without_evidence_is_waived_only_by_a_scope_of_every_node():
    rule = PolicyRule("R", "unified_channel")
    failed = RuleResult.failed(rule, "broken", [])
    w = Waiver("R", "a", "why", "who", None, datetime.date(2030, 1, 1))
    assert apply_waivers(failed, [ScopedWaiver(w, frozenset({"a"}))], DAY).status == "fail"
    assert apply_waivers(failed, [ScopedWaiver(w, None)], DAY).status == "waived"


def test_today_follows_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86399")  # 1970-01-01 23:59:59 UTC
    assert today() == datetime.date(1970, 1, 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")  # 2025-01-01 00:00:00 UTC
    assert today() == datetime.date(2025, 1, 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(GovnetError):
        today()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert today() == datetime.date.today()
