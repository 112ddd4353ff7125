"""Rule kind ``default_deny``: every boundary is a controlled interface that denies by default.

Definition. A *boundary link* joins two forwarding devices (routers, switches,
firewalls, gateways, clouds) of two different domains. For each
boundary link (where at least one side is in ``domains``):

- ``require_device``: one end is a controlled boundary device (a role in
  ``devices``: firewall, one-way gateway, VPN gateway) — GB/T 22239-2019
  8.1.3.1 a);
- ``ends_in_deny``: the *boundary interface* — each controlled device's
  interface on the link, or, when neither end is a device, at least one of
  the two interfaces — denies whatever its rules do not permit, in each
  direction of ``directions`` (``in``: traffic arriving over the link;
  ``out``: traffic leaving over it). An ACL ends in deny when its first rule
  matching every packet is a deny, or when no rule matches every packet and
  what falls through is denied (an applied ACL denies what it does not match,
  as on routers, unless the node's ``default_action`` says permit). Without an
  ACL only a ``default_action: deny`` denies. A one-way gateway passes only
  its declared direction and protocols, so it always ends in deny —
  8.1.3.2 a);
- ``shadowed``: every ACL applied on a controlled device is scanned for rules
  that can never match because the rules above them already decide every
  packet they describe (shadowed when an earlier rule does the opposite,
  redundant when the earlier rules agree) — 8.1.3.2 b). ``fail`` makes such
  rules a failure, ``note`` lists them on a passing result, ``off`` skips.

Example (policy file)::

    - id: DJ-AC-1
      kind: default_deny
      severity: high
      clause: GB/T 22239-2019 8.1.3.2 a)
      params: {require_device: false, shadowed: off}
"""

from __future__ import annotations

from simulator.acl import dead_rules, fallthrough, is_catch_all, rule_box
from simulator.headerspace import box_text
from topology.errors import Mark
from topology.model import Acl, Interface, Link, Network, Node, Rule
from topology.selectors import select_domains
from topology.vocabulary import FORWARDING_ROLES

from .evidence import link_evidence, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import DefaultDenyParams
from .registry import LAYOUT, Context, params_of, register


def boundary_links(net: Network, domains: list[str]) -> list[Link]:
    """Links between two forwarding devices of different domains (at least one of them selected).

    A host, server or MCU does not carry traffic between networks, so a
    computer cabled into two networks (一机两用) is a physical-isolation
    violation, not a boundary that a firewall could control.
    """
    wanted = set(select_domains(net, domains))
    return [l for l in net.links.values()
            if net.nodes[l.a].domain != net.nodes[l.b].domain
            and (net.nodes[l.a].domain in wanted or net.nodes[l.b].domain in wanted)
            and net.nodes[l.a].role in FORWARDING_ROLES and net.nodes[l.b].role in FORWARDING_ROLES]




def ends_in(net: Network, node: Node, acl_name: str | None) -> tuple[str, str]:
    """(``deny``/``permit``, why) for packets the interface's rules do not explicitly handle."""
    if node.role == "one_way_gateway":
        return "deny", "a one-way gateway passes only its declared direction"
    acl = net.acls.get(acl_name) if acl_name else None
    if acl is None:
        action = fallthrough(node, False)
        why = "no ACL; the device denies by default" if action == "deny" else (
            "no ACL is applied and the device does not deny by default")
        return action, why
    for rule in acl.rules:
        if is_catch_all(rule):
            return rule.action, f"ACL {acl.name} rule {rule.index} {rule.action}s everything left"
    action = fallthrough(node, True)
    return action, (f"ACL {acl.name} ends without a catch-all rule and the device "
                    f"{'denies' if action == 'deny' else 'permits'} what it does not match")


def rule_at(acl: Acl, index: int) -> Rule:
    """The (first piece of the) rule written at position ``index`` of ``acl``."""
    return next(r for r in acl.rules if r.index == index)


def _iface(net: Network, link: Link, node: str) -> Interface:
    return net.nodes[node].interfaces[link.a_if if node == link.a else link.b_if]


