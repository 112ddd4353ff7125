"""Rule kind ``coverage``: 横向到边, 纵向到底 — every unit is connected, at every level.

Definition. In each checked domain, *A reaches B* when the domain's own
links (and its tunnels, which carry it across other networks) join them and
the packet-level simulator delivers a probe from A to B and its answer back
(:func:`simulator.trace.round_trip`: routes, ACLs, NAT, tunnels that must be
up). The probe is the plan's own traffic from A to B when it declares some,
else the packet of the plan's service of the need's kind (document exchange,
video), else ``probe`` (default TCP 443); towards a core it is
``core_probe`` (default an ICMP echo, a ping). Then:

- every unit (a node whose role is in ``unit_roles``; a host inside a
  department VPN (专用网络区) only with ``vpn_units``, since it belongs to
  its department's network, whose separation ``vrf_separation`` judges and
  whose declared flows ``delivery`` judges) reaches its level's
  core: a node with a role in ``core_roles`` at the unit's site, or, when its
  site has none, at the nearest site above it (横向到边);
- every core reaches the core of the level above it (纵向到底), up the
  site tree of :data:`~topology.vocabulary.LEVELS` (乡镇 → 县 → 市/州 → 省
  → 中央): a province's core reaches the national centre's when the plan
  has a site of level ``central`` above it;
- every unit reaches the services it needs (``needs``): for each service,
  the nearest provider at its own site or above (``own``: the centre of its
  level) and, with ``above``, also the nearest provider above that one (the
  centre of the level above). A provider is a node listing the service in
  ``services`` (``video_mcu`` also matches a node of role ``mcu``).

A service with no provider anywhere in the domain is reported as not
applicable unless the need is ``required``. Evidence: each unit (or core)
cut off, with what it cannot reach (``target``, at ``target_site``; sites
are named with their levels) and the trace of the probe (or of its answer)
to the hop that drops it.

Example (policy file)::

    - id: EGOV-COV-1
      kind: coverage
      params:
        domains: [kind:extranet]
        needs:
          - {service: document_exchange, levels: [own, above]}
          - {service: video_mcu}
"""

from __future__ import annotations

from dataclasses import replace

from simulator.trace import Trace
from simulator.traffic import demands
from topology.model import Flow, Network, Node
from topology.selectors import select_domains

from .connectivity import component_labels
from .delivery import round_trip_of
from .evidence import node_evidence, plural, trace_marks
from .model import Evidence, PolicyRule, RuleResult
from .params import CoverageParams
from .registry import Context, params_of, register

ROLE_ALIASES = {"video_mcu": "mcu"}
MAX_EVIDENCE = 25


SERVICE_KINDS = {"document_exchange": "document_exchange", "video_mcu": "video"}  # need -> kind of the plan's service


def _declared(net: Network) -> dict[tuple[str, str], Flow]:
    """The first declared demand between each pair of nodes (cached on the network)."""
    return net.cached(_build_declared)


def _build_declared(net: Network) -> dict[tuple[str, str], Flow]:
    out: dict[tuple[str, str], Flow] = {}
    for flow in demands(net):
        out.setdefault((flow.src, flow.dst), flow)
    return out


def probe_for(net: Network, src: str, dst: str, need: str | None, p: CoverageParams) -> tuple[str, int, bool]:
    """(protocol, port or ICMP type, whether an answer is due) of the probe from ``src`` to ``dst``.

    The plan's own traffic between the two when it declares some; else its
    service of the need's kind (document exchange, video); else the rule's
    probe (``core_probe`` towards a core).
    """
    flow = _declared(net).get((src, dst))
    if flow is not None:
        return flow.protocol, flow.port, not flow.one_way
    kind = SERVICE_KINDS.get(need or "")
    if kind is not None:
        for service in net.services.values():
            if service.kind == kind:
                return service.protocol, service.port, not service.one_way
    probe = p.probe if need is not None else p.core_probe
    return probe.proto, probe.dport, True


def provides(node: Node, service: str) -> bool:
    return service in node.services or node.role == ROLE_ALIASES.get(service, service)


def _nearest(net: Network, site: str, by_site: dict[str, list[str]], skip_self: bool = False) -> tuple[str, list[str]] | None:
    """The nearest site at or above ``site`` holding members of ``by_site`` (strictly above with skip_self)."""
    for s in net.site_ancestors(site)[1 if skip_self else 0:]:
        if by_site.get(s):
            return s, by_site[s]
    return None


def _at(net: Network, site: str) -> str:
    """A site with its level, as evidence names it: ``国家 (central)``."""
    return f"{site} ({net.sites[site].level})" if site in net.sites else site


