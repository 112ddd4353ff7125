"""``govnet check`` end to end: every shipped scenario passes its packs in every phase, every planted
fault fails exactly the rule kind its header names, and the command's contract (exit codes, formats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli import cli
from policies import kinds  # noqa: F401  (registers the rule kinds)
from tests.helpers import run_cli, shipped_plans
from topology import load_plan

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
PLANS = shipped_plans()
FAULTS = sorted(SCENARIOS.glob("*/faults/*.yaml"))


def check(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["check", *args, "--format", "json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output) if result.output.strip().startswith("{") else {}


def failing(report: dict) -> list[str]:
    return [f"{r['rule']} ({r['kind']}): {r['message']}" for r in report["results"] if r["status"] == "fail"]


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.parent.name)
def test_scenario_passes_its_packs_in_every_phase(plan):
    code, report = check(str(plan), "--phase", "all", "--fail-on", "low")
    assert report["policies"], "every scenario declares the packs that apply to it"
    assert failing(report) == [], "\n".join(failing(report))
    assert code == 0


@pytest.mark.parametrize("fault", FAULTS, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_planted_fault_fails_exactly_its_expected_rules(fault):
    net = load_plan(fault)
    assert net.expect_fail, f"{fault} does not say (expect: fail:) which rules its fault breaks"
    code, report = check(str(fault))
    bad = [r for r in report["results"] if r["status"] == "fail"]
    assert sorted(r["rule"] for r in bad) == sorted(net.expect_fail), "\n".join(failing(report))
    assert all(r["evidence"] for r in bad), "every failure carries evidence"
    assert all(loc["line"] >= 1 for r in bad for e in r["evidence"] for loc in e["locations"])
    blocking = [r for r in bad if r["severity"] in ("high", "critical")]  # check's default --fail-on high
    assert code == (1 if blocking else 0)


# The faults and what they must break, written down by hand (the plans' own ``expect:`` must agree).
EXPECTED = {
    "chuxiong/clear-tunnel": ["EGOV-VPN-1"],
    "chuxiong/dual-homed": ["EGOV-APR-1", "EGOV-PI-2"],
    "chuxiong/firewall-hole": ["EGOV-LI-1"],
    "chuxiong/import-gateway": ["EGOV-APR-1", "EGOV-PI-2"],
    "chuxiong/portal-denied": ["DJ-NA-2", "EGOV-DEL-1"],
    "chuxiong/return-loop": ["EGOV-COV-1", "EGOV-DEL-1"],
    "chuxiong/secret-server": ["CLS-1"],
    "chuxiong/shadowed-rule": ["DJ-AC-2"],
    "chuxiong/side-link": ["EGOV-UC-1"],
    "chuxiong/static-leak": ["EGOV-VPN-1"],
    "chuxiong/thin-uplink": ["DJ-NA-2"],
    "chuxiong/vpn-no-esp": ["DJ-NA-2", "EGOV-COV-1", "EGOV-DEL-1"],
    "civil-affairs/clear-tunnel": ["EGOV-VPN-1"],
    "civil-affairs/dual-homed": ["EGOV-APR-1", "EGOV-PI-2"],
    "civil-affairs/firewall-hole": ["EGOV-LI-1"],
    "weihai/secret-on-intranet": ["CLS-1"],
}


def test_every_fault_is_listed_by_hand_with_what_it_breaks():
    shipped = {f"{p.parent.parent.name}/{p.stem}": sorted(load_plan(p).expect_fail or ()) for p in FAULTS}
    assert shipped == EXPECTED


def test_exit_codes_and_output_file(tmp_path):
    plan = SCENARIOS / "chuxiong" / "faults" / "side-link.yaml"
    # the fault breaks EGOV-UC-1 only, a high rule: blocking by default, not with --fail-on critical
    out = tmp_path / "report.sarif"
    done = run_cli("check", plan, "--policy", "egov-baseline", "--format", "sarif", "-o", out, "--fail-on", "critical")
    assert done.returncode == 0, done.stderr
    sarif = json.loads(out.read_text(encoding="utf-8"))
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "EGOV-UC-1"]
    assert results and results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("side-link.yaml")
    line = results[0]["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert "channel: false" in plan.read_text(encoding="utf-8").splitlines()[line - 1]
    assert run_cli("check", plan, "--policy", "egov-baseline").returncode == 1


def test_input_errors_exit_2(tmp_path):
    plan = SCENARIOS / "chuxiong" / "plan.yaml"
    bad_pack = run_cli("check", plan, "--policy", "egov-basline")
    assert bad_pack.returncode == 2 and "unknown policy pack 'egov-basline'" in bad_pack.stderr
    assert "did you mean 'egov-baseline'" in bad_pack.stderr
    code = CliRunner().invoke(cli, ["check", str(plan), "--phase", "三期", "--policy", "djbh-l3"]).exit_code
    assert code == 2
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {id: X, kind: physical_isolation, params: {domians: [x]}}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(plan), "--policy", str(rules)])
    assert result.exit_code == 2
    assert f"{rules}:2:" in result.output and "did you mean 'domains'" in result.output


# -- not applicable, waivers, the law, declined packs, selectors: the command's side ---------------

SMALL = """\
name: small
policies: [rules.yaml]
domains:
  内网: {kind: intranet, pool: 172.16.0.0/16}
  外网: {kind: extranet, pool: 10.53.0.0/16}
