"""Rule kind ``unified_channel``: every link between sites uses the unified network channel.

Definition (Chongqing: "必须采用统一的网络通道"). Within the checked domains
a link breaks the rule when

- the plan marks it ``channel: false`` (outside the unified channel);
- it is a *side link*: it joins two sites neither of which lies above the
  other (two counties, a township and another county ...), instead of going
  up the vertical network and down again. With ``lateral_roles`` a plan's
  policy may accept side links whose two ends both have one of those roles
  (for instance a carrier ring between county cores declared as part of the
  channel); by default none is accepted;
- it joins two units directly (both ends have a role in ``unit_roles``,
  by default ``host``): a private line between departments that bypasses the
  level's core.

Links between two different domains are left to the isolation rules.
Evidence: each offending link, at its line in the plan.

Example (policy file)::

    - id: EGOV-UC-1
      kind: unified_channel
      severity: high
      clause: 渝府办发 统一网络通道 [002]
"""

from __future__ import annotations

from topology.model import Network
from topology.selectors import DomainSelector, select_domains

from .evidence import link_evidence, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import Params
from .registry import Context, params_of, register


class UnifiedChannelParams(Params):
    domains: list[DomainSelector] = ["trusted"]
    unit_roles: list[str] = ["host"]
    lateral_roles: list[str] = []


def _related(net: Network, s1: str, s2: str) -> bool:
    if s1 == s2:
        return True
    if s1 not in net.sites or s2 not in net.sites:
        return True  # unknown sites are the loader's business
    return s1 in net.site_ancestors(s2) or s2 in net.site_ancestors(s1)


@register("unified_channel", params=UnifiedChannelParams)
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, UnifiedChannelParams)
    wanted = set(select_domains(net, p.domains))
    evidence: list[Evidence] = []
    checked = 0
    for link in net.links.values():
        a, b = net.nodes[link.a], net.nodes[link.b]
        if a.domain != b.domain or a.domain not in wanted:
            continue
        checked += 1
        if not link.channel:
            evidence.append(link_evidence(
                net, link, f"link {link.name} ({a.site} — {b.site}) is declared outside the unified network channel",
                finding="outside_channel"))
        elif not _related(net, a.site, b.site) and not (a.role in p.lateral_roles and b.role in p.lateral_roles):
            evidence.append(link_evidence(
                net, link, f"link {link.name} is a private side link between {a.site} and {b.site}: sites of "
                "different branches must connect through the unified vertical network",
                finding="side_link", sites=[a.site, b.site]))
        elif a.role in p.unit_roles and b.role in p.unit_roles:
            evidence.append(link_evidence(
                net, link, f"link {link.name} joins two units ({link.a}, {link.b}) directly, bypassing the "
                "core of their level", finding="unit_to_unit"))
    if evidence:
        return RuleResult.failed(rule, f"{plural(len(evidence), 'link')} outside the unified network channel", evidence)
    if not checked:
        return RuleResult.not_applicable(rule, f"no link joins two nodes of one network matching {', '.join(p.domains)}")
    return RuleResult.passed(rule, f"all {plural(checked, 'link')} inside the networks follow the unified channel")
