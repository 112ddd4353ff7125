"""Report writers: text for people, JSON for tools, JUnit for CI, SARIF for code review.

Every writer is deterministic: the same runs give byte-identical output (no
clocks, no host names, stable ordering), so reports can be committed and
diffed.

- **text**: one line per rule, failures first (most severe first), each
  followed by its evidence in plain words and the plan line it points at;
- **json**: ``summary`` (``passed``, ``failed``) and ``results``, each with
  ``rule``, ``kind``, ``severity``, ``status``, ``message``, ``evidence``;
- **junit**: one test case per rule (and phase), failures with the evidence;
- **sarif** (2.1.0): one result per piece of evidence, located at the YAML
  file and line of the offending node or link, so review tools annotate it.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath
from typing import Any

from topology.errors import Mark

from .engine import CheckRun, blocking
from .model import Evidence, RuleResult

TOOL_URI = "https://github.com/govnet/govnet"
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _status_order(result: RuleResult, index: int) -> tuple:
    return (0 if result.failed_ else 1, -result.rule.severity_rank(), index)


def ordered(results: tuple[RuleResult, ...] | list[RuleResult]) -> list[RuleResult]:
    """Failures first, most severe first; otherwise the policy order."""
    return [r for _, r in sorted(enumerate(results), key=lambda p: _status_order(p[1], p[0]))]


def _where(mark: Mark) -> str:
    return f"{display_path(mark.file)}:{mark.line}:{mark.col}"


def display_path(file: str) -> str:
    """A file name relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(file)
    except ValueError:
        return file
    return file if rel.startswith("..") else rel


# -- text ------------------------------------------------------------------------

def to_text(runs: list[CheckRun], fail_on: str = "high") -> str:
    lines: list[str] = []
    if runs:
        first = runs[0]
        lines.append(f"govnet check: {first.name} ({display_path(first.plan)}); policies: {', '.join(first.policies)}")
    total_failed = total_passed = 0
    for run in runs:
        if run.phase is not None:
            lines.append(f"phase {run.phase}:")
        indent = "  " if run.phase is not None else ""
        for result in ordered(run.results):
            rule = result.rule
            tag = "FAIL" if result.failed_ else "pass"
            lines.append(f"{indent}{tag} [{rule.severity}] {rule.id} ({rule.kind}): {result.message}")
            if result.failed_ or result.evidence:
                for ev in result.evidence:
                    at = f" (at {_where(ev.marks[0])})" if ev.marks else ""
                    lines.append(f"{indent}    - {ev.summary}{at}")
                if result.failed_ and rule.clause:
                    lines.append(f"{indent}    rule: {rule.description or rule.id} [{rule.clause}]")
        failed = len(run.failed)
        total_failed += failed
        total_passed += len(run.results) - failed
    block = sum(len(blocking(run.results, fail_on)) for run in runs)
    lines.append(f"{total_passed + total_failed} rule checks: {total_failed} failed "
                 f"({block} at or above {fail_on}), {total_passed} passed")
    return "\n".join(lines) + "\n"


# -- json ------------------------------------------------------------------------

def _mark_json(mark: Mark) -> dict[str, Any]:
    return {"file": display_path(mark.file), "line": mark.line, "col": mark.col}


def evidence_json(ev: Evidence) -> dict[str, Any]:
    return {"kind": ev.kind, "summary": ev.summary, "data": _plain(ev.data),
            "locations": [_mark_json(m) for m in ev.marks]}


def result_json(result: RuleResult, phase: str | None) -> dict[str, Any]:
    rule = result.rule
    out = {
        "rule": rule.id,
        "kind": rule.kind,
        "severity": rule.severity,
        "status": result.status,
        "message": result.message,
        "evidence": [evidence_json(e) for e in result.evidence],
        "clause": rule.clause,
        "description": rule.description,
        "policy": rule.pack,
    }
    if phase is not None:
        out["phase"] = phase
    return out


def to_json_data(runs: list[CheckRun], fail_on: str = "high") -> dict[str, Any]:
    results = [result_json(r, run.phase) for run in runs for r in run.results]
    failed = sum(1 for r in results if r["status"] == "fail")
    first = runs[0] if runs else None
    return {
        "plan": display_path(first.plan) if first else None,
        "name": first.name if first else None,
        "policies": list(first.policies) if first else [],
        "phases": [run.phase for run in runs] if any(run.phase is not None for run in runs) else None,
        "fail_on": fail_on,
        "summary": {"passed": len(results) - failed, "failed": failed,
                    "blocking": sum(len(blocking(run.results, fail_on)) for run in runs)},
        "results": results,
    }


