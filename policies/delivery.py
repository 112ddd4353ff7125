"""Rule kind ``delivery``: declared traffic arrives, there and back, and every declared tunnel is up.

Definition. The *demands* of a plan are its ``traffic:`` flows and the video
cascade between MCUs (:func:`simulator.traffic.demands`). The rule holds when,
in the packet-level simulator:

- ``flows``: every demand's packet (its service's protocol and port, from the
  source's address to the destination's) is delivered to its destination on
  every equal-cost branch (:func:`simulator.load.demand_path`: the same
  per-hop decision as a trace, ACLs, NAT, one-way gateways and tunnels
  included);
- ``replies``: for a connection-oriented service (TCP) the answer comes back
  too, through the same stateful firewalls and NAT (:func:`simulator.trace.reply`):
  a connection whose answers are lost delivers nothing. A service the plan
  declares ``one_way`` (a push through a one-way gateway) expects no answer;
- ``tunnels``: every declared tunnel is up: each endpoint's outer packets
  reach the other endpoint (:meth:`Forwarder.tunnel_up`).

A plan with phases is judged in every phase, as built by then, where both
ends of a demand exist (when the check runs on the whole plan; a check of
one phase judges that phase). Evidence, per cause: the demands it stops, and
the trace of one of them to the hop that drops it, with the rule, the missing
route, the tunnel that is down or the hop limit.

Example (policy file)::

    - id: EGOV-DEL-1
      kind: delivery
      severity: high
      params: {flows: true, replies: true, tunnels: true}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.forwarding import build_forwarding
from simulator.load import base_assignment, demand_trace
from simulator.trace import RoundTrip, Trace, round_trips, trace_from_steps
from topology.errors import Mark
from topology.model import Flow, Network

from .evidence import cap_list, plural, trace_marks
from .model import Evidence, PolicyRule, RuleResult
from .params import DeliveryParams
from .registry import Context, params_of, register

MAX_GROUPS = 25
MAX_LISTED = 50


@dataclass
class _Group:
    """Demands stopped by one cause: where, by what decision and rule, which way."""

    phase: str | None
    way: str  # there | back | tunnel
    node: str
    decision: str
    cause: str
    trace: Trace | None
    tunnel: str | None = None
    demands: list[Flow] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


def phase_views(net: Network, every_phase: bool) -> list[tuple[str | None, Network]]:
    """The network states a rule about rollout judges: each phase as built by then, the last being the plan.

    A view already cut to one phase is judged as it is.
    """
    if net.phase is not None or not every_phase or len(net.phases) < 2:
        return [(None if net.phase is None else net.phases[net.phase].name, net)]
    views: list[tuple[str | None, Network]] = [(p.name, net.at_phase(p.index)) for p in net.phases[:-1]]
    return views + [(net.phases[-1].name, net)]


def _cause(t: Trace) -> tuple[str, str, str]:
    last = t.last
    if last.rule is not None:
        return last.node, last.decision, str(last.rule)
    return last.node, last.decision, last.detail or last.decision


@register("delivery")
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, DeliveryParams)
    groups: dict[tuple, _Group] = {}
    flows = answered = tunnels_up = tunnels = 0
    views = phase_views(net, p.phases)

    def stopped(phase: str | None, way: str, t: Trace | None, demand: Flow | None, marks: list[Mark],
                fallback: tuple[str, str, str], tunnel: str | None = None) -> None:
        node, decision, cause = _cause(t) if t is not None else fallback
        key = (phase, way, node, decision, cause, tunnel)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(phase, way, node, decision, cause, t, tunnel)
            group.marks.extend(marks)
        if demand is not None:
            group.demands.append(demand)

    for phase, view in views:
        fw = build_forwarding(view)
        if p.tunnels:
            for name, tunnel in view.tunnels.items():
                tunnels += 1
                up, why = fw.tunnel_up(name)
                if up:
                    tunnels_up += 1
                    continue
                probe = fw.tunnel_probe(name)
                t = trace_from_steps(view, probe, probe[0].node, tunnel.b if probe[0].node == tunnel.a else tunnel.a) \
                    if probe else None
                stopped(phase, "tunnel", t, None, [tunnel.mark], (tunnel.a, "down", why), name)
        if not p.flows:
            continue
        a = base_assignment(view)
        for demand, path in zip(a.demands, a.paths):
            flows += 1
            if path.delivered < 1.0 - 1e-9:
                t = demand_trace(fw, demand)
                stopped(phase, "there", t, demand, [demand.mark], (demand.src, "dropped", "no address"))
                continue
            if not p.replies or demand.protocol != "tcp" or demand.one_way:
                continue
            trip = round_trip_of(view, demand.src, demand.dst, "tcp", demand.port)
            if trip is not None and trip.delivered:
                answered += 1
                continue
            back = trip.back if trip is not None else None
            stopped(phase, "back" if back is not None else "there", trip.failed if trip is not None else None,
                    demand, [demand.mark], (demand.dst, "dropped", "no answer"))

    if not flows and not tunnels:
        return RuleResult.not_applicable(rule, "the plan declares no traffic and no tunnel")
    where = f" in {plural(len(views), 'phase')}" if len(views) > 1 else ""
    if not groups:
        parts = []
        if p.flows:
            parts.append(f"all {plural(flows, 'declared demand')} arrive" +
                         (f" ({answered} TCP answers come back)" if p.replies and answered else ""))
        if p.tunnels and tunnels:
            parts.append(f"{plural(tunnels_up, 'tunnel')} up")
        return RuleResult.passed(rule, "; ".join(parts) + where)
    evidence = [_evidence(view_net(views, g.phase), g) for g in
                sorted(groups.values(), key=lambda g: (-len(g.demands), g.phase or "", g.way, g.node, g.cause))]
    stopped_flows = sum(len(g.demands) for g in groups.values() if g.way != "tunnel")
    down = sum(1 for g in groups.values() if g.way == "tunnel")
    problems = []
    if stopped_flows:
        problems.append(f"{plural(stopped_flows, 'declared demand')} of {flows} do not arrive or get no answer")
    if down:
        problems.append(f"{plural(down, 'tunnel')} down")
    more = f" (the first {MAX_GROUPS} causes are shown)" if len(evidence) > MAX_GROUPS else ""
    return RuleResult.failed(rule, "; ".join(problems) + where + more, evidence[:MAX_GROUPS])


def round_trip_of(net: Network, src: str, dst: str, proto: str, dport: int,
                  answer: bool = True) -> RoundTrip | None:
    """The round trip of one probe from ``src`` to node ``dst``, shared by the rules of one run
    (:func:`simulator.trace.round_trips`); None when an end has no address."""
    return round_trips(net).get(src, dst, proto, dport, answer)


def view_net(views: list[tuple[str | None, Network]], phase: str | None) -> Network:
    return next(v for name, v in views if name == phase)


def _evidence(net: Network, g: _Group) -> Evidence:
    phase = f" in phase {g.phase}" if g.phase else ""
    labels = [d.label for d in g.demands]
    if g.way == "tunnel":
        summary = (f"tunnel {g.tunnel} is down{phase}: its outer packets are {g.decision.replace('_', ' ')} at "
                   f"{g.node} ({g.cause})")
    elif g.way == "back":
        summary = (f"{plural(len(g.demands), 'declared TCP demand')} get no answer{phase}: the reply is {g.decision} "
                   f"at {g.node} ({g.cause}); {cap_list(labels, 3)}")
    else:
        summary = (f"{plural(len(g.demands), 'declared demand')} do not arrive{phase}: {g.decision.replace('_', ' ')} "
                   f"at {g.node} ({g.cause}); {cap_list(labels, 3)}")
    data: dict[str, Any] = {
        "phase": g.phase, "way": g.way, "tunnel": g.tunnel, "node": g.node, "decision": g.decision, "cause": g.cause,
        "demands": [{"service": d.service, "src": d.src, "dst": d.dst, "protocol": d.protocol, "port": d.port}
                    for d in g.demands[:MAX_LISTED]],
        "count": len(g.demands),
        "trace": g.trace.to_json() if g.trace is not None else None,
    }
    marks = (trace_marks(net, g.trace) if g.trace is not None else []) + g.marks[:3]
    subjects = sorted({g.node} | {d.src for d in g.demands} | {d.dst for d in g.demands})
    return Evidence("flow" if g.way != "tunnel" else "tunnel", summary, data, tuple(dict.fromkeys(marks)),
                    tuple(subjects))
