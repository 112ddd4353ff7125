"""The capacity section: the links with the highest worst-case utilisation, the failure behind each, a chart, upgrades.

Definitions (those of :mod:`policies.capacity_report`): a link's *peak*
utilisation is the busier direction's load at peak over its bandwidth; its
*worst* utilisation is the highest any single failure of the N-1 sweep
causes (:func:`policies.capacity.sweep_of`), with that failure named. The
section shows the :data:`TOP` links by worst utilisation (ties: by name), a
bar chart of them (peak and worst, with the warn and fail levels and 100 %),
and the upgrade suggestions of the capacity report.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from topology.model import Network
from topology.units import format_bandwidth

from ..capacity import assignment_of, sweep_of
from ..capacity_report import link_figures, upgrade_order, verdict
from ..model import RuleResult
from ..registry import Context

TOP = 15
WARN, FAIL = 0.5, 0.7  # the planning levels when the check has no capacity rule
CAPACITY_KINDS = ("capacity", "latency", "redundancy")
BAR_WIDTH = 560          # pixels of the chart's bars at 100 %
ROW_HEIGHT = 26


def capacity_section(net: Network, results: tuple[RuleResult, ...], context: Context) -> dict[str, Any] | None:
    """The section's data for one network state, or None when the plan declares no peak traffic."""
    a = assignment_of(net, context)
    if not a.demands:
        return None
    rule = next((r.rule for r in results if r.rule.kind == "capacity"), None)
    warn = float(rule.params.get("warn", WARN)) if rule else WARN
    fail = float(rule.params.get("fail", FAIL)) if rule else FAIL
    sweep = sweep_of(net, context, "n-1") if len(net.links) > 1 else None
    judged = [r for r in results if r.rule.kind in CAPACITY_KINDS]
    upgrades: list[dict[str, Any]] = []

    def sized() -> Iterator[dict[str, Any]]:  # each link's row, its upgrade kept; unsized: no utilisation
        for row, upgrade in link_figures(net, a, sweep, warn, fail):
            if upgrade is not None:
                upgrades.append(upgrade)
            if row["capacity_bps"] is not None:
                yield row

    links = heapq.nsmallest(TOP, sized(), key=lambda l: (-(l["worst_utilisation"] or 0.0), l["link"]))
    upgrades.sort(key=upgrade_order)
    rows = [{"link": l["link"], "a": l["a"], "b": l["b"], "capacity": format_bandwidth(l["capacity_bps"]),
             "peak": l["busier_utilisation"] or 0.0, "worst": l["worst_utilisation"] or 0.0,
             "failure": l["worst_failure"] or ""} for l in links]
    top = max([1.0] + [r["worst"] for r in rows])
    return {
        "demands": len(a.demands), "cases": len(sweep.failures) if sweep else 0, "warn": warn, "fail": fail,
        "rows": rows, "chart": chart(rows, warn, fail, top),
        "upgrades": [{"link": u["link"], "capacity": format_bandwidth(u["capacity_bps"]),
                      "to": format_bandwidth(u["upgrade_to_bps"]) if u["upgrade_to_bps"] else "",
                      "needed": format_bandwidth(u["needed_bps"]), "reason": u["reason"]}
                     for u in upgrades[:TOP]],
        "verdict": verdict(judged),
    }


def chart(rows: list[dict[str, Any]], warn: float, fail: float, top: float) -> dict[str, Any]:
    """Bars (peak, worst) per link scaled so ``top`` fills the chart, and the level lines (drawn by chart.svg.j2).

    >>> c = chart([{"link": "a--b", "peak": 0.25, "worst": 0.5}], 0.5, 0.7, 1.0)
    >>> c["bars"][0]["peak_w"], c["bars"][0]["worst_w"], [l["x"] for l in c["levels"]]
    (140, 280, [280, 392, 560])
    """
    scale = BAR_WIDTH / top
    bars = [{"label": r["link"], "y": i * ROW_HEIGHT, "peak_w": round(r["peak"] * scale),
             "worst_w": round(r["worst"] * scale), "peak": r["peak"], "worst": r["worst"],
             "hot": r["worst"] > fail} for i, r in enumerate(rows)]
    levels = [{"x": round(v * scale), "value": v, "name": name} for v, name in ((warn, "warn"), (fail, "fail"),
                                                                                 (1.0, "100 %"))]
    return {"bars": bars, "levels": levels, "width": BAR_WIDTH, "height": max(1, len(rows)) * ROW_HEIGHT}
