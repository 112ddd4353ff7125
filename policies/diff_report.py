"""The answer of ``govnet diff`` as text and JSON (:class:`policies.diff.PlanDiff` rendered).

Text groups the reachability changes: one block per direction, domain pair,
controls and approval, with how many classes and headers it holds and the
first class's representative packet and trace (JSON lists every class).
Files are named by ``name`` (the command gives ``REV:path`` for a plan read
from git). Both outputs depend only on the two plans: the same plans give the
same bytes.

    >>> from policies.diff import PlanDiff, DiffOptions
    >>> empty = PlanDiff(net, net, DiffOptions(), (), (), (), (), ())
    >>> print(diff_text(empty, "OLD", "NEW"), end="")
    govnet diff OLD → NEW
    model: no change
    verdicts: no change
    reachability across boundaries: no change
    capacity: no link moved by more than 5 points (failures n-1), no demand became undeliverable
    result: the change adds no failing rule and no unapproved crossing
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from topology.errors import Mark

from .ci_formats import Annotation, github_lines, gitlab_json, ordered
from .diff import PlanDiff, ReachChange
from .report import artifact_path, display_path

Namer = Callable[[str], str]


def _where(mark: Mark, name: Namer) -> str:
    if not mark.file or mark.line <= 0:
        return ""
    return f"  ({name(mark.file)}:{mark.line}:{mark.col})"


def _groups(items: tuple[ReachChange, ...]) -> list[list[ReachChange]]:
    groups: dict[tuple, list[ReachChange]] = {}
    for r in items:
        groups.setdefault((r.direction, r.from_domain, r.to_domain, r.controls, r.approved), []).append(r)
    return list(groups.values())


def result_line(d: PlanDiff) -> str:
    """The conclusion: what makes the change regress (exit 1), or that nothing does."""
    failures, unapproved = len(d.new_failures), d.unapproved_crossings
    if not failures and not unapproved:
        return "result: the change adds no failing rule and no unapproved crossing"
    parts = []
    if failures:
        parts.append(f"{failures} failing rule{'s' if failures != 1 else ''}")
    if unapproved:
        classes = len(d.unapproved)
        parts.append(f"{unapproved} unapproved crossing{'s' if unapproved != 1 else ''} "
                     f"({classes} class{'es' if classes != 1 else ''} of packets)")
    return "result: the change adds " + " and ".join(parts)


def diff_text(d: PlanDiff, old_label: str, new_label: str, name: Namer = display_path) -> str:
    """The change as text for a reviewer (see the module docstring)."""
    lines = [f"govnet diff {old_label} → {new_label}"]
    lines += [f"note: {n}" for n in d.notes]
    lines.append(f"model: {len(d.model)} change{'s' if len(d.model) != 1 else ''}" if d.model else "model: no change")
    lines += [f"  {c.text()}{_where(c.mark, name)}" for c in d.model]
    lines.append(f"verdicts: {len(d.verdicts)} rule{'s' if len(d.verdicts) != 1 else ''} changed" if d.verdicts
                 else "verdicts: no change")
    lines += [f"  {'NEW FAILURE ' if v.regression else ''}{v.text()}{_where(v.mark, name)}" for v in d.verdicts]
    lines += _reach_lines(d, name)
    lines += _capacity_lines(d, name)
    lines.append(result_line(d))
    return "\n".join(lines) + "\n"


def _reach_lines(d: PlanDiff, name: Namer) -> list[str]:
    if not d.reach:
        return ["reachability across boundaries: no change"]
    allowed = sum(1 for r in d.reach if r.direction == "allowed")
    out = [f"reachability across boundaries: {allowed} class(es) newly allowed ({len(d.unapproved)} unapproved), "
           f"{len(d.reach) - allowed} newly blocked"]
    for group in _groups(d.reach):
        first = group[0]
        flag = " UNAPPROVED" if first.unapproved else ""
        headers = sum(r.space.size() for r in group)
        mark = _where(first.marks[0], name) if first.marks else ""
        out.append(f"  newly {first.direction}{flag}: {first.from_domain} → {first.to_domain} through "
                   f"{first.controls}: {len(group)} class(es), {headers} header(s){mark}")
        version = "NEW" if first.direction == "allowed" else "OLD"
        out.append(f"    e.g. {_packet_text(first)} from {first.src_node} to {first.dst_node}; its trace in {version}:")
        out += [f"      {line}" for line in first.trace.text().splitlines()]
    return out


def _capacity_lines(d: PlanDiff, name: Namer) -> list[str]:
    o = d.options
    if not d.capacity and not d.lost:
        if any(n.startswith("capacity not compared") for n in d.notes):
            return []
        return [f"capacity: no link moved by more than {o.threshold:g} points (failures {o.failures}), "
                "no demand became undeliverable"]
    out = [f"capacity (worst case, failures {o.failures}, threshold {o.threshold:g} points): "
           f"{len(d.capacity)} link(s) moved, {len(d.lost)} demand(s) became undeliverable"]
    out += [f"  {c.text()}{_where(c.mark, name)}" for c in d.capacity]
    out += [f"  {x.text()}{_where(x.mark, name)}" for x in d.lost]
    return out


def _mark_json(mark: Mark, name: Namer) -> dict[str, Any] | None:
    if not mark.file or mark.line <= 0:
        return None
    return {"file": name(mark.file), "line": mark.line, "col": mark.col}


def diff_data(d: PlanDiff, old_label: str, new_label: str, name: Namer = display_path) -> dict[str, Any]:
    """Everything of the change as plain data (the JSON output)."""
    o = d.options
    return {
        "old": old_label, "new": new_label,
        "options": {"phase": o.phase, "threshold_points": o.threshold, "failures": o.failures, "fail_on": o.fail_on},
        "notes": list(d.notes),
        "model": [{"section": c.section, "name": c.name, "action": c.action, "details": list(c.details),
                   "summary": c.summary, "at": _mark_json(c.mark, name)} for c in d.model],
        "verdicts": [{"rule": v.rule, "phase": v.phase, "old": v.old, "new": v.new, "severity": v.severity,
                      "message": v.message, "new_failure": v.regression, "at": _mark_json(v.mark, name)}
                     for v in d.verdicts],
        "reachability": [{"direction": r.direction, "from_domain": r.from_domain, "to_domain": r.to_domain,
                          "from": r.src_node, "to": r.dst_node, "space": str(r.space), "boxes": r.space.to_json(),
                          "headers": r.space.size(), "packet": r.packet, "controls": r.controls,
                          "approved": r.approved if r.direction == "allowed" else None,
                          "at": [m for m in (_mark_json(x, name) for x in r.marks) if m],
                          "trace": r.trace.to_json()} for r in d.reach],
        "capacity": [{"link": c.link, "old_worst_utilisation": c.old, "new_worst_utilisation": c.new,
                      "at": _mark_json(c.mark, name)} for c in d.capacity],
        "undeliverable": [{"demand": x.label, "delivered_share": x.delivered, "at": _mark_json(x.mark, name)}
                          for x in d.lost],
        "new_failures": len(d.new_failures),
        "unapproved_crossings": d.unapproved_crossings,
        "unapproved_classes": len(d.unapproved),
        "regresses": d.regresses,
    }


def diff_json(d: PlanDiff, old_label: str, new_label: str, name: Namer = display_path) -> str:
    """:func:`diff_data` as JSON text (keys in a fixed order, non-ASCII kept)."""
    return json.dumps(diff_data(d, old_label, new_label, name), ensure_ascii=False, indent=2) + "\n"


# -- CI annotations ----------------------------------------------------------------------------------

DIFF_RULES = {"unapproved": ("GOVNET-DIFF-CROSSING", "high", "New boundary crossing without an approval"),
              "capacity": ("GOVNET-DIFF-CAPACITY", "medium", "Worst-case utilisation moved"),
              "lost": ("GOVNET-DIFF-DEMAND", "high", "Declared demand became undeliverable")}


def diff_annotations(d: PlanDiff, name: Namer = display_path) -> list[Annotation]:
    """What a reviewer must see on the lines of NEW: each new failure (as its rule), each unapproved crossing
    (one per domain pair and control), each capacity move and demand lost (``GOVNET-DIFF-*``).

    A file of a revision (``REV:path``) is annotated as ``path``: the CI job runs on a checkout of it.
    """
    out: list[Annotation] = []

    def note(mark: Mark, rule: str, severity: str, title: str, message: str, summary: str) -> None:
        path, line, col = _ci_place(mark, d, name)
        out.append(Annotation(path, line, col, severity, rule, title, message, summary))

    for v in d.new_failures:
        note(v.mark, v.rule, v.severity, "New failure", f"{v.rule}: {v.old} → fail: {v.message}", v.message)
    for group in _groups(d.unapproved):
        first = group[0]
        headers = sum(r.space.size() for r in group)
        rule, severity, title = DIFF_RULES["unapproved"]
        what = f"{first.from_domain} → {first.to_domain} through {first.controls}"
        note(first.marks[0] if first.marks else d.new.mark, rule, severity, title,
             f"newly allowed, no approval covers it: {what}: {len(group)} class(es), {headers} header(s), "
             f"e.g. {_packet_text(first)}", what)
    for c in d.capacity:
        rule, severity, title = DIFF_RULES["capacity"]
        note(c.mark, rule, severity, title, c.text(), f"{c.link}")
    for x in d.lost:
        rule, severity, title = DIFF_RULES["lost"]
        note(x.mark, rule, severity, title, x.text(), x.label)
    return ordered(out)


def _ci_place(mark: Mark, d: PlanDiff, name: Namer) -> tuple[str, int, int]:
    """(path, line, column) of a mark for CI: a revision's file by its path in the repository; no line: line 1 of
    NEW."""
    if not mark.file or mark.line <= 0:
        mark = Mark(d.new.file, 1, 1)
    shown = name(mark.file)
    revision, sep, rest = shown.partition(":")
    if sep and rest and not os.path.exists(shown) and "/" not in revision:
        shown = rest
    return artifact_path(shown), max(mark.line, 1), max(mark.col, 1)


def _packet_text(r: ReachChange) -> str:
    p = r.packet
    ports = f" {p['sport']}->{p['dport']}" if p["proto"] in ("tcp", "udp") else ""
    return f"{p['proto']} {p['src']} -> {p['dst']}{ports}"


def diff_ci(d: PlanDiff, fmt: str, name: Namer = display_path) -> str:
    """The ``github`` or ``gitlab`` output of a change (:mod:`policies.ci_formats`)."""
    notes = diff_annotations(d, name)
    if fmt == "gitlab":
        return gitlab_json(notes)
    return github_lines(notes, "govnet diff: " + result_line(d).removeprefix("result: "))


__all__ = ["DIFF_RULES", "diff_annotations", "diff_ci", "diff_data", "diff_json", "diff_text", "result_line"]
