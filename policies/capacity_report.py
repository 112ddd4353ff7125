"""The capacity report: link table, verdicts, upgrades, and the utilisation picture.

What ``govnet capacity`` prints, as plain data first (:func:`build_report`,
deterministic: the same plan gives byte-identical JSON), then as text
(:func:`render_text`) and as a PNG of the plan with links coloured by their
worst utilisation above a histogram (:func:`draw_utilisation`).

    >>> from policies.capacity import assignment_of
    >>> from policies.engine import check_network
    >>> from policies.loader import configured, load_pack
    >>> pack = configured(load_pack("capacity"), {}, drop=["CAP-N1"])     # the Chuxiong plan, no sweep
    >>> report = build_report(net, assignment_of(net), None, check_network(net, pack.rules), "none", 0.5, 0.7)
    >>> print(render_text(report, top=1))   # doctest: +NORMALIZE_WHITESPACE
    govnet capacity: 楚雄州电子政务外网, 817 peak demands, 629 links
    <BLANKLINE>
    link direction      capacity      peak   util  headroom  worst  worst after
    云南省外网核心 -> 楚雄州外网核心      155M     54.8M    35%    100.2M    35%  -
    ... 1257 more link directions (--top 0 shows all)
    <BLANKLINE>
    rules:
      PASS  CAP-UTIL   capacity    817 peak demands fit: highest utilisation 35%
      PASS  CAP-DELAY  latency     44 flows of video within their one-way delay limit (worst 6.1 ms)
    <BLANKLINE>
    verdict: PASS
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from typing import Any

from simulator.failures import Replay
from simulator.load import Assignment, Direction
from simulator.sweep import SweepResult
from topology.files import shown
from topology.model import Network
from topology.units import format_bandwidth

from .capacity import standard_rate
from .model import RuleResult


def _r(value: float, digits: int) -> float | None:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return None
    return round(value, digits)


def rounded(data: dict) -> dict:
    out: dict[Any, Any] = {}
    for k, v in data.items():
        if isinstance(v, float):
            out[k] = _r(v, 9)
        elif isinstance(v, dict):
            out[k] = rounded(v)
        else:
            out[k] = v
    return out


def link_figures(net: Network, a: Assignment, sweep: SweepResult | None, warn: float,
                 fail_at: float) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each link's row of the report (plan order) and its upgrade suggestion, if it needs one: one at a time,
    so that a reader that keeps a few (the sign-off report's top links) holds no row of the others."""
    for link in net.links.values():
        dirs = {}
        worst_u, worst_label, worst_load_link, worst_dir = -1.0, None, 0.0, ""
        # a link of unknown capacity (bandwidth: unknown) has loads but no utilisation or headroom
        def util_of(x: float, bw: float = link.bandwidth, sized: bool = link.sized) -> float | None:
            return _r(x / bw, 6) if sized else None

        def room_of(x: float, bw: float = link.bandwidth, sized: bool = link.sized) -> float | None:
            return _r(bw - x, 3) if sized else None

        for d, (x, y) in ((0, (link.a, link.b)), (1, (link.b, link.a))):
            key: Direction = (link.name, d)
            load = a.load.get(key, 0.0)
            w_load, w_case = load, None
            if sweep is not None and key in sweep.worst and sweep.worst[key][0] > load:
                w_load, w_case = sweep.worst[key]
            label = sweep.failures[w_case].label if (sweep is not None and w_case is not None) else None
            dirs[f"{x} -> {y}"] = {
                "load_bps": _r(load, 3), "utilisation": util_of(load), "headroom_bps": room_of(load),
                "worst_load_bps": _r(w_load, 3), "worst_utilisation": util_of(w_load),
                "worst_failure": label,
            }
            if w_load / link.bandwidth > worst_u:
                worst_u, worst_label, worst_load_link, worst_dir = w_load / link.bandwidth, label, w_load, f"{x} -> {y}"
        forward, backward = a.load.get((link.name, 0), 0.0), a.load.get((link.name, 1), 0.0)
        peak = max(forward, backward)
        row = {
            "link": link.name, "a": link.a, "b": link.b, "capacity_bps": link.bandwidth if link.sized else None,
            "busier_direction": f"{link.a} -> {link.b}" if forward >= backward else f"{link.b} -> {link.a}",
            "busier_load_bps": _r(peak, 3), "busier_utilisation": util_of(peak),
            "busier_headroom_bps": room_of(peak), "total_load_bps": _r(forward + backward, 3),
            "worst_direction": worst_dir, "worst_load_bps": _r(worst_load_link, 3),
            "worst_utilisation": _r(worst_u, 6) if link.sized else None, "worst_failure": worst_label,
            "directions": dirs,
        }
        upgrade = None
        if link.sized and (peak / link.bandwidth > fail_at or worst_u > 1.0):
            needed = max(peak / warn, worst_load_link / fail_at)
            rate = standard_rate(needed)
            upgrade = {"link": link.name, "capacity_bps": link.bandwidth, "busier_load_bps": _r(peak, 3),
                       "worst_load_bps": _r(worst_load_link, 3), "needed_bps": _r(needed, 3), "upgrade_to_bps": rate,
                       "reason": "peak above the fail level" if peak / link.bandwidth > fail_at
                       else f"after {worst_label}"}
        yield row, upgrade


