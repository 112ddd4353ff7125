"""Waivers: accepted risks recorded in the plan, applied to failed results.

A plan's ``waivers:`` section (:class:`topology.model.Waiver`) names a rule,
a *scope* of nodes (a node selector of :mod:`topology.selectors`, or ``*``
for every node), the reason, who accepted the risk, the approval document and
the last day it holds. Definitions:

- a waiver *covers* an evidence item when one of the item's ``subjects`` is a
  node of its scope; scope ``*`` covers every item, also one without subjects;
- a waiver is *active* on a day up to and including ``expires``; "today" is
  :func:`today`;
- a failed result whose every evidence item is covered by an active waiver of
  its rule becomes ``waived`` (the evidence stays, the waivers are listed with
  the items they cover); when only some items are covered the result stays
  ``fail`` and says how many findings are waived; an expired waiver never
  waives, and the failure says when it expired.

At check time every waiver must name a rule being checked (or is listed as
unused when the rules came from the command line) and its scope must select
nodes of the plan (:func:`resolve_waivers`).

    >>> import datetime
    >>> from topology.model import Waiver
    >>> w = ScopedWaiver(Waiver("R-1", "*", "legacy line", "市委保密局", "保密〔2024〕3号",
    ...                         datetime.date(2026, 12, 31)), None)
    >>> w.covers(Evidence("link", "a link", subjects=("a", "b")))
    True
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace

from topology.errors import GovnetError, PlanIssue, SelectorError
from topology.model import Network, Waiver
from topology.selectors import select_nodes
from topology.validation import suggest
from topology.vocabulary import EVERY_NODE

from .evidence import plural
from .model import Evidence, RuleResult, WaiverUse


def today() -> datetime.date:
    """The day waivers are judged on: the UTC date of ``SOURCE_DATE_EPOCH`` when set, else the real date.

    >>> os.environ["SOURCE_DATE_EPOCH"] = "1767225600"; today()
    datetime.date(2026, 1, 1)
    >>> del os.environ["SOURCE_DATE_EPOCH"]
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return datetime.date.today()
    try:
        seconds = int(epoch)
    except ValueError:
        raise GovnetError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970") from None
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).date()


@dataclass(frozen=True)
class ScopedWaiver:
    """A waiver with the nodes its scope selects on the plan (None: every node)."""

    waiver: Waiver
    nodes: frozenset[str] | None

    def covers(self, evidence: Evidence) -> bool:
        if self.nodes is None:
            return True
        return any(s in self.nodes for s in evidence.subjects)


def scope_nodes(net: Network, scope: str) -> frozenset[str] | None:
    """The nodes ``scope`` selects (None for ``*``); raises SelectorError when it selects nothing or is malformed."""
    if scope.strip() == EVERY_NODE:
        return None
    return frozenset(select_nodes(net, scope))


def resolve_waivers(net: Network, rule_ids: Iterable[str], unknown_is_error: bool
                    ) -> tuple[list[ScopedWaiver], list[Waiver], list[PlanIssue]]:
    """The plan's waivers of the rules ``rule_ids``, the waivers of other rules, and the problems found.

    A waiver of a rule that is not checked is a problem when
    ``unknown_is_error`` (the plan's own policies are checked), else it is
    returned as unused. A scope that selects no node is always a problem.
    """
    ids = list(dict.fromkeys(rule_ids))
    scoped: list[ScopedWaiver] = []
    unused: list[Waiver] = []
    issues: list[PlanIssue] = []
    for w in net.waivers:
        try:
            nodes = scope_nodes(net, w.scope)
        except SelectorError as exc:
            issues.append(PlanIssue(w.mark, f"the scope '{w.scope}' of the waiver of {w.rule} selects no node: {exc}",
                                    "write * for every node, or a node selector such as site:X, domain:Y,role:server"))
            continue
        if w.rule not in ids:
            if unknown_is_error:
                issues.append(PlanIssue(w.mark, f"waiver of rule '{w.rule}', which is not among the rules checked",
                                        suggest(w.rule, ids, "rule ids")))
            else:
                unused.append(w)
            continue
        scoped.append(ScopedWaiver(w, nodes))
    return scoped, unused, issues


def waiver_text(w: Waiver) -> str:
    """``approved by 市委保密局 (document 保密〔2024〕3号), until 2026-12-31, scope *: legacy line``."""
    document = f" (document {w.document})" if w.document else ""
    return f"approved by {w.approver}{document}, until {w.expires.isoformat()}, scope {w.scope}: {w.reason}"


def expired_text(w: Waiver) -> str:
    """``approved by 市委保密局 (document 保密〔2024〕3号), scope *, expired on 2024-12-31 and no longer waives``."""
    document = f" (document {w.document})" if w.document else ""
    return f"approved by {w.approver}{document}, scope {w.scope}, expired on {w.expires.isoformat()} and no longer waives"


def apply_waivers(result: RuleResult, waivers: Iterable[ScopedWaiver], on: datetime.date) -> RuleResult:
    """``result`` with the waivers of its rule applied on day ``on`` (see the module docstring)."""
    if not result.failed_:
        return result
    mine = [w for w in waivers if w.waiver.rule == result.rule.id]
    if not mine:
        return result
    items = list(result.evidence) or [Evidence("rule", result.message)]
    uses: list[WaiverUse] = []
    covered: set[int] = set()
    notes: list[str] = []
    for w in mine:
        hits = tuple(i for i, ev in enumerate(items) if w.covers(ev))
        if not hits:
            continue
        expired = w.waiver.expired(on)
        uses.append(WaiverUse(w.waiver, hits if result.evidence else (), expired))
        if expired:
            notes.append(f"the waiver {expired_text(w.waiver)}")
        else:
            covered.update(hits)
    if not uses:
        return result
    active = [u for u in uses if not u.expired]
    if len(covered) == len(items):
        waived_by = "; ".join(f"waived: {waiver_text(u.waiver)}" for u in active)
        return replace(result, status="waived", message=f"{result.message} [{waived_by}]", waivers=tuple(uses))
    if covered:
        notes.insert(0, f"{len(covered)} of {plural(len(items), 'finding')} waived ("
                     + "; ".join(waiver_text(u.waiver) for u in active) + "), the others stand")
    return replace(result, message=f"{result.message} [{'; '.join(notes)}]", waivers=tuple(uses))