def to_json(runs: list[CheckRun], fail_on: str = "high") -> str:
    return json.dumps(to_json_data(runs, fail_on), ensure_ascii=False, indent=2) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mark):
        return _mark_json(value)
    to_json_method = getattr(value, "to_json", None)
    if callable(to_json_method):
        return _plain(to_json_method())
    return str(value)


# -- junit -----------------------------------------------------------------------

def failure_text(result: RuleResult) -> str:
    lines = [result.message]
    for ev in result.evidence:
        at = f" (at {_where(ev.marks[0])})" if ev.marks else ""
        lines.append(f"- {ev.summary}{at}")
    if result.rule.clause:
        lines.append(f"rule: {result.rule.description or result.rule.id} [{result.rule.clause}]")
    return "\n".join(lines)


def to_junit(runs: list[CheckRun], fail_on: str = "high") -> str:
    suites = ET.Element("testsuites", name="govnet check")
    total = failures = 0
    for run in runs:
        name = run.name + (f" [{run.phase}]" if run.phase else "")
        failed = run.failed
        suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(run.results)),
                              failures=str(len(failed)), errors="0", skipped="0")
        total += len(run.results)
        failures += len(failed)
        for result in run.results:
            case = ET.SubElement(suite, "testcase", classname=display_path(run.plan),
                                 name=result.rule.id + (f"[{run.phase}]" if run.phase else ""))
            case.set("file", display_path(run.plan))
            if result.failed_:
                first = next((e.marks[0] for e in result.evidence if e.marks), None)
                if first is not None:
                    case.set("line", str(first.line))
                node = ET.SubElement(case, "failure", message=result.message, type=result.rule.severity)
                node.text = failure_text(result)
            else:
                out = ET.SubElement(case, "system-out")
                out.text = result.message
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# -- sarif -----------------------------------------------------------------------

def _uri(file: str) -> str:
    shown = display_path(file)
    if os.path.isabs(shown):
        return Path(shown).as_uri()
    return str(PurePosixPath(*Path(shown).parts))


def _location(mark: Mark, message: str | None = None, index: int | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": {"uri": _uri(mark.file)},
        "region": {"startLine": max(1, mark.line), "startColumn": max(1, mark.col)},
    }}
    if index is not None:
        loc["id"] = index
    if message:
        loc["message"] = {"text": message}
    return loc


def to_sarif(runs: list[CheckRun], fail_on: str = "high", version: str = "0") -> str:
    rules: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    results: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for run in runs:
        for result in run.results:
            rule = result.rule
            if rule.id not in rules:
                order.append(rule.id)
                rules[rule.id] = {
                    "id": rule.id,
                    "name": rule.kind,
                    "shortDescription": {"text": _first_sentence(rule.description) or f"{rule.kind} rule {rule.id}"},
                    "fullDescription": {"text": f"{rule.description} [{rule.clause}]".strip()},
                    "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
                    "properties": {"severity": rule.severity, "clause": rule.clause, "kind": rule.kind,
                                   "policy": rule.pack or ""},
                }
            if not result.failed_:
                continue
            phase = f" (phase {run.phase})" if run.phase else ""
            items = list(result.evidence) or [Evidence("rule", result.message, {}, ())]
            for ev in items:
                marks = ev.marks or (Mark(run.plan, 1, 1),)
                text = f"{rule.id}: {ev.summary}{phase}"
                key = (rule.id, marks[0], ev.summary)
                if key in seen:
                    continue
                seen.add(key)
                entry: dict[str, Any] = {
                    "ruleId": rule.id,
                    "level": SARIF_LEVEL[rule.severity],
                    "message": {"text": f"{text}. {result.message}"},
                    "locations": [_location(marks[0])],
                    "partialFingerprints": {"govnet/v1": f"{rule.id}:{_uri(marks[0].file)}:{marks[0].line}:{ev.kind}"},
                    "properties": {"severity": rule.severity, "evidenceKind": ev.kind},
                }
                related = [_location(m, None, i + 1) for i, m in enumerate(marks[1:])]
                if related:
                    entry["relatedLocations"] = related
                results.append(entry)
    for entry in results:
        entry["ruleIndex"] = order.index(entry["ruleId"])
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "govnet", "version": version, "informationUri": TOOL_URI,
                                "rules": [rules[i] for i in order]}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(sarif, ensure_ascii=False, indent=2) + "\n"


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + "." if sep else text


def render(runs: list[CheckRun], fmt: str, fail_on: str = "high", version: str = "0") -> str:
    if fmt == "json":
        return to_json(runs, fail_on)
    if fmt == "junit":
        return to_junit(runs, fail_on)
    if fmt == "sarif":
        return to_sarif(runs, fail_on, version)
    return to_text(runs, fail_on)


