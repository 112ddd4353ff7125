"""Pass ``sections``: approvals, waivers and declined policies, as written.

Definition. An approval (批准) names what it approves: a gateway (a node of a
controlled role or with a ``gateway:`` block), an ACL rule ``ACL#N`` (N its
place in the list; the ACL one of the plan or one a template made, as pass
``rules`` built them) or a crossing ``from-domain -> to-domain``; each is
checked against the plan here, with "did you mean". Waivers and declined
policies are kept as written: what they name is checked against the rules
at check time (:mod:`policies`).

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet}, 互联网: {kind: internet}}
    ... approvals:
    ...   - {approves: 政务外网 -> 互联网, unit: 州保密局, document: 楚保〔2024〕3号, date: 2024-03-01}
    ... '''), upto="sections")
    >>> [(a.kind, a.from_domain, a.to_domain) for a in d.approvals]
    [('crossing', '政务外网', '互联网')]

An approval of a rule of an ACL a template made at site 楚雄州:

    >>> d = run(draft_of('''
    ... name: demo
    ... sites: {楚雄州: {level: prefecture}}
    ... templates: {州: {acls: {"{site}入": [{action: permit, proto: tcp, dport: 443}, {action: deny}]}}}
    ... level_templates: {prefecture: [州]}
    ... approvals:
    ...   - {approves: "楚雄州入#1", unit: 州保密局, document: 楚保〔2024〕4号, date: 2024-03-01}
    ... '''), upto="sections")
    >>> [(a.kind, a.acl, a.index) for a in d.approvals], d.issues.issues
    ([('acl_rule', '楚雄州入', 1)], [])
"""

from __future__ import annotations

from typing import Any

from ..model import Approval, DeclinedPolicy, Waiver
from ..validation import suggest
from ..vocabulary import CONTROLLED_ROLES
from .draft import Draft


def sections(d: Draft) -> Draft:
    """Fill ``d.approvals``, ``d.waivers`` and ``d.declined``."""
    d.approvals = tuple(a for i in range(len(d.spec.approvals)) if (a := _approval(d, i)) is not None)
    d.waivers = tuple(Waiver(w.rule, w.scope.strip(), w.reason.strip(), w.approver.strip(),
                             w.document.strip() if w.document and w.document.strip() else None, w.expires,
                             d.mark(("waivers", i)))
                      for i, w in enumerate(d.spec.waivers))
    d.declined = tuple(DeclinedPolicy(name, reason.strip(), d.mark(("declined_policies", name)))
                       for name, reason in d.spec.declined_policies.items())
    return d


def _approval(d: Draft, i: int) -> Approval | None:
    a = d.spec.approvals[i]
    path = ("approvals", i, "approves")
    text = a.approves.strip()
    found = _crossing(d, text, path) if "->" in text else _acl_rule(d, text, path) if "#" in text else _gateway(d, text, path)
    if found is None:
        return None
    return Approval(text, unit=a.unit.strip(), document=a.document.strip(), date=a.date,
                    note=a.note.strip() if a.note and a.note.strip() else None, mark=d.mark(("approvals", i)), **found)


def _crossing(d: Draft, text: str, path: tuple) -> dict[str, Any] | None:
    ends = [e.strip() for e in text.split("->")]
    if len(ends) != 2 or not all(ends):
        d.error(path, f"'{text}' is not a crossing", "write it as 'from-domain -> to-domain'")
        return None
    bad = [e for e in ends if e not in d.domains]
    for e in bad:
        d.error(path, f"approval of a crossing names the unknown domain '{e}'", suggest(e, d.domains, "domains"))
    if bad:
        return None
    if ends[0] == ends[1]:
        d.error(path, f"'{text}' crosses no boundary", "name two different domains")
        return None
    return {"kind": "crossing", "from_domain": ends[0], "to_domain": ends[1]}


def _acl_rule(d: Draft, text: str, path: tuple) -> dict[str, Any] | None:
    acl, _, number = (p.strip() for p in text.rpartition("#"))
    if acl not in d.acls:
        d.error(path, f"approval of an ACL rule names the unknown ACL '{acl}'", suggest(acl, d.acls, "acls"))
        return None
    written = len(d.acl_drafts[acl].rules)  # the rules as written: a rule is numbered by its place in the list
    if not number.isdigit() or not 1 <= int(number) <= written:
        d.error(path, f"ACL '{acl}' has no rule '{number}' (it has {written})",
                f"write {acl}#N with N from 1 to {written}, the rule's place in the list")
        return None
    return {"kind": "acl_rule", "acl": acl, "index": int(number)}


def _gateway(d: Draft, text: str, path: tuple) -> dict[str, Any] | None:
    nodes = d.model_nodes
    gateways = [n for n, v in nodes.items() if v.role in CONTROLLED_ROLES or v.gateway is not None]
    if text in nodes and text not in gateways:
        d.error(path, f"'{text}' is a {nodes[text].role}, not a gateway",
                "approve one of its ACL rules as ACL#N, or the crossing as 'from-domain -> to-domain'")
        return None
    if text not in nodes:
        d.error(path, f"approval names the unknown gateway '{text}'", suggest(text, gateways, "gateways"))
        return None
    return {"kind": "gateway", "node": text}
