"""``govnet check`` end to end: every shipped scenario passes its packs in every phase, every planted
fault fails exactly the rule kind its header names, and the command's contract (exit codes, formats)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli import cli
from policies import kinds  # noqa: F401  (registers the rule kinds)
from policies.registry import RULE_KINDS
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
PLANS = sorted(SCENARIOS.glob("*/plan.yaml"))
FAULTS = sorted(SCENARIOS.glob("*/faults/*.yaml"))
PLANTED = re.compile(r"must fail rule kind:\s*([a-z_]+)")


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
def test_planted_fault_fails_exactly_its_rule(fault):
    found = PLANTED.search(fault.read_text(encoding="utf-8")[:2000])
    assert found, f"{fault} does not say which rule kind it plants a fault for"
    kind = found.group(1)
    if kind not in RULE_KINDS:
        pytest.skip(f"rule kind '{kind}' is not registered")
    code, report = check(str(fault))
    assert any(r["kind"] == kind for r in report["results"]), f"the plan's packs have no {kind} rule"
    bad = [r for r in report["results"] if r["status"] == "fail"]
    assert bad, f"{fault.name}: no rule failed"
    assert {r["kind"] for r in bad} == {kind}, "\n".join(failing(report))
    assert all(r["evidence"] for r in bad), "every failure carries evidence"
    assert all(loc["line"] >= 1 for r in bad for e in r["evidence"] for loc in e["locations"])
    assert code == 1


def test_exit_codes_and_output_file(tmp_path):
    plan = SCENARIOS / "chuxiong" / "faults" / "side-link.yaml"
    # a unified-channel failure is high: blocking by default, not with --fail-on critical
    out = tmp_path / "report.sarif"
    done = run_cli("check", plan, "--policy", "egov-baseline", "--format", "sarif", "-o", out, "--fail-on", "critical")
    sarif = json.loads(out.read_text(encoding="utf-8"))
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "EGOV-UC-1"]
    assert results and results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("side-link.yaml")
    line = results[0]["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert "channel: false" in plan.read_text(encoding="utf-8").splitlines()[line - 1]
    assert done.returncode == (1 if any(r["level"] == "error" and r["ruleId"] != "EGOV-UC-1"
                                        and r["properties"]["severity"] == "critical"
                                        for r in sarif["runs"][0]["results"]) else 0), done.stderr


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
