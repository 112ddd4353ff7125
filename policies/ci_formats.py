"""CI formats: GitHub Actions workflow commands and GitLab Code Quality, from plain annotation records.

Both writers take a list of :class:`Annotation` (one finding: the file, line
and column it points at, the govnet severity, the rule id and title, the
message, and whether a waiver covers it), so that any command that finds
something (``govnet check`` today, ``govnet diff`` next) writes them the same
way: :func:`annotations_of` makes the records of a check, :func:`github_lines`
and :func:`gitlab_json` write them. Only failures and waived failures become
records; a rule that passed or did not apply has no line to annotate.

- **github**: one workflow command per record,
  ``::LEVEL file=PATH,line=L,col=C,title=RULE-ID::MESSAGE``, where LEVEL is
  ``error`` for a critical or high failure and ``warning`` for a medium or low
  one and for a waived failure (an accepted risk, shown with its waiver, that
  does not fail the check); then one summary line that is not a command
  (``govnet: ...``). The message is escaped as GitHub's toolkit escapes command
  data (``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``), property values as it
  escapes properties (the same and ``:`` → ``%3A``, ``,`` → ``%2C``), so no
  name in a plan can end a line early or start a command of its own.
- **gitlab**: a JSON array of Code Quality issues, each with ``description``,
  ``check_name`` (the rule id), ``fingerprint``, ``severity`` and
  ``location: {path, lines: {begin}}``. Severities map as :data:`GITLAB_SEVERITY`
  says (critical → ``blocker``, high → ``critical``, medium → ``major``, low →
  ``minor``; a waived failure is ``info`` whatever its rule's severity). The
  fingerprint is the SHA-256 (hex) of the JSON array ``[rule id, path, line,
  summary]`` (compact, UTF-8), so the same finding keeps its fingerprint from
  one run to the next and GitLab can tell new findings from fixed ones.

Paths are those of :func:`policies.report.artifact_path` (relative to the
working directory when under it, else as given): GitHub and GitLab resolve them
against the repository's root, so CI runs govnet from there. A record points at
the first YAML line its evidence blames, else at the line of the policy file that
writes the rule, else at line 1 of the plan (:func:`policies.report.findings_of`,
which the SARIF writer uses too). Output is deterministic: records are sorted
(failures before waived ones, most severe first, then by file, line, column, rule
and text), so the same input gives byte-identical output.

    >>> a = Annotation(path="plan.yaml", line=12, column=5, severity="critical", rule_id="EGOV-LI-1",
    ...                title="Only the public services reachable from the internet",
    ...                message="tcp 0.0.0.0/0 -> 10.53.0.1:80, 100% of it\\nnot allowed")
    >>> print(github_lines([a]), end="")
    ::error file=plan.yaml,line=12,col=5,title=EGOV-LI-1::Only the public services reachable from the internet:
    tcp 0.0.0.0/0 -> 10.53.0.1:80, 100%25 of it%0Anot allowed
    govnet: 1 error, 0 warnings
    >>> print(gitlab_json([a]), end="")  # doctest: +ELLIPSIS
    [
      {
        "description": "EGOV-LI-1: Only the public services reachable from the internet:
                        tcp 0.0.0.0/0 -> 10.53.0.1:80, 100% of it\\nnot allowed",
        "check_name": "EGOV-LI-1",
        "fingerprint": "...",
        "severity": "blocker",
        "location": {
          "path": "plan.yaml",
          "lines": {
            "begin": 12
          }
        }
      }
    ]

Both are written here by hand: no well-kept Python library writes either
format (the few packages on PyPI are single-tool converters, unmaintained or
tied to one linter's output), and each is a few lines of escaping or JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from topology.vocabulary import SEVERITIES

from .engine import CheckRun
from .report import artifact_path, findings_of, summary_line

CI_FORMATS = ("github", "gitlab")
GITHUB_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "warning"}
GITHUB_WAIVED_LEVEL = "warning"
GITLAB_SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor"}
GITLAB_WAIVED_SEVERITY = "info"


@dataclass(frozen=True)
class Annotation:
    """One finding to annotate: where (``path``, 1-based ``line`` and ``column``), how bad (a govnet
    ``severity``), which rule (``rule_id`` and its ``title``, which may be empty), what (``message``, shown;
    ``summary``, the finding alone, stable from run to run and fingerprinted; the message when empty) and
    whether an unexpired waiver covers it (``waived``)."""

    path: str
    line: int
    column: int
    severity: str
    rule_id: str
    title: str
    message: str
    summary: str = ""
    waived: bool = False

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        if self.line < 1 or self.column < 1:
            raise ValueError(f"line and column start at 1 (got {self.line}:{self.column})")

    @property
    def text(self) -> str:
        """The message under the rule's title."""
        return f"{self.title}: {self.message}" if self.title else self.message

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of ``[rule id, path, line, summary]`` as compact UTF-8 JSON."""
        key = [self.rule_id, self.path, self.line, self.summary or self.message]
        return hashlib.sha256(json.dumps(key, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()

    def sort_key(self) -> tuple[object, ...]:
        return (self.waived, -SEVERITIES.index(self.severity), self.path, self.line, self.column, self.rule_id,
                self.summary, self.message, self.title)


def ordered(annotations: Iterable[Annotation]) -> list[Annotation]:
    """Failures before waived findings, most severe first, then by file, line, column, rule and text."""
    return sorted(annotations, key=Annotation.sort_key)


def annotations_of(runs: Iterable[CheckRun]) -> list[Annotation]:
    """A record for every finding of every failed or waived rule of the runs, :func:`ordered`.

    A finding that several runs (phases) share is recorded once, with the first phase that has it; one that is
    waived in a run and not in another is recorded as not waived.
    """
    kept: dict[tuple[str, str, int, str], Annotation] = {}
    for run in runs:
        phase = f" (phase {run.phase})" if run.phase else ""
        for result in run.results:
            rule = result.rule
            for finding in findings_of(result, run.plan, rule.mark):
                ev, mark = finding.evidence, finding.mark
                if result.evidence:
                    message = f"{ev.summary}{phase}. {result.message}"
                else:
                    message = f"{result.message}{phase}"
                if finding.waivers:
                    w = finding.waivers[0]
                    message = f"waived until {w.expires.isoformat()}: {message}"
                note = Annotation(path=artifact_path(mark.file), line=mark.line, column=mark.col, severity=rule.severity,
                                  rule_id=rule.id, title=rule.title, message=message, summary=ev.summary,
                                  waived=bool(finding.waivers))
                key = (note.rule_id, note.path, note.line, note.summary)
                if key not in kept or (kept[key].waived and not note.waived):
                    kept[key] = note
    return ordered(kept.values())


# -- github ----------------------------------------------------------------------

def escape_data(text: str) -> str:
    """A workflow command's message as GitHub's toolkit escapes it: ``%``, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value as GitHub's toolkit escapes it: as :func:`escape_data`, and ``:``, ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_level(note: Annotation) -> str:
    """``error`` or ``warning`` (see the module docstring)."""
    return GITHUB_WAIVED_LEVEL if note.waived else GITHUB_LEVEL[note.severity]


