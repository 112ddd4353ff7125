"""Rule kind ``zone_addressing``: each zone has its own address block (GB/T 22239-2019 8.1.2.1 c).

Definition. Every domain in ``domains`` has an address pool, no two pools
overlap, and every address a node of the domain uses — loopback, interface
addresses, originated LAN — lies inside its domain's pool. An interface on a
link to another domain may instead take its address from the other side's
pool (the subnet of a boundary link belongs to one of the two zones).
Addresses of interfaces in a department VPN (VRF) are exempt with
``vrfs: exempt`` (the default): the 专用网络区 of the extranet uses
department-planned addresses.

Evidence: each address outside its zone's block, at the node's line.

Example (policy file)::

    - id: DJ-NA-3
      kind: zone_addressing
      clause: GB/T 22239-2019 8.1.2.1 c)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from topology.model import Network
from topology.selectors import select_domains

from .evidence import plural
from .model import Evidence, PolicyRule, RuleResult
from .params import ZoneAddressingParams
from .registry import LAYOUT, Context, params_of, register

MAX_EVIDENCE = 25


@register("zone_addressing", apart=True, reads=LAYOUT)
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, ZoneAddressingParams)
    doms = select_domains(net, p.domains)
    if not doms:
        return RuleResult.not_applicable(rule, f"the plan has no network matching {', '.join(p.domains)}")
    evidence: list[Evidence] = []
    count = 0

    def report(summary: str, marks, subjects: Iterable[str], **data) -> None:
        nonlocal count
        count += 1
        if len(evidence) < MAX_EVIDENCE:
            evidence.append(Evidence(kind="address", summary=summary, data=data, marks=tuple(marks),
                                     subjects=tuple(subjects)))

    def members(*domains: str) -> list[str]:
        return [n.name for n in net.nodes.values() if n.domain in domains]

    for d in doms:
        if net.domains[d].pool is None:
            report(f"{net.domain_label(d)} has no address block of its own", (net.domains[d].mark,), members(d),
                   domain=d)
    pools = [(block, d) for d in net.domains if (block := net.domains[d].pool) is not None]
    for i, (p1, d1) in enumerate(pools):
        for p2, d2 in pools[i + 1:]:
            if (d1 in doms or d2 in doms) and p1.overlaps(p2):
                report(f"the address blocks of {net.domain_label(d1)} ({p1}) and {net.domain_label(d2)} ({p2}) overlap",
                       (net.domains[d2].mark,), members(d1, d2), domains=[d1, d2])
    wanted = set(doms)
    for node in net.nodes.values():
        pool = net.domains[node.domain].pool if node.domain in wanted else None
        if pool is None:
            continue
        checks: list[tuple[str, ipaddress.IPv4Network, set[str], object]] = []
        if node.loopback is not None and not (node.vrf and p.vrfs == "exempt"):
            checks.append(("loopback", node.loopback.network, {node.domain}, node.mark))
        if node.lan is not None and not (node.vrf and p.vrfs == "exempt"):
            checks.append(("LAN", node.lan, {node.domain}, node.mark))
        for iface in node.interfaces.values():
            if iface.address is None or ((iface.vrf or node.vrf) and p.vrfs == "exempt"):
                continue
            allowed = {node.domain}
            if iface.link and iface.link in net.links:
                allowed.add(net.nodes[net.links[iface.link].other(node.name)].domain)
            checks.append((f"interface {iface.name}", iface.address.network, allowed, iface.mark))
        for what, prefix, allowed, mark in checks:
            blocks = [b for d in sorted(allowed) if d in net.domains and (b := net.domains[d].pool) is not None]
            if not any(prefix.subnet_of(b) for b in blocks):
                report(f"{node.name} {what} {prefix} lies outside the address block of "
                       f"{net.domain_label(node.domain)} ({pool})", (mark,), (node.name,),
                       node=node.name, prefix=str(prefix), pool=str(pool))
    if count:
        more = f"; the first {MAX_EVIDENCE} are shown" if count > MAX_EVIDENCE else ""
        return RuleResult.failed(rule, f"{plural(count, 'address problem')} in the zone address plan{more}", evidence)
    return RuleResult.passed(rule, "every zone uses its own address block: "
                             + ", ".join(f"{net.domain_label(d)} {net.domains[d].pool}" for d in doms))
