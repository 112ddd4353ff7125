"""Reports (text, JSON, JUnit, SARIF) and phase-by-phase checking."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET

from policies.engine import blocking, check_plan, phase_views
from policies.loader import resolve_policies
from policies.report import render, to_json_data

from .common import load, plan

PHASED = plan("""\
phases: {一期: {}, 二期: {}}
nodes:
  pcore: {role: core_router}
  acore: {role: core_router, site: 县A}
  a1: {role: host, site: 县A}
  ipc: {role: host, domain: intra}
  icore: {role: core_router, domain: intra}
links:
  - a1 -- acore
  - {a: acore, b: pcore, phase: 二期}
  - ipc -- icore
  - {a: ipc, b: pcore, phase: 二期}
""")
POLICY = """\
rules:
  - id: R-PI
    kind: physical_isolation
    severity: critical
    clause: 中办发〔2002〕17号
    description: The intranet and the extranet share no cable.
    params: {domains: [kind:intranet], against: [kind:extranet]}
  - id: R-COV
    kind: coverage
    severity: medium
    clause: 横向到边, 纵向到底
    params: {domains: [kind:extranet], needs: []}
  - id: R-UC
    kind: unified_channel
    severity: low
"""


def runs_for(tmp_path, phase=None, name="plan.yaml"):
    net = load(tmp_path, PHASED, name)
    (tmp_path / "rules.yaml").write_text(POLICY, encoding="utf-8")
    policies = resolve_policies([str(tmp_path / "rules.yaml")])
    return net, check_plan(net, policies, phase)


def test_phases_are_checked_on_their_own(tmp_path):
    net, runs = runs_for(tmp_path, "all")
    assert [r.phase for r in runs] == ["一期", "二期"]
    status = {(r.phase, x.rule.id): x.status for r in runs for x in r.results}
    # phase 1: the county is not yet joined (coverage fails) and the intranet PC is not yet cabled to the extranet
    assert status[("一期", "R-COV")] == "fail" and status[("一期", "R-PI")] == "pass"
    assert status[("二期", "R-COV")] == "pass" and status[("二期", "R-PI")] == "fail"
    assert [r.phase for r in check_plan(net, resolve_policies([str(tmp_path / "rules.yaml")]), "一期")] == ["一期"]
    assert [p for p, _ in phase_views(net, None)] == [None]


def test_fail_on_threshold(tmp_path):
    _, runs = runs_for(tmp_path, "一期")
    assert blocking(runs[0].results, "high") == []  # only the medium coverage rule fails in phase 1
    assert [r.rule.id for r in blocking(runs[0].results, "medium")] == ["R-COV"]


def test_json_contract(tmp_path):
    _, runs = runs_for(tmp_path)
    data = json.loads(render(runs, "json"))
    assert data["summary"] == {"passed": 2, "failed": 1, "not_applicable": 0, "waived": 0, "blocking": 1}
    by_rule = {r["rule"]: r for r in data["results"]}
    assert set(by_rule) == {"R-PI", "R-COV", "R-UC"}
    pi = by_rule["R-PI"]
    assert {"rule", "kind", "severity", "status", "message", "evidence"} <= set(pi)
    assert pi["kind"] == "physical_isolation" and pi["severity"] == "critical" and pi["status"] == "fail"
    (ev,) = pi["evidence"]
    assert ev["kind"] == "path" and ev["locations"][0]["line"] == PHASED.splitlines().index(
        "  - {a: ipc, b: pcore, phase: 二期}") + 1


def test_reports_are_byte_identical_across_runs(tmp_path):
    outputs = []
    for i in range(2):
        _, runs = runs_for(tmp_path, "all", f"plan{i}.yaml")
        outputs.append({fmt: render(runs, fmt).replace(f"plan{i}.yaml", "plan.yaml")
                        for fmt in ("text", "json", "junit", "sarif")})
    assert outputs[0] == outputs[1]


def test_text_lists_failures_first_with_evidence(tmp_path):
    _, runs = runs_for(tmp_path)
    lines = render(runs, "text").splitlines()
    rule_lines = [l for l in lines if l.startswith(("FAIL", "pass"))]
    assert [l.split()[0] for l in rule_lines] == ["FAIL", "pass", "pass"]
    assert rule_lines[0].startswith("FAIL [critical] R-PI")
    evidence = lines[lines.index(rule_lines[0]) + 1]
    assert "ipc" in evidence and "pcore" in evidence and "plan.yaml:" in evidence


def test_junit(tmp_path):
    _, runs = runs_for(tmp_path, "all")
    root = ET.fromstring(render(runs, "junit"))
    assert root.get("tests") == "6" and root.get("failures") == "2"
    cases = root.findall(".//testcase")
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["R-COV[一期]", "R-PI[二期]"]


def test_sarif_points_at_the_offending_line(tmp_path):
    _, runs = runs_for(tmp_path)
    sarif = json.loads(render(runs, "sarif"))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    (result,) = run["results"]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "R-PI"
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("plan.yaml")
    assert "\\\\" not in location["artifactLocation"]["uri"]
    line = PHASED.splitlines()[location["region"]["startLine"] - 1]
    assert "ipc" in line and "pcore" in line


def test_json_data_summary_counts_every_phase(tmp_path):
    _, runs = runs_for(tmp_path, "all")
    data = to_json_data(runs)
    assert data["phases"] == ["一期", "二期"]
    assert data["summary"]["failed"] == 2 and all("phase" in r for r in data["results"])


# -- the four statuses, kept apart in every format -------------------------------------------------

STATUS_PLAN = plan("""\
policies: [statuses.yaml]
nodes:
  pcore: {role: core_router}
  a1: {role: host, site: 县A}
  b1: {role: host, site: 县B}
  ipc: {role: host, domain: intra}
  icore: {role: core_router, domain: intra}
