"""Rule kind ``capacity``: every link direction carries its peak traffic with headroom.

Definition. The peak demands of the plan (:mod:`simulator.traffic`: its
``traffic:`` flows and the video cascade, 1.2 × the sites below each MCU)
are routed as the simulator forwards (:mod:`simulator.load`: same routes,
equal ECMP splits, tunnel overhead). For every link and direction the
*utilisation* is load / bandwidth. The rule **fails** when some direction's
utilisation exceeds ``fail`` (default 0.70: act at 70 %) and **warns** (passes,
with the directions as evidence) above ``warn`` (default 0.50: plan at 50 %).
The thresholds are planning figures [S] (POLICY-SOURCES.md), GB/T 22239-2019
8.1.2.1 b) asks that the bandwidth of every part of the network meets peak
business. A plan without any peak demand gives the rule nothing to judge: it
is not applicable; so is a plan with a link of unknown capacity
(``bandwidth: unknown``, what ``govnet import --size none`` leaves): the rule
names the link and never passes such a plan.

Only delivered traffic is placed (:mod:`simulator.load`); a demand the
simulator does not deliver (denied, no route, tunnel down ...) cannot be
placed, and the rule **fails** then too: the loads would understate what the
plan asks of its links. Evidence per direction: load, capacity, utilisation,
the largest demands on it and the smallest standard line rate that would
bring it back to ``warn``; per demand not placed: where its traffic ends.

Example (policy file)::

    - id: CAP-1
      kind: capacity
      clause: "GB/T 22239-2019 8.1.2.1 b) [V]"
      params: {warn: 0.5, fail: 0.7}
"""

from __future__ import annotations

from typing import Any

from simulator.failures import FailureAnalysis
from simulator.load import Assignment, Direction, base_assignment
from simulator.sweep import SweepResult, run_sweep
from topology.model import Network
from topology.units import STANDARD_RATES, format_bandwidth

from .evidence import cap_list, link_subjects, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import CapacityParams
from .registry import Context, params_of, register

MAX_EVIDENCE = 25
TOP_DEMANDS = 5


# -- shared by the capacity, latency and redundancy kinds ------------------------------------

def assignment_of(net: Network, context: Context | None = None) -> Assignment:
    """The plan's peak loads (cached on the network)."""
    return base_assignment(net)


def analysis_of(net: Network, context: Context | None = None) -> FailureAnalysis:
    """The failure analysis of the network (cached on the network)."""
    return net.cached(_build_analysis)


def _build_analysis(net: Network) -> FailureAnalysis:
    return FailureAnalysis(net, assignment_of(net))


def sweep_of(net: Network, context: Context, mode: str, pairs: tuple[str, ...] = (), links: bool = True,
             nodes: bool = True, limit: float = 1.0, groups: bool = False) -> SweepResult:
    """A failure sweep, shared by the rules of one run; ``context.scheduler`` picks a Dask cluster.

    ``links``, ``nodes``, ``groups``: fail every link, every node, every shared-risk group of the plan.
    The N-1 sweep with ``groups`` is the one without them and then the groups (they come last,
    :func:`simulator.failures.failure_cases`): it is run as that sweep, shared, and its group cases.
    """
    scheduler = context.scheduler
    key = ("sweep", mode, tuple(pairs), links, nodes, groups, limit)
    prefix = None
    if groups and (links or nodes) and mode == "n-1" and net.risk_groups and key not in context.cache:
        prefix = sweep_of(net, context, mode, pairs, links, nodes, limit)
    return context.memo(key, lambda: run_sweep(net, mode, list(pairs) or None, scheduler=scheduler, limit=limit,
                                               analysis=None if scheduler else analysis_of(net), links=links,
                                               nodes=nodes, groups=groups, progress=context.progress,
                                               prefix=prefix))


def unsized_links(net: Network) -> list[str]:
    """The links of ``net`` with no capacity (``bandwidth: unknown``), in plan order."""
    return [name for name, link in net.links.items() if not link.sized]


def unsized_reason(unsized: list[str]) -> str:
    """Why a capacity rule does not judge a plan with unsized links: it never passes one."""
    if len(unsized) == 1:
        return (f"link {unsized[0]} has no capacity (bandwidth: unknown), so utilisation cannot be judged; "
                "give it a bandwidth")
    return (f"{len(unsized)} links have no capacity (bandwidth: unknown), so utilisation cannot be judged: "
            f"{cap_list(unsized)}; give them bandwidths")


def standard_rate(needed: float) -> float | None:
    """The smallest standard line rate (2M, 10M, 34M, 100M, 155M, 622M, 1G, 2.5G, 10G ...) ≥ ``needed``."""
    for rate in STANDARD_RATES:
        if rate >= needed * (1 - 1e-9):
            return rate
    return None


def direction_label(net: Network, key: Direction) -> str:
    link = net.links[key[0]]
    a, b = (link.a, link.b) if key[1] == 0 else (link.b, link.a)
    return f"{a} -> {b}"


