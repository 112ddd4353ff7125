"""Report writers: text for people, JSON for tools, JUnit for CI, SARIF for code review.

Every writer is deterministic: the same runs give byte-identical output (no
clocks, no host names, stable ordering), so reports can be committed and
diffed. Every writer keeps the four statuses apart (pass, fail, not
applicable, waived), says which packs the law added and why, which packs the
plan declines, and each waiver: rule, scope, reason, approver, document,
expiry and the findings it covers.

- **text** (check's own words in English or Chinese, ``lang``, from
  :mod:`policies.i18n`; English is the default and what tools may parse):
  one line per rule, failures first (most severe first), then
  waived failures, passes, and rules that did not apply (``n/a``); each
  failure followed by its evidence in plain words and the plan line it points
  at; a summary line counting each status apart, with why each rule did not
  apply;
- **json**: ``summary`` (``passed``, ``failed``, ``not_applicable``,
  ``waived``, ``blocking``) and ``results``, each with ``rule``, ``kind``,
  ``severity``, ``status``, ``message``, ``evidence`` and ``waivers``;
- **junit**: one test case per rule (and phase), failures with the evidence,
  rules that did not apply and waived failures as ``<skipped>`` (types
  ``not_applicable`` and ``waived``, as pytest reports an xfail);
- **sarif** (2.1.0): one result per piece of evidence, located at the YAML
  file and line of the offending node or link, so review tools annotate it;
  waived findings carry an accepted external suppression with the reason, a
  rule that did not apply is a ``notApplicable`` result of level ``none``.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from topology.errors import Mark
from topology.files import shown
from topology.model import Waiver

from .engine import CheckRun, blocking
from .i18n import rule_text, translate
from .model import Evidence, RuleResult, WaiverUse
from .waivers import waiver_text

TOOL_URI = "https://github.com/govnet/govnet"
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
STATUS_RANK = {"fail": 0, "waived": 1, "pass": 2, "not_applicable": 3}
TEXT_TAG = {"fail": "FAIL", "waived": "waived", "pass": "pass", "not_applicable": "n/a "}
SEVERITY_WORDS = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}  # translated by lang


def _status_order(result: RuleResult, index: int) -> tuple:
    return (STATUS_RANK.get(result.status, 0), -result.rule.severity_rank(), index)


def ordered(results: tuple[RuleResult, ...] | list[RuleResult]) -> list[RuleResult]:
    """Failures first, then waived failures, passes and rules that did not apply; most severe first."""
    return [r for _, r in sorted(enumerate(results), key=lambda p: _status_order(p[1], p[0]))]


def _where(mark: Mark) -> str:
    return f"{display_path(mark.file)}:{mark.line}:{mark.col}"


def display_path(file: str) -> str:
    """A file as messages name it (:func:`topology.files.shown`): relative to the working directory, the
    built-in scenarios as ``scenarios/...``; never an absolute path of this machine."""
    return shown(file)


def counts(runs: list[CheckRun]) -> dict[str, int]:
    """How many rule checks of the runs have each status."""
    out = dict.fromkeys(STATUS_RANK, 0)
    for run in runs:
        for result in run.results:
            out[result.status] = out.get(result.status, 0) + 1
    return out


def not_applicable_reasons(runs: list[CheckRun]) -> list[str]:
    """``RULE: why`` for every rule that did not apply, once per distinct reason, in check order."""
    return list(dict.fromkeys(f"{r.rule.id}: {r.message}" for run in runs for r in run.results if r.not_applicable_))


def waiver_line(use: WaiverUse, result: RuleResult, lang: str = "en") -> str:
    """One waiver met by a result: what it says, which findings it covers, whether it expired."""
    w = use.waiver
    numbers = ", ".join(str(i + 1) for i in use.covers)
    if not result.evidence:
        which = translate(lang, "covers the finding")
    elif len(use.covers) == 1:
        which = translate(lang, "covers finding %(numbers)s of %(total)s", numbers=numbers, total=len(result.evidence))
    else:
        which = translate(lang, "covers findings %(numbers)s of %(total)s", numbers=numbers, total=len(result.evidence))
    state = (translate(lang, "expired on %(date)s, does not waive", date=w.expires.isoformat()) if use.expired
             else translate(lang, "applied"))
    return translate(lang, "waiver of %(rule)s %(state)s: %(waiver)s; %(which)s (at %(where)s)", rule=w.rule,
                     state=state, waiver=waiver_words(w, lang), which=which, where=_where(w.mark))


def waiver_words(w: Waiver, lang: str = "en") -> str:
    """:func:`policies.waivers.waiver_text` in ``lang``."""
    if lang == "en":
        return waiver_text(w)
    document = translate(lang, " (document %(document)s)", document=w.document) if w.document else ""
    return translate(lang, "approved by %(approver)s%(document)s, until %(date)s, scope %(scope)s: %(reason)s",
                     approver=w.approver, document=document, date=w.expires.isoformat(), scope=w.scope,
                     reason=w.reason)


def status_tag(status: str, lang: str = "en") -> str:
    """The word ``check`` prints for a status (``FAIL``, ``pass``, ``n/a``, ``waived``) in ``lang``."""
    tag = TEXT_TAG.get(status, status)
    return tag if lang == "en" else translate(lang, tag.strip())


def severity_word(severity: str, lang: str = "en") -> str:
    return severity if lang == "en" else translate(lang, SEVERITY_WORDS.get(severity, severity))


def _covered(result: RuleResult) -> set[int]:
    return {i for u in result.waivers if not u.expired for i in u.covers}


# -- text ------------------------------------------------------------------------

def _header_lines(runs: list[CheckRun], lang: str = "en") -> list[str]:
    if not runs:
        return []
    first = runs[0]
    lines = [translate(lang, "govnet check: %(name)s (%(plan)s); policies: %(policies)s", name=first.name,
                       plan=display_path(first.plan), policies=", ".join(first.policies))]
    lines += [translate(lang, "%(pack)s added: %(reasons)s", pack=a.pack, reasons="; ".join(a.reasons))
              for a in first.added]
    lines += [translate(lang, "declined: %(pack)s (%(reason)s) (at %(where)s)", pack=d.pack, reason=d.reason,
                        where=_where(d.mark)) for d in first.declined]
    lines += [translate(lang, "unused waiver: %(rule)s is not among the rules checked; %(waiver)s (at %(where)s)",
                        rule=w.rule, waiver=waiver_words(w, lang), where=_where(w.mark))
              for w in first.unused_waivers]
    return lines


def summary_line(runs: list[CheckRun], fail_on: str = "high", lang: str = "en") -> str:
    """``N rule checks: F failed (B at or above high), P passed, A not applicable (why), W waived``."""
    n = counts(runs)
    block = sum(len(blocking(run.results, fail_on)) for run in runs)
    reasons = not_applicable_reasons(runs)
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return translate(lang, "%(total)s rule checks: %(failed)s failed (%(blocking)s at or above %(fail_on)s), "
                           "%(passed)s passed, %(not_applicable)s not applicable%(why)s, %(waived)s waived",
                     total=sum(n.values()), failed=n["fail"], blocking=block, fail_on=severity_word(fail_on, lang),
                     passed=n["pass"], not_applicable=n["not_applicable"], why=why, waived=n["waived"])


def to_text(runs: list[CheckRun], fail_on: str = "high", lang: str = "en") -> str:
    """The text report (see the module docstring) with check's own words in ``lang``; what the rules found (their
    messages and evidence) is as the rule kinds wrote it."""
    lines = _header_lines(runs, lang)
    waived_mark = translate(lang, " [waived]")
    for run in runs:
        if run.phase is not None:
            lines.append(translate(lang, "phase %(phase)s:", phase=run.phase))
        indent = "  " if run.phase is not None else ""
        for result in ordered(run.results):
            rule = result.rule
            lines.append(f"{indent}{status_tag(result.status, lang)} [{severity_word(rule.severity, lang)}] {rule.id} "
                         f"({rule.kind}): {result.message}")
            covered = _covered(result)
            for i, ev in enumerate(result.evidence):
                at = translate(lang, " (at %(where)s)", where=_where(ev.marks[0])) if ev.marks else ""
                lines.append(f"{indent}    - {ev.summary}{at}{waived_mark if i in covered else ''}")
            for use in result.waivers:
                lines.append(f"{indent}    {waiver_line(use, result, lang)}")
            if result.status in ("fail", "waived") and rule.clause:
                described = rule_text(rule, "description", lang) or rule.id
                lines.append(f"{indent}    " + translate(lang, "rule: %(description)s [%(clause)s]",
                                                         description=described, clause=rule.clause))
                if lang != "en" and rule.fix:
                    lines.append(f"{indent}    " + translate(lang, "fix: %(fix)s", fix=rule_text(rule, "fix", lang)))
    lines.append(summary_line(runs, fail_on, lang))
    return "\n".join(lines) + "\n"


# -- json ------------------------------------------------------------------------

def _mark_json(mark: Mark) -> dict[str, Any]:
    return {"file": display_path(mark.file), "line": mark.line, "col": mark.col}


def evidence_json(ev: Evidence) -> dict[str, Any]:
    return {"kind": ev.kind, "summary": ev.summary, "data": _plain(ev.data), "subjects": list(ev.subjects),
            "locations": [_mark_json(m) for m in ev.marks]}


def waiver_json(w: Waiver) -> dict[str, Any]:
    return {"rule": w.rule, "scope": w.scope, "reason": w.reason, "approver": w.approver, "document": w.document,
            "expires": w.expires.isoformat(), "location": _mark_json(w.mark)}


def waiver_use_json(use: WaiverUse, result: RuleResult) -> dict[str, Any]:
    return {**waiver_json(use.waiver), "expired": use.expired, "covers": [i + 1 for i in use.covers],
            "findings": [result.evidence[i].summary for i in use.covers]}


def result_json(result: RuleResult, phase: str | None) -> dict[str, Any]:
    rule = result.rule
    out = {
        "rule": rule.id,
        "kind": rule.kind,
        "severity": rule.severity,
        "status": result.status,
        "message": result.message,
        "evidence": [evidence_json(e) for e in result.evidence],
        "waivers": [waiver_use_json(u, result) for u in result.waivers],
        "clause": rule.clause,
        "description": rule.description,
        "policy": rule.pack,
    }
    if phase is not None:
        out["phase"] = phase
    return out


def to_json_data(runs: list[CheckRun], fail_on: str = "high") -> dict[str, Any]:
    results = [result_json(r, run.phase) for run in runs for r in run.results]
    n = counts(runs)
    first = runs[0] if runs else None
    return {
        "plan": display_path(first.plan) if first else None,
        "name": first.name if first else None,
        "policies": list(first.policies) if first else [],
        "added_policies": [{"pack": a.pack, "reasons": list(a.reasons)} for a in first.added] if first else [],
        "declined_policies": [{"pack": d.pack, "reason": d.reason, "location": _mark_json(d.mark)}
                              for d in first.declined] if first else [],
        "unused_waivers": [waiver_json(w) for w in first.unused_waivers] if first else [],
        "phases": [run.phase for run in runs] if any(run.phase is not None for run in runs) else None,
        "fail_on": fail_on,
        "summary": {"passed": n["pass"], "failed": n["fail"], "not_applicable": n["not_applicable"],
                    "waived": n["waived"], "blocking": sum(len(blocking(run.results, fail_on)) for run in runs)},
        "not_applicable": not_applicable_reasons(runs),
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
    """The message, each piece of evidence with the plan line it points at, the waivers met, the rule."""
    lines = [result.message]
    covered = _covered(result)
    for i, ev in enumerate(result.evidence):
        at = f" (at {_where(ev.marks[0])})" if ev.marks else ""
        lines.append(f"- {ev.summary}{at}{' [waived]' if i in covered else ''}")
    lines += [waiver_line(use, result) for use in result.waivers]
    if result.rule.clause:
        lines.append(f"rule: {result.rule.description or result.rule.id} [{result.rule.clause}]")
    return "\n".join(lines)


def _junit_properties(parent: ET.Element, run: CheckRun) -> None:
    props = ET.SubElement(parent, "properties")
    ET.SubElement(props, "property", name="policies", value=", ".join(run.policies))
    for added in run.added:
        ET.SubElement(props, "property", name="added_policy", value=str(added))
    for d in run.declined:
        ET.SubElement(props, "property", name="declined_policy", value=f"{d.pack}: {d.reason}")
    for w in run.unused_waivers:
        ET.SubElement(props, "property", name="unused_waiver",
                      value=f"{w.rule} is not among the rules checked; {waiver_text(w)}")


def to_junit(runs: list[CheckRun], fail_on: str = "high") -> str:
    suites = ET.Element("testsuites", name="govnet check")
    total = failures = skipped = 0
    for run in runs:
        name = run.name + (f" [{run.phase}]" if run.phase else "")
        failed = run.failed
        not_judged = [r for r in run.results if r.not_applicable_ or r.waived_]
        suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(run.results)),
                              failures=str(len(failed)), errors="0", skipped=str(len(not_judged)))
        _junit_properties(suite, run)
        total += len(run.results)
        failures += len(failed)
        skipped += len(not_judged)
        for result in run.results:
            case = ET.SubElement(suite, "testcase", classname=display_path(run.plan),
                                 name=result.rule.id + (f"[{run.phase}]" if run.phase else ""))
            case.set("file", display_path(run.plan))
            if result.failed_ or result.waived_:
                first = next((e.marks[0] for e in result.evidence if e.marks), None)
                if first is not None:
                    case.set("line", str(first.line))
            if result.failed_:
                node = ET.SubElement(case, "failure", message=result.message, type=result.rule.severity)
                node.text = failure_text(result)
            elif result.waived_:
                node = ET.SubElement(case, "skipped", message=f"waived: {result.message}", type="waived")
                node.text = failure_text(result)
            elif result.not_applicable_:
                ET.SubElement(case, "skipped", message=result.message, type="not_applicable")
            else:
                out = ET.SubElement(case, "system-out")
                out.text = result.message
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    suites.set("skipped", str(skipped))
    ET.indent(suites)
    text = ET.tostring(suites, encoding="unicode")
    # characters XML 1.0 cannot hold (plans cannot carry them; a message built from elsewhere might)
    text = _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# -- sarif -----------------------------------------------------------------------

def artifact_path(file: str) -> str:
    """A file as review tools locate it: :func:`display_path` with ``/`` between folders (relative to the working
    directory when under it, a built-in scenario's as ``scenarios/...``, else as given).

    >>> artifact_path("scenarios/chuxiong/../chuxiong/plan.yaml")
    'scenarios/chuxiong/plan.yaml'
    """
    shown = display_path(file)
    if os.path.isabs(shown):
        return shown
    return str(PurePosixPath(*Path(shown).parts))


def _uri(file: str) -> str:
    path = artifact_path(file)
    return Path(path).as_uri() if os.path.isabs(path) else path


@dataclass(frozen=True)
class Finding:
    """One finding of a failed or waived result, with the YAML lines a review tool annotates.

    ``index`` is its place among the result's evidence (what waivers cover); ``marks`` is never empty and
    ``marks[0]`` is the line it points at; ``waivers`` are the unexpired waivers that cover it.
    """

    index: int
    evidence: Evidence
    marks: tuple[Mark, ...]
    waivers: tuple[Waiver, ...] = ()

    @property
    def mark(self) -> Mark:
        return self.marks[0]


def findings_of(result: RuleResult, plan: str, fallback: Mark | None = None) -> list[Finding]:
    """The findings of a failed or waived ``result`` (none of any other), located: each piece of evidence at its
    own marks, else at ``fallback`` (say the line of the policy file that writes the rule), else at line 1 of
    ``plan``; a result without evidence is one finding, its message. Lines and columns are at least 1.

    SARIF and the CI formats (:mod:`policies.ci_formats`) locate what they report with this one function.
    """
    if not (result.failed_ or result.waived_):
        return []
    items = list(result.evidence) or [Evidence("rule", result.message, {}, ())]
    out = []
    for index, ev in enumerate(items):
        marks = ev.marks or ((fallback,) if fallback is not None else (Mark(plan, 1, 1),))
        accepted = tuple(u.waiver for u in result.waivers if not u.expired and (index in u.covers or not result.evidence))
        out.append(Finding(index, ev, tuple(Mark(m.file, max(1, m.line), max(1, m.col)) for m in marks), accepted))
    return out


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


def _suppression(w: Waiver) -> dict[str, Any]:
    return {"kind": "external", "status": "accepted", "justification": w.reason,
            "properties": {"rule": w.rule, "scope": w.scope, "approver": w.approver, "document": w.document,
                           "expires": w.expires.isoformat(), "location": _where(w.mark)}}


def to_sarif(runs: list[CheckRun], fail_on: str = "high", version: str = "0") -> str:
    rules: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    results: list[dict[str, Any]] = []
    seen: set[tuple[object, ...]] = set()
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
            phase = f" (phase {run.phase})" if run.phase else ""
            if result.not_applicable_:
                key: tuple[object, ...] = (rule.id, "notApplicable", result.message)
                if key not in seen:
                    seen.add(key)
                    plan = Mark(run.plan, 1, 1)
                    results.append({
                        "ruleId": rule.id,
                        "kind": "notApplicable",
                        "level": "none",
                        "message": {"text": f"{rule.id} does not apply{phase}: {result.message}"},
                        "locations": [_location(plan)],
                        "partialFingerprints": {"govnet/v1": f"{rule.id}:{_uri(plan.file)}:notApplicable"},
                        "properties": {"severity": rule.severity, "status": result.status},
                    })
                continue
            for finding in findings_of(result, run.plan):
                ev, marks = finding.evidence, finding.marks
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
                    "properties": {"severity": rule.severity, "evidenceKind": ev.kind, "status": result.status},
                }
                related = [_location(m, None, i + 1) for i, m in enumerate(marks[1:])]
                if related:
                    entry["relatedLocations"] = related
                if finding.waivers:
                    entry["suppressions"] = [_suppression(w) for w in finding.waivers]
                results.append(entry)
    for entry in results:
        entry["ruleIndex"] = order.index(entry["ruleId"])
    first = runs[0] if runs else None
    properties = {
        "policies": list(first.policies) if first else [],
        "addedPolicies": [{"pack": a.pack, "reasons": list(a.reasons)} for a in first.added] if first else [],
        "declinedPolicies": [{"pack": d.pack, "reason": d.reason} for d in first.declined] if first else [],
        "unusedWaivers": [{"rule": w.rule, "scope": w.scope, "reason": w.reason, "approver": w.approver,
                           "document": w.document, "expires": w.expires.isoformat()}
                          for w in first.unused_waivers] if first else [],
    }
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "govnet", "version": version, "informationUri": TOOL_URI,
                                "rules": [rules[i] for i in order]}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": properties,
        }],
    }
    return json.dumps(sarif, ensure_ascii=False, indent=2) + "\n"


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + "." if sep else text


def render(runs: list[CheckRun], fmt: str, fail_on: str = "high", version: str = "0", lang: str = "en") -> str:
    """The report in ``fmt``; ``lang`` sets the language of the text report (the machine formats stay English)."""
    if fmt == "json":
        return to_json(runs, fail_on)
    if fmt == "junit":
        return to_junit(runs, fail_on)
    if fmt == "sarif":
        return to_sarif(runs, fail_on, version)
    return to_text(runs, fail_on, lang)