links:
  - a1 -- pcore
  - b1 -- pcore
  - a1 -- b1
  - ipc -- icore
  - ipc -- pcore
waivers:
  - {rule: S-UC, scope: "site:县A", reason: 县际专线改造中, approver: 州网管中心, document: 楚电政〔2024〕12号, expires: 2030-06-30}
""")
STATUS_RULES = """\
rules:
  - {id: S-PI, kind: physical_isolation, severity: critical, params: {domains: [kind:intranet], against: [kind:extranet]}}
  - {id: S-UC, kind: unified_channel, severity: high}
  - {id: S-PP, kind: physical_isolation, severity: critical, params: {domains: [kind:party_private], against: ["*"]}}
  - {id: S-ZA, kind: zone_addressing, severity: medium, params: {domains: [kind:extranet]}}
"""
PP_WHY = "the plan has no network matching kind:party_private"


def status_runs(tmp_path):
    from policies.loader import select_policies

    (tmp_path / "statuses.yaml").write_text(STATUS_RULES, encoding="utf-8")
    net = load(tmp_path, STATUS_PLAN)
    return check_plan(net, select_policies(net), on=datetime.date(2025, 1, 1))


def test_text_counts_not_applicable_and_waived_apart(tmp_path):
    lines = render(status_runs(tmp_path), "text").splitlines()
    tags = [l.split(" [")[0] for l in lines if l.startswith(("FAIL", "pass", "n/a", "waived"))]
    assert tags == ["FAIL", "waived", "pass", "n/a "]
    assert f"n/a  [critical] S-PP (physical_isolation): {PP_WHY}" in lines
    waived = next(l for l in lines if l.startswith("waived"))
    assert waived.startswith("waived [high] S-UC (unified_channel): 1 link outside the unified network channel")
    assert any(l.startswith("    waiver of S-UC applied: approved by 州网管中心 (document 楚电政〔2024〕12号), until "
                            "2030-06-30, scope site:县A: 县际专线改造中; covers finding 1 of 1 (at ") for l in lines)
    assert lines[-1] == (f"4 rule checks: 1 failed (1 at or above high), 1 passed, 1 not applicable (S-PP: {PP_WHY}), "
                         "1 waived")


def test_json_counts_each_status_and_lists_the_waiver(tmp_path):
    data = json.loads(render(status_runs(tmp_path), "json"))
    assert data["summary"] == {"passed": 1, "failed": 1, "not_applicable": 1, "waived": 1, "blocking": 1}
    assert data["not_applicable"] == [f"S-PP: {PP_WHY}"]
    by_rule = {r["rule"]: r for r in data["results"]}
    assert [by_rule[i]["status"] for i in ("S-PI", "S-UC", "S-PP", "S-ZA")] == [
        "fail", "waived", "not_applicable", "pass"]
    (waiver,) = by_rule["S-UC"]["waivers"]
    assert {k: waiver[k] for k in ("rule", "scope", "reason", "approver", "document", "expires", "expired", "covers")} == {
        "rule": "S-UC", "scope": "site:县A", "reason": "县际专线改造中", "approver": "州网管中心",
        "document": "楚电政〔2024〕12号", "expires": "2030-06-30", "expired": False, "covers": [1]}
    assert waiver["findings"] == [by_rule["S-UC"]["evidence"][0]["summary"]]
    assert by_rule["S-UC"]["evidence"][0]["subjects"] == ["a1", "b1"]


def test_junit_skips_what_did_not_apply_and_what_is_waived(tmp_path):
    root = ET.fromstring(render(status_runs(tmp_path), "junit"))
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "2")
    assert root.get("skipped") == "2"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    skipped = cases["S-PP"].find("skipped")
    assert skipped.get("type") == "not_applicable" and skipped.get("message") == PP_WHY
    waived = cases["S-UC"].find("skipped")
    assert waived.get("type") == "waived" and waived.get("message").startswith("waived: 1 link outside")
    assert "approved by 州网管中心" in waived.text
    assert cases["S-PI"].find("failure") is not None and cases["S-ZA"].find("skipped") is None


def test_sarif_marks_not_applicable_and_suppresses_waived_findings(tmp_path):
    sarif = json.loads(render(status_runs(tmp_path), "sarif"))
    waiver_line = next(i for i, l in enumerate(STATUS_PLAN.splitlines(), 1) if l.startswith("  - {rule: S-UC"))
    results = sarif["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert set(by_rule) == {"S-PI", "S-UC", "S-PP"}  # a pass gives no result
    na = by_rule["S-PP"]
    assert (na["kind"], na["level"]) == ("notApplicable", "none") and PP_WHY in na["message"]["text"]
    assert by_rule["S-UC"]["suppressions"] == [{
        "kind": "external", "status": "accepted", "justification": "县际专线改造中",
        "properties": {"rule": "S-UC", "scope": "site:县A", "approver": "州网管中心", "document": "楚电政〔2024〕12号",
                       "expires": "2030-06-30", "location": f"{tmp_path / 'plan.yaml'}:{waiver_line}:5"}}]
    assert "suppressions" not in by_rule["S-PI"] and "kind" not in by_rule["S-PI"]


def test_a_waived_failure_does_not_block(tmp_path):
    runs = status_runs(tmp_path)
    assert [r.rule.id for r in blocking(runs[0].results, "low")] == ["S-PI"]