def upgrade_order(upgrade: dict[str, Any]) -> tuple[float, str]:
    """The order of the upgrade suggestions: the highest worst-case utilisation first, then by link."""
    return -(upgrade["worst_load_bps"] / upgrade["capacity_bps"]), upgrade["link"]


def build_report(net: Network, a: Assignment, sweep: SweepResult | None, results: list[RuleResult], mode: str,
                 warn: float, fail_at: float, queue: dict | None = None,
                 replay: Replay | None = None) -> dict[str, Any]:
    """Everything the command prints, as plain data in a fixed order (the JSON output).

    Each link direction has its own figures (``directions``); a link's own figures say which direction they
    are: ``busier_*`` that of the busier direction at peak, ``worst_*`` that of the direction with the highest
    utilisation after a failure, ``total_load_bps`` both directions together. With ``replay`` (``--under``)
    ``net`` and ``a`` are the network in that failure, and ``lost`` lists what the failure costs.
    """
    links = []
    upgrades: list[dict[str, Any]] = []
    for row, upgrade in link_figures(net, a, sweep, warn, fail_at):
        links.append(row)
        if upgrade is not None:
            upgrades.append(upgrade)
    upgrades.sort(key=upgrade_order)
    violations = []
    for r in results:
        if not r.failed_:
            continue
        for e in r.evidence:
            violations.append({"rule": r.rule.id, "kind": r.rule.kind, "summary": e.summary,
                               "evidence": e.kind, **_jsonable(e.data),
                               "marks": [str(m) for m in e.marks[:5]]})
    lost = []
    if sweep is not None:
        for case, items in sweep.lost.items():
            for i, share in items:
                demand = a.demands[i]
                lost.append({"failure": sweep.failures[case].label, "service": demand.service, "src": demand.src,
                             "dst": demand.dst, "share": _r(share, 9)})
    if replay is not None:
        position = {i: k for k, i in enumerate(replay.kept)}
        for i, share in replay.lost:
            demand = a.demands[position[i]]
            lost.append({"failure": replay.failure.label, "service": demand.service, "src": demand.src,
                         "dst": demand.dst, "share": _r(share, 9)})
    return {
        "plan": net.name,
        "file": shown(net.file),
        "phase": net.phases[net.phase].name if net.phase is not None else None,
        "demands": len(a.demands),
        "failures": mode,
        "sweep": None if sweep is None else {"cases": len(sweep.failures), "methods": sweep.methods},
        "verdict": verdict(results),
        "rules": [{"id": r.rule.id, "kind": r.rule.kind, "status": r.status, "message": r.message,
                   "clause": r.rule.clause} for r in results],
        "links": links,
        "violations": violations,
        "upgrades": upgrades,
        "lost": lost[:1000],
        "lost_total": len(lost),
        "undelivered": [{"service": a.demands[i].service, "src": a.demands[i].src, "dst": a.demands[i].dst,
                         "delivered": _r(a.paths[i].delivered, 9),
                         "drops": [{"node": d.node, "reason": d.reason} for d in a.paths[i].drops]}
                        for i in a.undelivered()],
        "queue": queue,
        "under": None if replay is None else _under(replay),
        "risk_groups": [{"name": g.name, "reason": g.reason, "links": list(g.links), "nodes": list(g.nodes)}
                        for g in net.risk_groups.values()],
    }


def _under(replay: Replay) -> dict[str, Any]:
    """What ``--under`` failed: the failure, its group, every link and node gone, and what it costs."""
    f = replay.failure
    group = replay.net.risk_groups.get(f.group) if f.group else None
    return {
        "failure": f.label, "risk_group": f.group or None, "reason": group.reason if group else None,
        "failed_links": list(replay.failed_links), "failed_nodes": list(f.nodes),
        "lost_demands": len(replay.lost), "cut_demands": len(replay.cut), "orphaned_demands": len(replay.orphaned),
    }