@register("coverage")
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, CoverageParams)
    evidence: list[Evidence] = []
    problems = 0
    notes: list[str] = []
    summary: list[str] = []
    for dom in select_domains(net, p.domains):
        members = [n for n in net.nodes.values() if n.domain == dom]
        units = [n for n in members if n.role in p.unit_roles and n.site in net.sites and (p.vpn_units or n.vrf is None)]
        if not units and not any(n.role in p.core_roles for n in members):
            continue
        edges = [(l.a, l.b) for l in net.links.values()
                 if net.nodes[l.a].domain == dom and net.nodes[l.b].domain == dom]
        edges += [(t.a, t.b) for t in net.tunnels.values()
                  if net.nodes[t.a].domain == dom and net.nodes[t.b].domain == dom]
        label = component_labels([n.name for n in members], edges)
        cores: dict[str, list[str]] = {}
        for n in members:
            if n.role in p.core_roles:
                cores.setdefault(n.site, []).append(n.name)
        providers: dict[str, dict[str, list[str]]] = {}
        for need in p.needs:
            by_site: dict[str, list[str]] = {}
            for n in members:
                if provides(n, need.service):
                    by_site.setdefault(n.site, []).append(n.name)
            providers[need.service] = by_site
            if not by_site and not need.required:
                notes.append(f"no {need.service} in {net.domain_label(dom)}")

        failed: dict[str, Trace] = {}  # the last failing trace of each node, for its evidence

        def reaches(node: str, targets: list[str], need: str | None = None) -> bool:
            """Whether a probe from ``node`` gets to one of ``targets`` and its answer back."""
            for t in targets:
                if label[node] != label[t]:  # noqa: B023  (the closures run within their iteration)
                    continue  # no way inside the network (its links and tunnels): no packet needs tracing
                proto, dport, answer = probe_for(net, node, t, need, p)
                trip = round_trip_of(net, node, t, proto, dport, answer)
                if trip is None:
                    continue
                if trip.delivered:
                    return True
                failed[node] = trip.failed or trip.forward  # noqa: B023
            return False

        def report(node: str, text: str, **data) -> None:
            nonlocal problems
            problems += 1
            if len(evidence) < MAX_EVIDENCE:
                t = failed.pop(node, None)  # noqa: B023
                if t is not None:
                    last = t.last
                    text += f"; {t.text().splitlines()[0]} ends {last.decision.replace('_', ' ')} at {last.node}" + \
                        (f" ({last.rule})" if last.rule is not None else (f": {last.detail}" if last.detail else ""))
                    data["trace"] = t.to_json()
                item = node_evidence(net, node, text, **data)
                if t is not None:
                    item = replace(item, marks=tuple(dict.fromkeys(item.marks + tuple(trace_marks(net, t)))))
                evidence.append(item)

        # 纵向到底: each core reaches the core above it (a province's: the national centre's, 中央)
        for site, names in cores.items():
            if site not in net.sites:
                continue
            above = _nearest(net, site, cores, skip_self=True)
            if above is None:
                continue
            for core in names:
                if not reaches(core, above[1]):
                    report(core, f"the core {core} of {_at(net, site)} does not reach the core of {_at(net, above[0])}, "
                           f"{', '.join(above[1])}, and back inside {net.domain_label(dom)}", missing="parent_core",
                           target=above[1], target_site=above[0])
        # 横向到边 and services
        for unit in units:
            where = f"{unit.name} at {_at(net, unit.site)}"
            home = _nearest(net, unit.site, cores)
            if home is None:
                report(unit.name, f"{where} has no core at its level or above in {net.domain_label(dom)}",
                       missing="core")
            elif not reaches(unit.name, home[1]):
                report(unit.name, f"{where} does not reach the core of its level ({', '.join(home[1])} at "
                       f"{_at(net, home[0])}) and back", missing="core", target=home[1], target_site=home[0])
            for need in p.needs:
                by_site = providers[need.service]
                if not by_site and not need.required:
                    continue
                own = _nearest(net, unit.site, by_site)
                if own is None:
                    report(unit.name, f"{where} has no {need.service} at its level or above", missing=need.service)
                    continue
                if "own" in need.levels and not reaches(unit.name, own[1], need.service):
                    report(unit.name, f"{where} cannot reach the {need.service} of its level ({', '.join(own[1])} at "
                           f"{_at(net, own[0])})", missing=need.service, target=own[1], target_site=own[0])
                if "above" in need.levels:
                    up = _nearest(net, own[0], by_site, skip_self=True)
                    if up is not None and not reaches(unit.name, up[1], need.service):
                        report(unit.name, f"{where} cannot reach the {need.service} of the level above "
                               f"({', '.join(up[1])} at {_at(net, up[0])})", missing=need.service, target=up[1],
                               target_site=up[0])
        summary.append(f"{plural(len(units), 'unit')} of {net.domain_label(dom)}")
    note = f" (not applicable: {'; '.join(notes)})" if notes else ""
    if problems:
        more = f"; the first {MAX_EVIDENCE} are shown" if problems > MAX_EVIDENCE else ""
        return RuleResult.failed(rule, f"{plural(problems, 'gap')} in coverage: units or cores cut off from what they need"
                                 f"{more}{note}", evidence)
    if not summary:
        return RuleResult.not_applicable(rule, f"no unit or core in a network matching {', '.join(p.domains)}")
    return RuleResult.passed(rule, f"every unit reaches its core and services: {', '.join(summary)}{note}")