def top_demands(a: Assignment, key: Direction, count: int = TOP_DEMANDS) -> list[dict[str, Any]]:
    """The largest demands on one link direction: service, source, destination, load."""
    found = []
    for i, (d, path) in enumerate(zip(a.demands, a.paths)):
        for e in path.edges:
            if e.key == key:
                found.append((d.rate * e.share * e.factor, i))
    found.sort(key=lambda x: (-x[0], x[1]))
    return [{"service": a.demands[i].service, "src": a.demands[i].src, "dst": a.demands[i].dst,
             "load_bps": round(load, 3)} for load, i in found[:count]]


def direction_evidence(a: Assignment, key: Direction, level: str, summary: str, target: float | None = None,
                       **data: Any) -> Evidence:
    net = a.net
    link = net.links[key[0]]
    load = a.load.get(key, 0.0)
    info: dict[str, Any] = {
        "link": link.name, "direction": direction_label(net, key), "level": level,
        "capacity_bps": link.bandwidth, "load_bps": round(load, 3), "utilisation": round(load / link.bandwidth, 6),
        "demands": top_demands(a, key), **data,
    }
    if target:
        rate = standard_rate(max(data.get("worst_load_bps", 0.0), load) / target)
        info["upgrade_to_bps"] = rate
    return Evidence("link", summary, info, (link.mark,), link_subjects(link))


@register("capacity")
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, CapacityParams)
    unsized = unsized_links(net)
    if unsized:
        return RuleResult.not_applicable(rule, unsized_reason(unsized))
    a = assignment_of(net, context)
    if not a.demands:
        return RuleResult.not_applicable(rule, "the plan has no peak demand (no traffic flows, no video cascade)")
    over: list[tuple[float, Direction]] = []
    warn: list[tuple[float, Direction]] = []
    for key, load in a.load.items():
        u = load / net.links[key[0]].bandwidth
        if u > p.fail:
            over.append((u, key))
        elif u > p.warn:
            warn.append((u, key))
    over.sort(key=lambda x: (-x[0], x[1]))
    warn.sort(key=lambda x: (-x[0], x[1]))
    evidence = []
    for u, key in over[:MAX_EVIDENCE]:
        evidence.append(direction_evidence(
            a, key, "fail", f"{direction_label(net, key)}: {u:.0%} of {format_bandwidth(net.links[key[0]].bandwidth)} "
            f"at peak (limit {p.fail:.0%})", target=p.warn))
    for u, key in warn[:max(0, MAX_EVIDENCE - len(evidence))]:
        evidence.append(direction_evidence(
            a, key, "warn", f"{direction_label(net, key)}: {u:.0%} at peak, above the planning level {p.warn:.0%}",
            target=p.warn))
    undelivered = a.undelivered()
    lost = [_undelivered_evidence(a, i) for i in undelivered[:MAX_EVIDENCE]]
    unplaced = (f"{plural(len(undelivered), 'demand')} cannot be placed: the simulator does not deliver "
                f"{'them' if len(undelivered) != 1 else 'it'}, so the links carry less than the plan asks of them")
    if over or undelivered:
        parts = []
        if over:
            parts.append(f"{plural(len(over), 'link direction')} above {p.fail:.0%} at peak "
                         f"(worst {over[0][0]:.0%} on {direction_label(net, over[0][1])})"
                         + (f", {len(warn)} more above {p.warn:.0%}" if warn else ""))
        if undelivered:
            parts.append(unplaced)
        return RuleResult.failed(rule, "; ".join(parts), evidence + lost)
    peak = max((l / net.links[k[0]].bandwidth for k, l in a.load.items()), default=0.0)
    message = f"{plural(len(a.demands), 'peak demand')} fit: highest utilisation {peak:.0%}"
    if warn:
        message += f"; {plural(len(warn), 'link direction')} above the planning level {p.warn:.0%}"
    return RuleResult(rule, "pass", message, tuple(evidence))


def _undelivered_evidence(a: Assignment, index: int) -> Evidence:
    """A demand the simulator does not deliver, with where its traffic ends."""
    d, path = a.demands[index], a.paths[index]
    drop = path.drops[0] if path.drops else None
    where = f"{drop.decision.replace('_', ' ')} at {drop.node}: {drop.reason}" if drop else "not delivered"
    return Evidence("flow", f"{d.label} ({format_bandwidth(d.rate)}) is not placed: {path.delivered:.0%} delivered, "
                    f"{where}", {"service": d.service, "src": d.src, "dst": d.dst, "rate_bps": d.rate,
                                 "delivered": round(path.delivered, 9),
                                 "drops": [{"node": x.node, "decision": x.decision, "reason": x.reason,
                                            "share": round(x.share, 9)} for x in path.drops]},
                    (d.mark,) + ((a.net.nodes[drop.node].mark,) if drop and drop.node in a.net.nodes else ()),
                    (d.src, d.dst))
