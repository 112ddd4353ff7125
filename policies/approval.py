"""Rule kind ``approval``: every boundary crossing the plan allows has its approval (网络接入审批).

Definition. The crossings are those of :func:`policies.crossings.crossings`:
every class of packets (the complete header-space answer) from one domain
into another, grouped by the devices and rules that let it through. A
crossing is *approved* when an entry of the plan's ``approvals:`` names its
domain pair (``from -> to``), a device that let it through (a gateway), or an
ACL rule that let it through (``ACL#N``) (:func:`policies.crossings.approvals_of`).

The rule **fails** for every unapproved crossing into a domain that
``fail_into`` selects (default: the intranet and every classified domain:
in Weihai the 市政府应急办 approves each new intranet connection [seed 000]);
every other unapproved crossing is **reported** (the rule passes, with the
crossing as evidence). A plan that allows no crossing at all gives the rule
nothing to judge: it is not applicable.

Example (policy file)::

    - id: EGOV-APR-1
      kind: approval
      severity: high
      params: {fail_into: [kind:intranet, classified]}
"""

from __future__ import annotations

from topology.model import Network
from topology.selectors import select_domains

from .crossings import Crossing, approvals_of, crossings
from .evidence import cap_list, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import ApprovalParams
from .registry import Context, params_of, register

MAX_EVIDENCE = 40
CLASSES_SHOWN = 3


def crossing_evidence(net: Network, crossing: Crossing, level: str) -> Evidence:
    """An unapproved crossing as evidence: the domains, what let it through (with its plan lines), its classes
    with their representative packets, and the path and trace of the first class."""
    first = crossing.classes[0]
    path = list(first.path)
    data = {
        "level": level,
        "from": crossing.from_domain,
        "to": crossing.to_domain,
        "controls": [{"ref": c.ref, "text": c.text(), "node": c.node, "kind": c.kind} for c in crossing.controls],
        "classes": [{"from": c.src_node, "to": c.dst_node, "space": str(c.space), "headers": c.space.size(),
                     "representative": c.representative} for c in crossing.classes[:CLASSES_SHOWN]],
        "class_count": len(crossing.classes),
        "nodes": [{"name": n, "domain": net.nodes[n].domain, "role": net.nodes[n].role} for n in path],
        "packet": first.representative,
        "trace": first.trace.to_json(),
    }
    summary = (f"{net.domain_label(crossing.from_domain)} -> {net.domain_label(crossing.to_domain)}: "
               f"{plural(len(crossing.classes), 'class', 'classes')} of packets ({first.space}"
               f"{', ...' if len(crossing.classes) > 1 else ''}) through {crossing.control_text}, with no approval")
    return Evidence("crossing", summary, data, crossing.marks(net), crossing.subjects())


@register("approval", apart=True)
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, ApprovalParams)
    found = crossings(net)
    if not found:
        return RuleResult.not_applicable(rule, "the plan allows no crossing from one network into another")
    guarded = set(select_domains(net, p.fail_into))
    unapproved = [c for c in found if not approvals_of(c, net.approvals)]
    failing = [c for c in unapproved if c.to_domain in guarded]
    noted = [c for c in unapproved if c.to_domain not in guarded]
    evidence = [crossing_evidence(net, c, "fail") for c in failing[:MAX_EVIDENCE]]
    evidence += [crossing_evidence(net, c, "warn") for c in noted[:max(0, MAX_EVIDENCE - len(evidence))]]
    approved = len(found) - len(unapproved)
    if failing:
        into = cap_list(sorted({net.domain_label(c.to_domain) for c in failing}))
        return RuleResult.failed(rule, f"{plural(len(failing), 'crossing')} into {into} "
                                       f"{'have' if len(failing) != 1 else 'has'} no approval"
                                 + (f"; {len(noted)} more unapproved into other networks" if noted else ""), evidence)
    message = f"{plural(approved, 'crossing')} approved"
    if not guarded & {c.to_domain for c in found}:
        message += f"; none into {', '.join(p.fail_into)}"
    if noted:
        message += f"; {plural(len(noted), 'crossing')} into other networks without approval (reported)"
    return RuleResult(rule, "pass", message, tuple(evidence))
