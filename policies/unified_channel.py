"""Rule kind ``unified_channel``: every link between sites uses the unified network channel.

Definition (Chongqing: "必须采用统一的网络通道"). Within the checked domains
a link breaks the rule when

- the plan marks it ``channel: false`` (outside the unified channel);
- it is a *side link*: it joins two sites neither of which lies above the
  other (two provinces, two counties, a township and another county ...),
  instead of going up the vertical network (中央 → 省 → 市/州 → 县 → 乡镇,
  :data:`~topology.vocabulary.LEVELS`) to the nearest site above both and
  down again. A province's uplink to the national centre (a site of level
  ``central`` above it) is vertical; a link between two top sites has no
  site above both, and the evidence says so (the usual cause is a national
  centre written as one more province: give it ``level: central`` and the
  provinces as its children). With ``lateral_roles`` a plan's
  policy may accept side links whose two ends both have one of those roles
  (for instance a carrier ring between county cores declared as part of the
  channel); by default none is accepted;
- it joins two units directly (both ends have a role in ``unit_roles``,
  by default ``host``): a private line between departments that bypasses the
  level's core.

Links between two different domains are left to the isolation rules.
Evidence: each offending link, at its line in the plan; a side link also
names its two sites with their levels and ``via``, the site the channel
joins them at (:func:`channel_site`; None when no site lies above both).

Example (policy file)::

    - id: EGOV-UC-1
      kind: unified_channel
      severity: high
      clause: 渝府办发 统一网络通道 [002]
"""

from __future__ import annotations

from topology.model import Network
from topology.selectors import select_domains
from topology.vocabulary import LEVEL_NAMES_CN, LEVELS

from .evidence import link_evidence, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import UnifiedChannelParams
from .registry import LAYOUT, Context, params_of, register


def _related(net: Network, s1: str, s2: str) -> bool:
    if s1 == s2:
        return True
    if s1 not in net.sites or s2 not in net.sites:
        return True  # unknown sites are the loader's business
    return s1 in net.site_ancestors(s2) or s2 in net.site_ancestors(s1)


def channel_site(net: Network, s1: str, s2: str) -> str | None:
    """The nearest site strictly above both ``s1`` and ``s2``, where the unified channel joins them (None: none).

    Two provinces meet at the national centre (中央), two counties of one
    prefecture at the prefecture; two top sites meet nowhere.

    >>> from topology.loader import load_text
    >>> net = load_text('''
    ... name: t
    ... domains: {d: {kind: extranet, pool: 10.0.0.0/16}}
    ... sites: {国家: {level: central, children: {甲省: {children: {甲市: {}}}, 乙省: {}}}, 丙省: {}}
    ... nodes: {c: {role: core_router, site: 国家, domain: d}}
    ... ''')
    >>> channel_site(net, "甲市", "乙省"), channel_site(net, "甲省", "丙省")
    ('国家', None)
    """
    above = set(net.site_ancestors(s2)[1:])
    return next((s for s in net.site_ancestors(s1)[1:] if s in above), None)


def _side_link_text(net: Network, name: str, s1: str, s2: str, via: str | None) -> str:
    ends = f"{s1} ({net.sites[s1].level}) and {s2} ({net.sites[s2].level})"
    if via is not None:
        return (f"link {name} is a private side link between {ends}: sites of different branches must connect "
                f"through the unified vertical network, up to {via} ({net.sites[via].level}) and down again")
    text = f"link {name} is a private side link between {ends}: no site lies above both, so the unified vertical " \
        "network cannot join them"
    top, below = LEVELS[0], LEVELS[1]  # 中央 and the provinces
    if net.sites[s1].level == net.sites[s2].level == below:
        text += (f" (a national centre is one site of level {top} ({LEVEL_NAMES_CN[top]}) with the {below} sites "
                 f"as its children, not one more {below})")
    return text


@register("unified_channel", reads=LAYOUT)
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
            via = channel_site(net, a.site, b.site)
            evidence.append(link_evidence(
                net, link, _side_link_text(net, link.name, a.site, b.site, via), finding="side_link",
                sites=[a.site, b.site], levels=[net.sites[a.site].level, net.sites[b.site].level], via=via))
        elif a.role in p.unit_roles and b.role in p.unit_roles:
            evidence.append(link_evidence(
                net, link, f"link {link.name} joins two units ({link.a}, {link.b}) directly, bypassing the "
                "core of their level", finding="unit_to_unit"))
    if evidence:
        return RuleResult.failed(rule, f"{plural(len(evidence), 'link')} outside the unified network channel", evidence)
    if not checked:
        return RuleResult.not_applicable(rule, f"no link joins two nodes of one network matching {', '.join(p.domains)}")
    return RuleResult.passed(rule, f"all {plural(checked, 'link')} inside the networks follow the unified channel")
