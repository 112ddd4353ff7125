"""The CI formats (``policies.ci_formats``): GitHub workflow commands and GitLab Code Quality JSON.

The GitHub lines are read back with a parser written here from GitHub's description of workflow commands
(``::LEVEL prop=value,...::message``, the toolkit's escapes undone in one pass), not with the writer's own code;
the GitLab report is validated against a JSON Schema written here from GitLab's documented Code Quality format.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from govnet.commands.check import check
from govnet.commands.diff import diff
from policies.ci_formats import (
    GITLAB_SEVERITY,
    Annotation,
    annotations_of,
    ci_report,
    github_line,
    github_lines,
    gitlab_json,
)
from policies.engine import CheckRun, check_plan
from policies.loader import policies_to_check
from policies.model import Evidence, PolicyRule, RuleResult
from tests.helpers import REPO, SCENARIOS
from topology import load_plan
from topology.errors import Mark

FAULT = SCENARIOS / "chuxiong" / "faults" / "firewall-hole.yaml"
COMPLIANT = SCENARIOS / "chuxiong" / "plan.yaml"

# -- an independent reader of workflow commands -----------------------------------

COMMAND = re.compile(r"::(?P<level>[a-z]+) (?P<props>[^:]*)::(?P<message>.*)", re.DOTALL)
DATA_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n"}
PROPERTY_ESCAPES = {**DATA_ESCAPES, "%3A": ":", "%2C": ","}


def _unescape(text: str, table: dict[str, str]) -> str:
    pattern = "|".join(re.escape(k) for k in table)
    return re.sub(pattern, lambda m: table[m.group()], text)


def parse_command(line: str) -> dict[str, str]:
    """``{"level", "message", and each property}`` of one workflow command line, unescaped."""
    assert "\n" not in line and "\r" not in line, line
    m = COMMAND.fullmatch(line)
    assert m, f"not a workflow command: {line!r}"
    out = {"level": m["level"], "message": _unescape(m["message"], DATA_ESCAPES)}
    for prop in m["props"].split(","):
        key, sep, value = prop.partition("=")
        assert sep, f"property without '=': {prop!r} in {line!r}"
        assert key not in out, f"property {key} given twice in {line!r}"
        out[key] = _unescape(value, PROPERTY_ESCAPES)
    return out


# -- GitLab's Code Quality format, as documented -----------------------------------
# https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format: a JSON array of objects with
# description, check_name, fingerprint, severity (info, minor, major, critical, blocker) and location.path with
# location.lines.begin (or location.positions.begin.line).

CODE_QUALITY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1}}},
                    "positions": {"type": "object", "required": ["begin"],
                                  "properties": {"begin": {"type": "object", "required": ["line"],
                                                           "properties": {"line": {"type": "integer", "minimum": 1}}}}},
                },
                "anyOf": [{"required": ["lines"]}, {"required": ["positions"]}],
            },
        },
    },
}


# -- the runs, computed once, paths relative to the repository's root (where CI runs govnet) ----------

def _check(plan: Path) -> list[CheckRun]:
    net = load_plan(plan)
    return check_plan(net, policies_to_check(net, ()))


def _reports(plan: Path) -> tuple[list[CheckRun], list[Annotation], str, str]:
    runs = _check(plan)
    with contextlib.chdir(REPO):
        return runs, annotations_of(runs), ci_report(runs, "github"), ci_report(runs, "gitlab")


@pytest.fixture(scope="module")
def fault() -> tuple[list[CheckRun], list[Annotation], str, str]:
    return _reports(FAULT)


@pytest.fixture(scope="module")
def compliant() -> tuple[list[CheckRun], list[Annotation], str, str]:
    return _reports(COMPLIANT)


def test_every_github_line_parses_and_points_at_a_real_line(fault):
    runs, notes, github, _ = fault
    *commands, summary = github.splitlines()
    assert len(commands) == len(notes) >= 1
    parsed = [parse_command(line) for line in commands]
    for entry in parsed:
        assert entry["level"] in ("error", "warning")
        assert set(entry) == {"level", "message", "file", "line", "col", "title"}
        path = REPO / entry["file"]
        assert not Path(entry["file"]).is_absolute() and path.is_file(), entry
        lines = path.read_text(encoding="utf-8").splitlines()
        line, col = int(entry["line"]), int(entry["col"])
        assert 1 <= line <= len(lines), entry
        assert lines[line - 1].strip() and 1 <= col <= len(lines[line - 1]), entry
    # the planted fault: EGOV-LI-1 fails, an error at the YAML line its first piece of evidence blames
    li = next(r for r in runs[0].results if r.rule.id == "EGOV-LI-1")
    assert li.failed_
    blamed = li.evidence[0].marks[0]
    errors = [e for e in parsed if e["title"] == "EGOV-LI-1"]
    assert [e["level"] for e in errors] == ["error"] * len(errors) and errors
    assert (REPO / errors[0]["file"]).resolve() == Path(blamed.file).resolve()
    assert (int(errors[0]["line"]), int(errors[0]["col"])) == (blamed.line, blamed.col)
    assert li.evidence[0].summary in errors[0]["message"]
    # errors are the critical and high failures, and come first
    assert {n.rule_id for n in notes if not n.waived and n.severity in ("critical", "high")} == \
           {e["title"] for e in parsed if e["level"] == "error"}
    levels = [e["level"] for e in parsed]
    assert levels == sorted(levels)  # "error" < "warning"
    # a waived failure is a warning that says so; the summary is not a command
    assert all(e["level"] == "warning" and e["message"].split(": ", 1)[1].startswith("waived until")
               for e in parsed if e["title"] == "DJ-NA-5")
    assert not summary.startswith("::") and summary.startswith("govnet: ") and "1 failed" in summary


def test_gitlab_report_follows_the_documented_format_with_stable_unique_fingerprints(fault):
    _, notes, _, gitlab = fault
    report = json.loads(gitlab)
    jsonschema.Draft202012Validator.check_schema(CODE_QUALITY_SCHEMA)
    jsonschema.validate(report, CODE_QUALITY_SCHEMA, cls=jsonschema.Draft202012Validator)
    assert len(report) == len(notes)
    fingerprints = [issue["fingerprint"] for issue in report]
    assert len(set(fingerprints)) == len(fingerprints)
    assert all(re.fullmatch("[0-9a-f]{64}", f) for f in fingerprints)
    by_rule = {issue["check_name"]: issue for issue in report}
    assert by_rule["EGOV-LI-1"]["severity"] == GITLAB_SEVERITY["critical"] == "blocker"
    assert by_rule["DJ-NA-5"]["severity"] == "info"  # waived
    for issue in report:
        assert (REPO / issue["location"]["path"]).is_file()
    # a second, independent run gives the same bytes, so the same fingerprints
    _, _, _, again = _reports(FAULT)
    assert again == gitlab


def test_a_compliant_plan_gives_no_error(compliant):
    runs, _, github, gitlab = compliant
    assert not any(r.failed_ for run in runs for r in run.results)
    assert "::error" not in github
    assert all(parse_command(line)["level"] == "warning" for line in github.splitlines()[:-1])
    report = json.loads(gitlab)
    jsonschema.validate(report, CODE_QUALITY_SCHEMA, cls=jsonschema.Draft202012Validator)
    assert all(issue["severity"] == "info" for issue in report)  # only waived findings, if any


def test_output_does_not_depend_on_the_order_of_the_records(fault):
    _, notes, _, _ = fault
    reordered = list(reversed(notes))
    assert github_lines(reordered) == github_lines(notes)
    assert gitlab_json(reordered) == gitlab_json(notes)


# -- escaping ------------------------------------------------------------------------

# pieces GitHub's escapes are about (and text that looks escaped already), among any characters
TRICKY = st.lists(st.one_of(st.sampled_from(["%", ":", ",", "\n", "\r", "\r\n", "=", "::", "%25", "%0A", "%3A", "%2C", " "]),
                            st.characters()), max_size=20).map("".join)


@given(path=TRICKY, rule_id=TRICKY, title=TRICKY, message=TRICKY,
       line=st.integers(1, 10**6), column=st.integers(1, 10**4), severity=st.sampled_from(list(GITLAB_SEVERITY)),
       waived=st.booleans())
def test_escaping_round_trips(path, rule_id, title, message, line, column, severity, waived):
    note = Annotation(path=path, line=line, column=column, severity=severity, rule_id=rule_id, title=title,
                      message=message, waived=waived)
    text = github_line(note)
    entry = parse_command(text)
    assert entry == {"level": "warning" if waived or severity in ("medium", "low") else "error",
                     "file": path, "line": str(line), "col": str(column), "title": rule_id, "message": note.text}
    issue = json.loads(gitlab_json([note]))[0]
    assert (issue["check_name"], issue["location"]["path"], issue["location"]["lines"]["begin"]) == (rule_id, path, line)
    # the summary line is never a command, whatever it is given
    assert not github_lines([note], message).splitlines()[-1].startswith("::")


# -- where a finding without marks points -------------------------------------------------

def test_a_finding_without_marks_points_at_the_rule_then_at_the_plan(tmp_path):
    written = PolicyRule(id="R-1", kind="coverage", severity="medium", mark=Mark(str(tmp_path / "rules.yaml"), 7, 5))
    bare = PolicyRule(id="R-2", kind="coverage", severity="low")
    results = (RuleResult.failed(written, "cut off", [Evidence("node", "unit u is cut off")]),
               RuleResult.failed(bare, "no evidence at all", []))
    run = CheckRun(plan=str(tmp_path / "plan.yaml"), name="p", phase=None, policies=("local",), results=results)
    with contextlib.chdir(tmp_path):
        notes = annotations_of([run])
    assert [(n.rule_id, n.path, n.line, n.column, n.severity) for n in notes] == [
        ("R-1", "rules.yaml", 7, 5, "medium"), ("R-2", "plan.yaml", 1, 1, "low")]
    assert notes[1].message == "no evidence at all"


def test_a_bad_record_is_refused():
    with pytest.raises(ValueError, match="severity"):
        Annotation("p.yaml", 1, 1, "severe", "R", "", "m")
    with pytest.raises(ValueError, match="start at 1"):
        Annotation("p.yaml", 0, 1, "low", "R", "", "m")


# -- the README's CI jobs -------------------------------------------------------------

def test_the_readme_jobs_are_yaml_and_run_check_from_the_root_with_a_ci_format():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## CI annotations\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2
    jobs = [yaml.safe_load(block) for block in blocks]
    github_steps = jobs[0]["jobs"]["check"]["steps"]
    gitlab_script = jobs[1]["govnet-check"]["script"]
    commands = [s["run"] for s in github_steps if "govnet check" in s.get("run", "")] + \
               [line for line in gitlab_script if "govnet check" in line]
    assert len(commands) == 2
    for command, fmt in zip(commands, ("github", "gitlab")):
        args = shlex.split(command)[2:]
        ctx = check.make_context("check", args)  # the options parse as check's
        assert ctx.params["fmt"] == fmt and ctx.params["plan"] is not None
    assert jobs[1]["govnet-check"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert "gl-code-quality-report.json" in gitlab_script[-1]
    # the diff steps compare with the merge base of origin/main, and their options parse as diff's
    diffs = [s["run"] for s in github_steps if "govnet diff" in s.get("run", "")] + \
            [line for line in jobs[1]["govnet-diff"]["script"] if "govnet diff" in line]
    assert len(diffs) == 2
    for command in diffs:
        assert '"$(git merge-base origin/main HEAD)":scenarios/x/plan.yaml scenarios/x/plan.yaml' in command
        args = shlex.split(command.replace('"$(git merge-base origin/main HEAD)"', "BASE"))[2:]
        assert diff.make_context("diff", args).params["old"] == "BASE:scenarios/x/plan.yaml"
    assert jobs[1]["govnet-diff"]["variables"]["GIT_DEPTH"] == 0
