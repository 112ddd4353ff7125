"""What the plan allows and accepts: its boundary crossings with their approvals, and its waivers.

Definitions.

- A *crossing row* is one :class:`policies.crossings.Crossing` (domain pair
  and the controls that let it through) with the phases it is allowed in,
  its classes of packets (the first :data:`CLASSES_SHOWN` with their
  representative packets), the plan lines of its controls and the approvals
  that cover it (:func:`policies.crossings.approvals_of`). Its *state* is
  ``approved``, ``unapproved`` (an approval rule would report it) or
  ``required`` (unapproved into a domain an ``approval`` rule of the check
  guards: the rule fails on it).
- An *approval row* is an entry of the plan's ``approvals:`` with the
  crossings it covers; one that covers none is *unused* (the report says so:
  an approval of nothing the plan allows).
- A *waiver row* is an entry of ``waivers:`` with, per phase, the findings it
  covers (:class:`policies.model.WaiverUse`), whether it has expired, and
  whether its rule is checked at all.
"""

from __future__ import annotations

import datetime
from typing import Any

from topology.model import Approval, Network, Waiver
from topology.selectors import select_domains

from ..crossings import Crossing, approvals_of, control_marks, crossings
from ..engine import CheckRun
from ..model import PolicyRule
from ..params import Params
from ..registry import RULE_PARAMS
from .source import SourceLines

CLASSES_SHOWN = 5
APPROVAL_KIND = "approval"


def guarded_domains(net: Network, rules: tuple[PolicyRule, ...]) -> set[str]:
    """The domains an ``approval`` rule of the check fails unapproved crossings into."""
    out: set[str] = set()
    model = RULE_PARAMS.get(APPROVAL_KIND)
    for rule in rules:
        if rule.kind != APPROVAL_KIND or model is None:
            continue
        params: Params = model.model_validate(rule.params)
        out.update(select_domains(net, getattr(params, "fail_into", [])))
    return out


def approval_row(a: Approval, lines: SourceLines) -> dict[str, Any]:
    return {"approves": a.approves, "kind": a.kind, "unit": a.unit, "document": a.document,
            "date": a.date.isoformat(), "note": a.note or "", "source": lines.quote(a.mark)}


def crossing_rows(views: list[tuple[str | None, Network]], rules: tuple[PolicyRule, ...],
                  lines: SourceLines) -> list[dict[str, Any]]:
    """Every crossing of every checked network state, merged across phases (see the module docstring)."""
    rows: dict[tuple, dict[str, Any]] = {}
    for phase, view in views:
        guarded = guarded_domains(view, rules)
        for c in crossings(view):
            key = (c.from_domain, c.to_domain, c.controls)
            row = rows.get(key)
            if row is None:
                rows[key] = row = _crossing_row(view, c, guarded, lines)
            if phase is not None:
                row["phases"].append(phase)
    return list(rows.values())


def _crossing_row(net: Network, c: Crossing, guarded: set[str], lines: SourceLines) -> dict[str, Any]:
    approvals = approvals_of(c, net.approvals)
    state = "approved" if approvals else ("required" if c.to_domain in guarded else "unapproved")
    controls = []
    for control in c.controls:
        marks = control_marks(net, control)
        controls.append({"text": control.text(), "ref": control.ref, "kind": control.kind, "node": control.node,
                         "sources": [lines.quote(m) for m in marks[:2]]})
    classes = [{"from": k.src_node, "to": k.dst_node, "space": str(k.space), "headers": k.space.size(),
                "packet": k.representative, "path": list(k.path)} for k in c.classes[:CLASSES_SHOWN]]
    return {
        "from": net.domain_label(c.from_domain), "to": net.domain_label(c.to_domain),
        "from_domain": c.from_domain, "to_domain": c.to_domain,
        "controls": controls, "boundary": list(c.boundary or ()),
        "classes": classes, "class_count": len(c.classes), "headers": c.headers,
        "approvals": [approval_row(a, lines) for a in approvals], "state": state, "phases": [],
        "sources": [lines.quote(m) for m in c.marks(net)[:1]],
    }


def approval_rows(net: Network, views: list[tuple[str | None, Network]], lines: SourceLines) -> list[dict[str, Any]]:
    """Every approval of the plan with how many crossings it covers (in any checked phase)."""
    covered: dict[int, set[tuple]] = {i: set() for i in range(len(net.approvals))}
    for _, view in views:
        for c in crossings(view):
            for a in approvals_of(c, view.approvals):
                covered[view.approvals.index(a)].add((c.from_domain, c.to_domain, c.controls))
    return [{**approval_row(a, lines), "covers": len(covered[i])} for i, a in enumerate(net.approvals)]


def waiver_rows(net: Network, runs: list[CheckRun], today: datetime.date, lines: SourceLines) -> list[dict[str, Any]]:
    """Every waiver of the plan: what it says, whether it holds today, and the findings it covers per phase."""
    unused = [w for run in runs[:1] for w in run.unused_waivers]
    out = []
    for w in net.waivers:
        findings = []
        for run in runs:
            for result in run.results:
                for use in result.waivers:
                    if use.waiver != w:
                        continue
                    items = [result.evidence[i].summary for i in use.covers] or [result.message]
                    findings.append({"phase": run.phase, "rule": result.rule.id, "status": result.status,
                                     "expired": use.expired, "findings": items})
        out.append(_waiver_row(w, today, lines) | {"findings": findings, "checked": w not in unused})
    return out


def _waiver_row(w: Waiver, today: datetime.date, lines: SourceLines) -> dict[str, Any]:
    return {"rule": w.rule, "scope": w.scope, "reason": w.reason, "approver": w.approver,
            "document": w.document or "", "expires": w.expires.isoformat(), "expired": w.expired(today),
            "source": lines.quote(w.mark)}