@register("default_deny", reads=LAYOUT | {"acls"})
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, DefaultDenyParams)
    links = boundary_links(net, p.domains)
    evidence: list[Evidence] = []
    notes: list[Evidence] = []
    problems: list[str] = []
    no_device = open_ifaces = 0
    for link in links:
        da, db = net.nodes[link.a].domain, net.nodes[link.b].domain
        between = f"{net.domain_label(da)} and {net.domain_label(db)}"
        devices = [n for n in (link.a, link.b) if net.nodes[n].role in p.devices]
        if p.require_device and not devices:
            no_device += 1
            evidence.append(link_evidence(
                net, link, f"link {link.name} joins {between} with no firewall or gateway at either end "
                f"({link.a} is a {net.nodes[link.a].role}, {link.b} a {net.nodes[link.b].role})"))
        if p.ends_in_deny:
            ends = devices or [link.a, link.b]
            verdicts = []
            for end in ends:
                node, iface = net.nodes[end], _iface(net, link, end)
                for direction in p.directions:
                    acl_name = iface.acl_in if direction == "in" else iface.acl_out
                    action, why = ends_in(net, node, acl_name)
                    verdicts.append((end, iface, direction, action, why, acl_name))
            failing = [v for v in verdicts if v[3] != "deny"]
            if devices:
                bad = failing
            else:
                # no device: one of the two interfaces ending in deny is enough, per direction
                bad = [v for v in failing
                       if not any(w[2] == v[2] and w[3] == "deny" for w in verdicts)]
            for end, iface, direction, action, why, acl_name in bad:
                open_ifaces += 1
                marks: tuple[Mark, ...] = (iface.mark, link.mark)
                if acl_name and acl_name in net.acls:
                    acl = net.acls[acl_name]
                    catch = next((r for r in acl.rules if is_catch_all(r)), None)
                    marks = ((catch.mark,) if catch is not None else ()) + (acl.mark,) + marks
                evidence.append(Evidence(
                    kind="interface", subjects=(end,),
                    summary=(f"{end}:{iface.name} (boundary between {between}) lets through what it does not "
                             f"explicitly allow ({'arriving' if direction == 'in' else 'leaving'} traffic): {why}"),
                    data={"node": end, "interface": iface.name, "link": link.name, "direction": direction,
                          "acl": acl_name, "ends_in": action},
                    marks=marks))
    if no_device:
        problems.append(f"{plural(no_device, 'boundary link')} without a controlled device")
    if open_ifaces:
        problems.append(f"{plural(open_ifaces, 'boundary interface')} not ending in deny")

    shadow_count = 0
    applied: dict[str, list[str]] = {}
    applied_nodes: dict[str, list[str]] = {}
    if p.shadowed != "off":
        for node in net.nodes.values():
            if node.role not in p.devices:
                continue
            for iface in node.interfaces.values():
                for name in (iface.acl_in, iface.acl_out):
                    if name and name in net.acls:
                        applied.setdefault(name, []).append(f"{node.name}:{iface.name}")
                        if node.name not in applied_nodes.setdefault(name, []):
                            applied_nodes[name].append(node.name)
        for name in sorted(applied, key=lambda n: list(net.acls).index(n)):
            acl = net.acls[name]
            for index, how, by in dead_rules(acl):
                shadow_count += 1
                r = rule_at(acl, index)
                earlier = ", ".join(str(i) for i in by)
                text = (f"ACL {name} rule {index} ({r.action} {box_text(rule_box(r))}) never matches: "
                        + (f"rule{'s' if len(by) > 1 else ''} {earlier} above already "
                           + ("decide" if len(by) > 1 else "decides")
                           + (" the opposite for every packet it describes (shadowed)" if how == "shadowed"
                              else " every packet it describes the same way (redundant)")))
                item = Evidence(kind="acl_rule", summary=text,
                                data={"acl": name, "rule": index, "finding": how, "covered_by": by,
                                      "applied_on": applied[name]},
                                marks=(r.mark,) + tuple(rule_at(acl, i).mark for i in by[:3]),
                                subjects=tuple(applied_nodes[name]))
                (evidence if p.shadowed == "fail" else notes).append(item)
        if shadow_count and p.shadowed == "fail":
            problems.append(f"{plural(shadow_count, 'firewall rule')} that can never match")

    if problems:
        return RuleResult.failed(rule, "; ".join(problems), evidence + notes)
    judges_links = (p.require_device or p.ends_in_deny) and bool(links)
    judges_acls = p.shadowed != "off" and bool(applied)
    if not judges_links and not judges_acls:
        lacking = []
        if p.require_device or p.ends_in_deny:
            lacking.append(f"no link joins the forwarding devices of two networks (one matching {', '.join(p.domains)})")
        if p.shadowed != "off":
            lacking.append(f"no ACL is applied on a {' or '.join(p.devices)}")
        return RuleResult.not_applicable(rule, "; ".join(lacking))
    parts = []
    if p.require_device:
        parts.append(f"every one of {plural(len(links), 'boundary link')} has a controlled device")
    if p.ends_in_deny:
        parts.append(f"every boundary interface of {plural(len(links), 'boundary link')} denies by default")
    if p.shadowed != "off":
        parts.append(f"{plural(len(applied), 'firewall ACL')} checked, " + (
            f"note: {plural(shadow_count, 'rule')} can never match" if shadow_count else "no rule that can never match"))
    return RuleResult(rule, "pass", "; ".join(parts), tuple(notes))
