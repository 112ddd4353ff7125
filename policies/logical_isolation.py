"""Rule kind ``logical_isolation``: only the listed services cross from one network to another.

Definition. Let S be the nodes of the ``from`` domains and D the nodes of the
``to`` domains. The simulator's reachability query
(:func:`simulator.reach.reach`) answers, over *all* packets, which classes of
headers sent by a node of S are delivered to a node of D (its complete
header-space answer, replies of sessions excluded). The rule holds when

- every delivered packet is allowed: it matches an entry of ``allow`` (its
  protocol, its destination port range, and the destination node matching the
  entry's ``to``, the source node its ``from``); and
- with ``require_device`` (the default), every crossing is decided by a
  controlled device (a node whose role is in ``devices``: firewall, one-way
  gateway, VPN gateway): with those devices taken out of the physical graph,
  no node of S is still joined to a node of D. This looks at every path,
  routed today or not, so a cable that bypasses the firewall fails the rule
  even while routing happens to avoid it.

When ``allow`` lets every packet through (``{proto: ip}`` with no node
filter), only the second check applies and no reachability query is run.

Evidence: for each unexpected class, the class (as header space), a
representative packet, its hop-by-hop trace with the rule that let it through,
and a pcap of it when the run has a pcap folder; for a crossing without a
controlled device, the shortest such path.

Example (policy file)::

    - id: EGOV-LI-1
      kind: logical_isolation
      severity: critical
      clause: 中办发〔2002〕17号
      params:
        from: [public]
        to: [kind:extranet, kind:dmz]
        allow:
          - {proto: tcp, dport: 443, to: {service: portal}}
"""

from __future__ import annotations

from typing import Any

from topology.errors import GovnetError
from topology.model import Network
from topology.selectors import node_matches, select_domains
from topology.vocabulary import PROTO_NUMBERS

from .connectivity import components, shortest_paths
from .evidence import (
    cap_list,
    evidence_pcap,
    path_evidence,
    plural,
    render_path,
    rule_marks,
)
from .model import Evidence, PolicyRule, RuleResult
from .params import Allow, LogicalIsolationParams
from .registry import Context, params_of, register

MAX_EVIDENCE = 20


def allowed_space(net: Network, allows: list[Allow], src: str, dst: str):
    """The header space ``allows`` permit from node ``src`` to node ``dst``."""
    from simulator.headerspace import HeaderSpace, box

    boxes = []
    for a in allows:
        if a.to is not None and not node_matches(a.to, net.nodes[dst], net.sites, net.domains):
            continue
        if a.from_ is not None and not node_matches(a.from_, net.nodes[src], net.sites, net.domains):
            continue
        proto = None if a.proto == "ip" else (PROTO_NUMBERS[a.proto], PROTO_NUMBERS[a.proto])
        boxes.append(box(proto=proto, dport=a.port_range()))
    space = HeaderSpace(())
    for b in boxes:
        space = space.union(HeaderSpace.of(b))
    return space


def _trace_of(net: Network, cls: Any, point: tuple[int, int, int, int, int] | None):
    """A trace of the representative ``point`` (or the class's own trace when it cannot be re-traced)."""
    if point is None:
        return getattr(cls, "trace", None)
    from simulator.headerspace import ip_text
    from simulator.trace import trace
    from topology.vocabulary import PROTO_NAMES

    src, dst, proto, sport, dport = point
    name = PROTO_NAMES.get(proto)
    if name not in ("tcp", "udp", "icmp"):
        return getattr(cls, "trace", None)
    try:
        return trace(net, cls.src_node, ip_text(dst), proto=name, sport=sport if name != "icmp" else 0,
                     dport=dport if name != "icmp" else 0, src_ip=ip_text(src),
                     icmp_type=dport if name == "icmp" else 8)
    except GovnetError:
        return getattr(cls, "trace", None)


def _preference(cls: Any) -> dict[int, tuple[int, ...]]:
    """Prefer the class's own representative addresses, then common ports."""
    import ipaddress

    rep = getattr(cls, "representative", {}) or {}
    prefer: dict[int, tuple[int, ...]] = {3: (40000,), 4: (443, 80, 22, 3389)}
    for field_, key in ((0, "src"), (1, "dst")):
        try:
            prefer[field_] = (int(ipaddress.IPv4Address(rep[key])),)
        except (KeyError, ValueError):
            pass
    return prefer


def _packet_json(point: tuple[int, int, int, int, int]) -> dict[str, Any]:
    from simulator.headerspace import ip_text
    from topology.vocabulary import PROTO_NAMES

    src, dst, proto, sport, dport = point
    out: dict[str, Any] = {"src": ip_text(src), "dst": ip_text(dst), "proto": PROTO_NAMES.get(proto, str(proto))}
    if proto in (6, 17):
        out["sport"], out["dport"] = sport, dport
    elif proto == 1:
        out["icmp_type"] = dport
    return out


def _packet_text(p: dict[str, Any]) -> str:
    text = f"{p['proto']} {p['src']}"
    if "sport" in p:
        return text + f":{p['sport']} → {p['dst']}:{p['dport']}"
    if "icmp_type" in p:
        return text + f" → {p['dst']} (type {p['icmp_type']})"
    return text + f" → {p['dst']}"


def _deciding_rule(t: Any) -> tuple[str, Any]:
    """The firewall rule that let the packet through (the last permit on the way), readable, with its mark."""
    if t is None:
        return "", None
    for hop in reversed(t.hops):
        ref = getattr(hop, "rule", None)
        if ref is not None and ref.action == "permit":
            which = "the default action" if ref.index == 0 else f"rule {ref.index}"
            return f"let through by {which} of ACL {ref.acl} at {ref.node}", ref
    return "", None