def github_line(note: Annotation) -> str:
    """One workflow command: ``::LEVEL file=PATH,line=L,col=C,title=RULE-ID::MESSAGE``."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in
                     (("file", note.path), ("line", str(note.line)), ("col", str(note.column)), ("title", note.rule_id)))
    return f"::{github_level(note)} {props}::{escape_data(note.text)}"


def github_lines(annotations: Iterable[Annotation], summary: str | None = None) -> str:
    """A workflow command per record (:func:`ordered`), then ``summary`` on one line (by default the count of errors
    and warnings); the summary is never a command."""
    notes = ordered(annotations)
    if summary is None:
        errors = sum(github_level(n) == "error" for n in notes)
        warnings = len(notes) - errors
        summary = f"govnet: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    summary = " ".join(summary.split("\n")).replace("\r", " ")
    if summary.lstrip().startswith("::"):
        summary = "govnet: " + summary.lstrip()
    return "".join(github_line(n) + "\n" for n in notes) + summary + "\n"


# -- gitlab ----------------------------------------------------------------------

def gitlab_severity(note: Annotation) -> str:
    """GitLab's ``info|minor|major|critical|blocker`` for a record (:data:`GITLAB_SEVERITY`; waived: ``info``)."""
    return GITLAB_WAIVED_SEVERITY if note.waived else GITLAB_SEVERITY[note.severity]


def gitlab_issues(annotations: Iterable[Annotation]) -> list[dict[str, object]]:
    """The Code Quality issues of the records, :func:`ordered`, one per fingerprint (the first)."""
    issues: list[dict[str, object]] = []
    seen: set[str] = set()
    for note in ordered(annotations):
        fingerprint = note.fingerprint
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        issues.append({
            "description": f"{note.rule_id}: {note.text}",
            "check_name": note.rule_id,
            "fingerprint": fingerprint,
            "severity": gitlab_severity(note),
            "location": {"path": note.path, "lines": {"begin": note.line}},
        })
    return issues


def gitlab_json(annotations: Iterable[Annotation]) -> str:
    """A GitLab Code Quality report (a JSON array; ``[]`` when there is nothing to report)."""
    return json.dumps(gitlab_issues(annotations), ensure_ascii=False, indent=2) + "\n"


def ci_report(runs: list[CheckRun], fmt: str, fail_on: str = "high") -> str:
    """``check``'s report in a CI format (:data:`CI_FORMATS`); the GitHub summary is ``check``'s summary line."""
    notes = annotations_of(runs)
    if fmt == "github":
        return github_lines(notes, f"govnet: {summary_line(runs, fail_on)}")
    if fmt == "gitlab":
        return gitlab_json(notes)
    raise ValueError(f"no CI format {fmt!r} (one of {', '.join(CI_FORMATS)})")