def verdict(results: list[RuleResult]) -> str:
    """``fail`` when a rule fails; ``not_applicable`` when no rule could judge the plan (nothing was shown
    to hold, so it is no pass); else ``pass``."""
    if any(r.failed_ for r in results):
        return "fail"
    if not any(r.passed_ or r.waived_ for r in results):
        return "not_applicable"
    return "pass"


VALUE_LABELS = 30  # links of the picture that carry their utilisation as a percentage: the busiest
STATUS_LABEL = {"pass": "PASS", "fail": "FAIL", "not_applicable": "N/A", "waived": "WAIVED"}


def _verdict_line(report: dict[str, Any]) -> str:
    rules = report["rules"]
    failed = [r["kind"] for r in rules if r["status"] == "fail"]
    not_judged = [r["kind"] for r in rules if r["status"] == "not_applicable"]
    waived = [r["kind"] for r in rules if r["status"] == "waived"]
    if report["verdict"] == "fail":
        return f"verdict: FAIL ({', '.join(failed)})"
    if report["verdict"] == "not_applicable":
        return f"verdict: NOT JUDGED (no rule applied to the plan: {', '.join(not_judged) or 'no rules'})"
    notes = [f"{', '.join(not_judged)} not applicable"] if not_judged else []
    notes += [f"{', '.join(waived)} waived"] if waived else []
    return "verdict: PASS" + (f" ({'; '.join(notes)})" if notes else "")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return _r(value, 9)
    return value


def _bw(value: float | None) -> str:
    return "-" if value is None else format_bandwidth(value) if value >= 1 else "0"


def render_text(report: dict[str, Any], top: int = 20) -> str:
    lines = []
    head = f"govnet capacity: {report['plan']}"
    if report["phase"]:
        head += f" (phase {report['phase']})"
    head += f", {report['demands']} peak demands, {len(report['links'])} links"
    if report["sweep"]:
        methods = ", ".join(f"{v} {k}" for k, v in report["sweep"]["methods"].items())
        head += f"; {report['failures'].upper()}: {report['sweep']['cases']} failures ({methods})"
    lines.append(head)
    under = report.get("under")
    if under:
        what = f"under {under['failure']}" + (f" ({under['reason']})" if under["reason"] else "")
        down = ", ".join(under["failed_links"][:6]) + (f" and {len(under['failed_links']) - 6} more"
                                                       if len(under["failed_links"]) > 6 else "")
        lines.append(f"{what}: {len(under['failed_links'])} links down ({down or 'none'})"
                     + (f", nodes {', '.join(under['failed_nodes'])}" if under["failed_nodes"] else "")
                     + f"; {under['lost_demands']} demands lost ({under['cut_demands']} cut off), "
                       f"{under['orphaned_demands']} gone with a failed node")
    lines.append("")
    rows = []
    for link in report["links"]:
        for label, d in link["directions"].items():
            rows.append((d["worst_utilisation"], d["utilisation"], label, link["capacity_bps"], d))
    rows.sort(key=lambda r: (r[0] is None, -(r[0] or 0.0), -(r[1] or 0.0), -r[4]["load_bps"], r[2]))
    shown = rows if top == 0 else rows[:top]
    width = max([len(r[2]) for r in shown] + [14])
    lines.append(f"{'link direction':<{width}}  {'capacity':>8}  {'peak':>8}  {'util':>5}  {'headroom':>8}  "
                 f"{'worst':>5}  worst after")
    for worst, util, label, cap, d in shown:
        if cap is None:  # unsized: the load is known, nothing relative to a capacity is
            lines.append(f"{label:<{width}}  {'unknown':>8}  {_bw(d['load_bps']):>8}  {'-':>5}  {'-':>8}  {'-':>5}  "
                         f"{d['worst_failure'] or '-'}")
            continue
        lines.append(f"{label:<{width}}  {_bw(cap):>8}  {_bw(d['load_bps']):>8}  {util:>5.0%}  "
                     f"{_bw(max(0.0, d['headroom_bps'])):>8}  {worst:>5.0%}  {d['worst_failure'] or '-'}")
    if top and len(rows) > top:
        lines.append(f"... {len(rows) - top} more link directions (--top 0 shows all)")
    if under and report["lost"]:
        lines.append("")
        lines.append("lost in this failure (share of the demand no longer delivered):")
        for x in report["lost"][:40]:
            lines.append(f"  {x['service']} {x['src']} -> {x['dst']}: {x['share']:.0%}")
        if report["lost_total"] > 40:
            lines.append(f"  ... {report['lost_total'] - 40} more (--format json lists them)")
    lines.append("")
    lines.append("rules:")
    for r in report["rules"]:
        lines.append(f"  {STATUS_LABEL.get(r['status'], r['status']):<4}  {r['id']:<9}  {r['kind']:<10}  {r['message']}")
    if report["violations"]:
        lines.append("")
        lines.append("violations:")
        for v in report["violations"][:40]:
            where = f"  ({v['marks'][0]})" if v.get("marks") else ""
            lines.append(f"  [{v['rule']}] {v['summary']}{where}")
        if len(report["violations"]) > 40:
            lines.append(f"  ... {len(report['violations']) - 40} more (--format json lists all)")
    if report["upgrades"]:
        lines.append("")
        lines.append("upgrade (peak to the warn level, worst case to the fail level):")
        for u in report["upgrades"][:40]:
            to = _bw(u["upgrade_to_bps"]) if u["upgrade_to_bps"] else f"more than {_bw(u['needed_bps'])}"
            lines.append(f"  {u['link']}: {_bw(u['capacity_bps'])} -> {to} (peak {_bw(u['busier_load_bps'])}, "
                         f"worst {_bw(u['worst_load_bps'])}, {u['reason']})")
    if report["queue"]:
        q = report["queue"]
        lines.append("")
        lines.append(f"queue simulation ({q['engine']}) at {q['direction']}, {q['duration']:g} s at peak, "
                     f"buffer {q['buffer_bytes']} bytes:")
        lines.append(f"  offered {q['offered_utilisation']:.0%} of {_bw(q['capacity_bps'])}; {q['packets']} packets, "
                     f"loss {q['loss']:.3%}; delay p50 {_ms(q['delay_p50'])}, p99 {_ms(q['delay_p99'])}, "
                     f"max {_ms(q['delay_max'])}; jitter {_ms(q['jitter'])}")
        for kind, k in q["by_kind"].items():
            lines.append(f"  {kind:<18} {k['packets']:>8} packets  loss {k['loss']:.3%}  p99 {_ms(k['p99'])}  "
                         f"jitter {_ms(k['jitter'])}")
    lines.append("")
    lines.append(_verdict_line(report))
    return "\n".join(lines) + "\n"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.2f} ms"


