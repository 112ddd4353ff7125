"""Rule kind ``vrf_separation``: department VPNs meet only through declared shared services.

Definition. The department VPNs (VRFs, 专用网络区) of the checked domains
are kept apart: no packet from an end system (host, server, MCU) of one
department VPN is delivered to an end system of another, unless the
destination is a declared shared service — a node of a shared VRF or a node
offering a service listed in ``shared_services``. The shared VRFs are those
listed in ``shared``, or with ``shared: auto`` (the default) those the plan's
route leaking declares: a VRF whose routes at least two other VRFs import and
whose end systems are all servers (or that has none yet) — the shared VPN
exchange platform of a hub-and-spoke design (共享VPN交换平台), not a department.
Two checks:

- the route plan: a VRF may import routes only from shared VRFs (an import
  between two department VPNs joins them directly);
- the packets: the simulator's reachability query
  (:func:`simulator.reach.reach`) over all packets between the VPNs' end
  systems; a delivered class towards a department (not shared) destination
  is a leak.

A VRF belongs to a domain by its ``domain`` or, without one, by the domain
of its member nodes. Evidence: the offending import, or the leaking class
with a representative packet and its trace.

Example (policy file)::

    - id: EGOV-VRF-1
      kind: vrf_separation
      params: {domains: [kind:extranet], shared: [共享交换平台]}
"""

from __future__ import annotations

from typing import Any

from topology.errors import GovnetError
from topology.model import Network
from topology.selectors import select_domains
from topology.vocabulary import ENDPOINT_ROLES, SERVICE_ROLES

from .evidence import plural
from .model import Evidence, PolicyRule, RuleResult
from .params import VrfSeparationParams
from .registry import Context, params_of, register

MAX_EVIDENCE = 20


def service_vrfs(net: Network, vrfs: list[str], members: dict[str, list[str]]) -> set[str]:
    """Shared-service VPNs the plan declares by its route leaking: imported by at least two other VPNs
    and holding no department host, only servers or nothing yet (the shared VPN exchange platform of a
    hub-and-spoke design, possibly before its servers are built)."""
    out = set()
    for v in vrfs:
        importers = [w for w in vrfs if w != v and v in net.vrfs[w].imports]
        ends = members.get(v, [])
        if len(importers) >= 2 and all(net.nodes[n].role in SERVICE_ROLES for n in ends):
            out.add(v)
    return out


def member_vrf(net: Network, name: str) -> str | None:
    """The VRF a node sits in: its own, or the one all its VRF-bound interfaces share."""
    node = net.nodes[name]
    if node.vrf:
        return node.vrf
    vrfs = {i.vrf for i in node.interfaces.values() if i.vrf}
    return vrfs.pop() if len(vrfs) == 1 else None


@register("vrf_separation")
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, VrfSeparationParams)
    wanted = set(select_domains(net, p.domains))
    members: dict[str, list[str]] = {}
    for node in net.nodes.values():
        vrf = member_vrf(net, node.name)
        if vrf is not None and node.role in ENDPOINT_ROLES:
            members.setdefault(vrf, []).append(node.name)
    vrfs = []
    for name, declared in net.vrfs.items():
        domain = declared.domain or next((net.nodes[m].domain for m in members.get(name, [])), None)
        if domain in wanted:
            vrfs.append(name)
    shared = service_vrfs(net, vrfs, members) if p.shared == "auto" else {v for v in vrfs if v in p.shared}
    departments = [v for v in vrfs if v not in shared]
    if len(departments) < 2:
        return RuleResult.not_applicable(rule, f"fewer than two department VPNs in the networks matching "
                                         f"{', '.join(p.domains)} ({plural(len(departments), 'department VPN')})")
    evidence: list[Evidence] = []
    problems: list[str] = []

    bad_imports = 0
    for v in departments:
        for imported in net.vrfs[v].imports:
            if imported in departments and imported != v:
                bad_imports += 1
                evidence.append(Evidence(
                    kind="vrf_import",
                    summary=f"department VPN {v} imports the routes of department VPN {imported} directly, "
                    "not through a shared service",
                    data={"vrf": v, "imports": imported}, marks=(net.vrfs[v].mark,),
                    subjects=tuple(members.get(v, ()))))
    if bad_imports:
        problems.append(f"{plural(bad_imports, 'route import')} between department VPNs")

    def is_shared(node: str) -> bool:
        n = net.nodes[node]
        return member_vrf(net, node) in shared or any(s in n.services for s in p.shared_services)

    sources = [n for v in departments for n in members.get(v, [])]
    targets = [n for n in sources if not is_shared(n)]
    leaks = 0
    if sources and targets:
        try:
            from simulator.reach import reach
        except ImportError as exc:  # pragma: no cover - the simulator ships reach
            raise GovnetError(f"rule {rule.id}: the packet simulator's reachability query is not available ({exc})") from None
        classes = context.memo(("reach", tuple(sources), tuple(targets)), lambda: reach(net, sources, targets))
        for cls in classes:  # every class reach returns is delivered
            a, b = member_vrf(net, cls.src_node), member_vrf(net, cls.dst_node)
            if a == b or a not in departments or b not in departments:
                continue
            leaks += 1
            if len(evidence) >= MAX_EVIDENCE:
                continue
            rep: dict[str, Any] = dict(cls.representative)
            t = cls.trace
            evidence.append(Evidence(
                kind="packet",
                summary=f"{cls.src_node} (VPN {a}) reaches {cls.dst_node} (VPN {b}): {cls.space}",
                data={"src_node": cls.src_node, "dst_node": cls.dst_node, "class": str(cls.space), "packet": rep,
                      "trace": t.to_json() if t is not None else None},
                marks=(net.nodes[cls.dst_node].mark, net.vrfs[b].mark),
                subjects=tuple(dict.fromkeys((cls.src_node, cls.dst_node)))))
    if leaks:
        problems.append(f"{plural(leaks, 'class', 'classes')} of packets leak between department VPNs")
    if problems:
        return RuleResult.failed(rule, "; ".join(problems), evidence)
    return RuleResult.passed(rule, f"{plural(len(departments), 'department VPN')} reach each other only through shared "
                             f"services ({', '.join(sorted(shared)) or 'none declared'})")