sites: {州: {level: prefecture}}
defaults: {node: {site: 州, domain: 外网}}
nodes:
  ecore: {role: core_router}
  ipc: {role: host, domain: 内网}
  icore: {role: core_router, domain: 内网}
links:
  - ipc -- icore
  - ipc -- ecore
"""
SMALL_RULES = """\
rules:
  - {id: PI-1, kind: physical_isolation, severity: critical, params: {domains: [kind:intranet], against: [kind:extranet]}}
  - {id: PP-1, kind: physical_isolation, params: {domains: [kind:party_private], against: ["*"]}}
"""
WAIVER = ("waivers:\n  - {rule: %s, scope: ipc, reason: 临时测试终端, approver: 市委保密局, document: 保密〔2024〕3号, "
          "expires: 2030-12-31}\n")


def small(tmp_path, extra: str = "", rules: str = SMALL_RULES) -> Path:
    from tests.helpers import write_plan

    write_plan(tmp_path, rules, "rules.yaml")
    return write_plan(tmp_path, SMALL + extra)


def test_a_waived_failure_exits_0_and_the_same_failure_without_it_exits_1(tmp_path):
    code, report = check(str(small(tmp_path / "bare")))
    assert code == 1 and report["summary"]["failed"] == 1 and report["summary"]["not_applicable"] == 1
    code, report = check(str(small(tmp_path / "waived", WAIVER % "PI-1")))
    assert code == 0
    assert report["summary"] == {"passed": 0, "failed": 0, "not_applicable": 1, "waived": 1, "blocking": 0}


def test_a_waiver_of_an_unknown_rule_exits_2_with_its_position(tmp_path):
    plan = small(tmp_path, WAIVER % "PI-2")
    line = (SMALL + WAIVER % "PI-2").splitlines().index((WAIVER % "PI-2").splitlines()[1]) + 1
    done = run_cli("check", plan)
    assert done.returncode == 2
    assert f"{plan}:{line}:5: error: waiver of rule 'PI-2', which is not among the rules checked " \
           "(did you mean 'PI-1'?)" in done.stderr


def test_with_policy_given_such_a_waiver_is_listed_as_unused(tmp_path):
    plan = small(tmp_path, WAIVER % "PI-2")
    result = CliRunner().invoke(cli, ["check", str(plan), "--policy", str(tmp_path / "rules.yaml")])
    assert result.exit_code == 1  # PI-1 fails: the unused waiver waives nothing
    assert "unused waiver: PI-2 is not among the rules checked; approved by 市委保密局" in result.output


def test_a_classified_domain_brings_the_classified_pack(tmp_path):
    plan = small(tmp_path).read_text(encoding="utf-8").replace(
        "内网: {kind: intranet, pool", "内网: {kind: intranet, clearance: 秘密, pool")
    (tmp_path / "plan.yaml").write_text(plan, encoding="utf-8")
    code, report = check(str(tmp_path / "plan.yaml"), "--policy", str(tmp_path / "rules.yaml"))
    assert report["policies"][-1] == "classified"
    assert report["added_policies"] == [{"pack": "classified", "reasons": ["domain 内网 is cleared for 秘密"]}]
    assert {"CLS-1", "CLS-2", "CLS-3", "CLS-4"} <= {r["rule"] for r in report["results"]}
    assert code == 1


def test_declining_the_classified_pack_of_a_classified_plan_exits_2(tmp_path):
    text = SMALL.replace("ipc: {role: host, domain: 内网}", "ipc: {role: host, domain: 内网, classification: 机密}")
    text += "declined_policies: {classified: 不涉密}\n"
    from tests.helpers import write_plan

    write_plan(tmp_path, SMALL_RULES, "rules.yaml")
    plan = write_plan(tmp_path, text)
    result = CliRunner().invoke(cli, ["check", str(plan)])
    assert result.exit_code == 2
    assert f"{plan}:{len(text.splitlines())}:21: error: the plan declines the pack 'classified'" in result.output


def test_policy_file_selector_typos_exit_2_with_position_and_suggestion(tmp_path):
    plan = small(tmp_path, rules=SMALL_RULES.replace("[kind:intranet]", "[kindd:intranet]"))
    result = CliRunner().invoke(cli, ["check", str(plan)])
    assert result.exit_code == 2
    column = SMALL_RULES.splitlines()[1].index("kind:intranet") + 1
    assert f"rules.yaml:2:{column}: error: rules.0.params.domains.0: unknown domain selector 'kindd:intranet' " \
           "(did you mean 'kind:intranet'?)" in result.output
    plan = small(tmp_path / "name", rules=SMALL_RULES.replace("[kind:extranet]", "[外网二]"))
    result = CliRunner().invoke(cli, ["check", str(plan)])
    assert result.exit_code == 2
    assert "rules.yaml:2:" in result.output and "rule PI-1: no domain '外网二' in the plan" in result.output
    assert "did you mean '外网'?" in result.output