# -- the picture ---------------------------------------------------------------------------------

def draw_utilisation(net: Network, report: dict[str, Any], warn: float, fail_at: float) -> bytes:
    """The plan with links coloured by worst utilisation (the busiest widest, on top, with their percentage),
    above a histogram of link utilisations (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    from topology.draw import draw_network

    values = {l["link"]: l["worst_utilisation"] for l in report["links"] if l["worst_utilisation"] is not None}
    title = f"{net.name}: worst link utilisation" + (" after any single failure" if report["sweep"] else " at peak")
    if report.get("under"):
        title = f"{net.name}: link utilisation under {report['under']['failure']}"
    picture = Image.open(io.BytesIO(draw_network(net, "png", link_values=values, value_label="utilisation",
                                                 title=title, label_values=VALUE_LABELS))).convert("RGB")
    width = picture.width
    inches = max(6.0, min(width / 100, 16.0))
    dpi = max(50, width / inches)  # the histogram as wide as the drawing, text at a readable size
    fig = Figure(figsize=(inches, 3.2), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    peak = [l["busier_utilisation"] for l in report["links"] if l["busier_utilisation"] is not None]
    worst = [l["worst_utilisation"] for l in report["links"] if l["worst_utilisation"] is not None]
    top = max([1.2] + worst)
    bins = [i * 0.05 for i in range(int(top / 0.05) + 2)]
    ax.hist(peak, bins=bins, alpha=0.7, label="peak", color="#2e86c1")
    if report["sweep"]:
        ax.hist(worst, bins=bins, alpha=0.5, label="worst after a failure", color="#c0392b")
    for x, name, style in ((warn, "warn", ":"), (fail_at, "fail", "--"), (1.0, "100 %", "-")):
        ax.axvline(x, color="#333333", linestyle=style, linewidth=1)
        ax.text(x, ax.get_ylim()[1] * 0.95, f" {name}", fontsize=8, va="top")
    if peak:
        ax.set_yscale("log")
    else:  # no link of known capacity (bandwidth: unknown): nothing to count, and the picture says so
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no link of known capacity: utilisation unknown", transform=ax.transAxes, ha="center",
                va="center", fontsize=10)
    ax.set_xlabel("utilisation of the busier direction")
    ax.set_ylabel("links")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    hist = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if hist.width != width:
        hist = hist.resize((width, max(1, int(hist.height * width / hist.width))))
    out = Image.new("RGB", (width, picture.height + hist.height), "white")
    out.paste(picture, (0, 0))
    out.paste(hist, (0, picture.height))
    data = io.BytesIO()
    out.save(data, format="PNG", optimize=False)
    return data.getvalue()
