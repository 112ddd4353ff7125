"""``govnet check --format github|gitlab`` end to end: the CLI as CI runs it, from the repository's root."""

from __future__ import annotations

import json
import re

from tests.helpers import REPO, SCENARIOS, run_cli

FAULT = SCENARIOS / "chuxiong" / "faults" / "firewall-hole.yaml"
COMMAND = re.compile(r"::(error|warning) file=[^,:]+,line=\d+,col=\d+,title=[^,:]+::.+")


def test_github_format_on_the_fault_exits_1_with_workflow_commands():
    done = run_cli("check", FAULT.relative_to(REPO), "--format", "github", cwd=REPO)
    assert done.returncode == 1, done.stderr
    *commands, summary = done.stdout.splitlines()
    assert commands and all(COMMAND.fullmatch(line) for line in commands), done.stdout
    assert any(line.startswith("::error file=scenarios/chuxiong/faults/firewall-hole.yaml,")
               and ",title=EGOV-LI-1::" in line for line in commands), done.stdout
    assert summary.startswith("govnet: ") and "1 failed (1 at or above high)" in summary


def test_gitlab_format_on_the_fault_exits_1_and_writes_a_code_quality_report(tmp_path):
    out = tmp_path / "gl-code-quality-report.json"
    done = run_cli("check", FAULT.relative_to(REPO), "--format", "gitlab", "-o", out, cwd=REPO)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    report = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(report, list) and report
    assert all(set(issue) == {"description", "check_name", "fingerprint", "severity", "location"} for issue in report)
    li = [issue for issue in report if issue["check_name"] == "EGOV-LI-1"]
    assert [issue["severity"] for issue in li] == ["blocker"] * len(li) and li
    assert li[0]["location"]["path"] == "scenarios/chuxiong/faults/firewall-hole.yaml"
    assert li[0]["location"]["lines"]["begin"] >= 1