@register("logical_isolation")
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, LogicalIsolationParams)
    src_domains = select_domains(net, p.from_)
    dst_domains = [d for d in select_domains(net, p.to) if d not in src_domains]
    sources = [n.name for n in net.nodes.values() if n.domain in src_domains]
    destinations = [n.name for n in net.nodes.values() if n.domain in dst_domains]
    scope = (f"{', '.join(net.domain_label(d) for d in src_domains) or '-'} → "
             f"{', '.join(net.domain_label(d) for d in dst_domains) or '-'}")
    if not sources or not destinations:
        lacking = [f"no node in a network matching {', '.join(sels)}"
                   for sels, side in ((p.from_, sources), (p.to, destinations)) if not side]
        return RuleResult.not_applicable(rule, "; ".join(lacking) + f" ({scope})")
    evidence: list[Evidence] = []
    unexpected = uncontrolled = 0
    groups: dict[tuple, list[tuple[Any, Any]]] = {}
    crossing: int | None = None

    if p.require_device:
        # every crossing through a controlled device: with the devices taken out of the physical graph,
        # no node of one side may still be joined to a node of the other (any path, routed or not)
        devices = [n.name for n in net.nodes.values() if n.role in p.devices]
        comps = components(net, context, devices)
        pi = comps.index
        joined = comps.joined_pairs()
        for d1 in src_domains:
            for d2 in dst_domains:
                if frozenset((d1, d2)) not in joined:
                    continue
                found = shortest_paths(comps, pi.nodes_of(d1), {d2: pi.nodes_of(d2)})
                path = found.get(d2, [])
                uncontrolled += 1
                evidence.append(path_evidence(
                    net, path, f"{net.domain_label(d1)} reaches {net.domain_label(d2)} without passing any "
                    f"firewall or gateway: {render_path(net, path)}", from_domain=d1, to_domain=d2))

    if not universal(p.allow):
        try:
            from simulator.reach import reach
        except ImportError as exc:  # pragma: no cover - the simulator ships reach
            raise GovnetError(f"rule {rule.id}: the simulator's reachability query is not available ({exc})") from None
        key = ("reach", tuple(sources), tuple(destinations))
        classes = context.memo(key, lambda: reach(net, sources, destinations))
        crossing = 0
    else:
        classes = []
    # unexpected classes grouped by what they are apart from the destination (one hole, many targets)
    groups = {}
    for cls in classes:
        crossing = (crossing or 0) + 1
        space = cls.space
        extra = space.subtract(allowed_space(net, p.allow, cls.src_node, cls.dst_node)) if p.allow else space
        if not extra:
            continue
        unexpected += 1
        signature = (cls.src_node, tuple(sorted((b[0], b[2], b[3], b[4]) for b in extra.boxes)))
        groups.setdefault(signature, []).append((cls, extra))
    for members in groups.values():
        if len(evidence) >= MAX_EVIDENCE:
            break
        cls, extra = members[0]
        point = extra.representative(prefer=_preference(cls))
        shown = _trace_of(net, cls, point)
        packet = _packet_json(point)
        how, ref = _deciding_rule(shown)
        marks = rule_marks(net, ref) + [net.nodes[cls.dst_node].mark]
        targets = [c.dst_node for c, _ in members]
        data: dict[str, Any] = {
            "src_node": cls.src_node, "dst_node": cls.dst_node, "dst_nodes": targets,
            "class": str(extra),
            "packet": packet,
            "trace": shown.to_json() if shown is not None else None,
        }
        pcap = evidence_pcap(shown, context, f"{rule.id}-{cls.src_node}-{cls.dst_node}-{len(evidence) + 1}")
        if pcap:
            data["pcap"] = pcap
        reached = cls.dst_node if len(targets) == 1 else f"{len(targets)} nodes ({cap_list(targets, 3)})"
        summary = (f"{cls.src_node} can reach {reached} with packets no allowed service covers, "
                   f"such as {data['class']}; e.g. {_packet_text(packet)}" + (f", {how}" if how else ""))
        evidence.append(Evidence(kind="packet", summary=summary, data=data, marks=tuple(marks),
                                 subjects=tuple(dict.fromkeys([cls.src_node, *targets]))))
    problems = []
    if uncontrolled:
        problems.append(f"{plural(uncontrolled, 'pair')} of networks joined {scope} without a controlled device")
    if unexpected:
        problems.append(f"{plural(unexpected, 'class', 'classes')} of packets ({plural(len(groups), 'kind')}) "
                        f"cross {scope} beyond the allowed services")
    if problems:
        more = f" (the first {MAX_EVIDENCE} kinds are shown)" if len(groups) > MAX_EVIDENCE else ""
        return RuleResult.failed(rule, "; ".join(problems) + more, evidence)
    through = " through firewalls or gateways" if p.require_device else ""
    if crossing is None:
        return RuleResult.passed(rule, f"every service may cross {scope}, and every crossing is{through or ' allowed'}")
    if not crossing:
        return RuleResult.passed(rule, f"no packet crosses {scope} at all")
    return RuleResult.passed(rule, f"all {plural(crossing, 'class', 'classes')} of packets crossing {scope} are allowed "
                             f"services{through}")


def universal(allows: list[Allow]) -> bool:
    """Whether ``allows`` permit every packet between every pair of nodes."""
    return any(a.proto == "ip" and a.dport is None and a.to is None and a.from_ is None for a in allows)
