"""Rule kind ``latency``: one-way delay of real-time flows within ITU-T G.114.

Definition. For every demand of the checked kinds (default ``video``: the
conference flows and the MCU cascade), the one-way delay is the worst over
its delivered ECMP branches of, per link: propagation (the link's
``latency``), transmission of one packet at the link rate, and the M/M/1
queueing estimate ``ρ/(1-ρ)`` packet times at the direction's peak
utilisation ρ (:meth:`simulator.load.Assignment.delay`). The rule fails when
a delay exceeds ``max_delay`` (default 150 ms, ITU-T G.114: up to 150 ms
acceptable for most applications; 150-400 ms conditional; above 400 ms
unacceptable) or a service's own ``max_delay`` when the plan gives one.
A link direction at or above 100 % has unbounded queueing delay: a flow
crossing one is not judged here (``saturated: skip``, the default, names
them in the message; the capacity rule fails on that link) unless
``saturated: fail``.

The fluid estimate hides bursts; ``govnet capacity --queue LINK`` runs the
packet-level simulation (:mod:`simulator.queueing`) for one link.

Example (policy file)::

    - id: CAP-LAT-1
      kind: latency
      clause: "ITU-T G.114 (05/2003) [S]"
      params: {max_delay: 150ms, kinds: [video]}
"""

from __future__ import annotations

import math

from topology.model import Network

from .capacity import assignment_of, unsized_links, unsized_reason
from .evidence import cap_list, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import LatencyParams
from .registry import Context, params_of, register

MAX_EVIDENCE = 25


def flow_delays(net: Network, kinds: list[str], queueing: bool = True) -> list[tuple[int, float]]:
    """(demand index, one-way delay in seconds) for every demand of ``kinds``."""
    a = assignment_of(net)
    return [(i, a.delay(i, queueing)) for i, d in enumerate(a.demands) if d.kind in kinds]


@register("latency")
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, LatencyParams)
    a = assignment_of(net, context)
    delays = flow_delays(net, p.kinds, p.queueing)
    if not delays:
        return RuleResult.not_applicable(rule, f"the plan has no {'/'.join(p.kinds)} flows")
    unsized = unsized_links(net)
    if unsized:  # serialisation and queueing delays need each link's capacity
        return RuleResult.not_applicable(rule, "delays cannot be computed: " + unsized_reason(unsized))
    bad: list[tuple[float, int, float]] = []
    skipped: list[int] = []
    undelivered: list[int] = []
    worst = 0.0
    for i, delay in delays:
        d = a.demands[i]
        own = net.services[d.service].max_delay if d.service in net.services else None
        limit = own if own else p.max_delay
        if a.paths[i].delivered <= 0:
            undelivered.append(i)  # not routed: no delay to judge; the delivery and capacity rules report it
            continue
        if math.isinf(delay) and p.saturated == "skip":
            skipped.append(i)
            continue
        worst = max(worst, delay)
        if delay > limit:
            bad.append((delay, i, limit))
    bad.sort(key=lambda x: (-x[0], x[1]))
    note = ""
    if skipped:
        names = cap_list([f"{a.demands[i].src} -> {a.demands[i].dst}" for i in skipped], 3)
        note = f"; {plural(len(skipped), 'flow')} cross a link at or above 100 % and are left to the capacity rule ({names})"
    if undelivered:
        names = cap_list([f"{a.demands[i].src} -> {a.demands[i].dst}" for i in undelivered], 3)
        note += (f"; {plural(len(undelivered), 'flow')} not delivered, so without a delay (the delivery and "
                 f"capacity rules report them: {names})")
    judged = len(delays) - len(skipped) - len(undelivered)
    if not bad and not judged:
        return RuleResult.not_applicable(rule, f"no {'/'.join(p.kinds)} flow has a delay to judge{note}")
    if not bad:
        return RuleResult.passed(rule, f"{plural(judged, 'flow')} of {'/'.join(p.kinds)} within "
                                       f"their one-way delay limit (worst {worst * 1000:.1f} ms){note}")
    evidence = []
    for delay, i, limit in bad[:MAX_EVIDENCE]:
        d = a.demands[i]
        path = a.paths[i]
        links = sorted({e.link for e in path.edges})
        saturated = [e.link for e in path.edges if a.utilisation(e.key) >= 1.0]
        text = "unbounded (a link on the way is at or above 100 %)" if math.isinf(delay) else f"{delay * 1000:.1f} ms"
        evidence.append(Evidence(
            "flow", f"{d.service} {d.src} -> {d.dst}: one-way delay {text}, limit {limit * 1000:.0f} ms",
            {"service": d.service, "src": d.src, "dst": d.dst, "delay_s": None if math.isinf(delay) else round(delay, 9),
             "limit_s": limit, "links": links, "saturated": sorted(set(saturated))},
            tuple(net.links[l].mark for l in links[:10]) + ((d.mark,) if d.mark else ()),
            subjects=tuple(dict.fromkeys((d.src, d.dst))),
        ))
    names = cap_list([f"{a.demands[i].src} -> {a.demands[i].dst}" for _, i, _ in bad], 3)
    return RuleResult.failed(rule, f"{plural(len(bad), 'flow')} over the one-way delay limit: {names}{note}", evidence)
