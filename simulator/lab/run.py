"""``lab run``: every checked packet sent in the lab, seen, and compared with the simulator.

For each check (:mod:`simulator.lab.checks`) the simulator's packet is sent
from its source node's namespace through the kernel's own raw socket, in
batches (each packet has its own IP identification and conntrack zone, so a
batch's packets cannot meet each other's state), and the kernel's story
(:func:`simulator.lab.capture.kernel_path`) is compared with the simulator
walked along it (:mod:`simulator.lab.compare`). A demand that arrives over
TCP is answered from where the kernel delivered it, with the same
identification, so the answer finds the sessions and NAT bindings of its
packet, as the simulator's :func:`simulator.trace.reply` does. Each hop on an
untrusted link (an internet or carrier medium, a shared line, an end in an
untrusted domain: :func:`topology.model.untrusted_links`) is also
checked for a readable payload in the capture.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from topology.model import Network, untrusted_links
from topology.vocabulary import ICMP, TCP, UDP

from ..forwarding import Forwarder, build_forwarding
from ..nat import Sessions
from ..packets import PAYLOAD, Header, plain_scapy
from .capture import Capture, KernelHop, Observer, kernel_path
from .checks import (
    KINDS,
    Check,
    evidence_checks,
    flow_checks,
    pair_checks,
    reach_checks,
)
from .compare import RouteVerdict, Verdict, compare, simulate_along, story_text
from .errors import LabError
from .kernel import kernel_release
from .network import lab_network
from .state import LabState, load_state, state_dir

BATCH = 128
MAX_IDS = 65535


@dataclass
class RunReport:
    state: LabState
    net: Network
    verdicts: list[Verdict] = field(default_factory=list)
    routes: list[RouteVerdict] = field(default_factory=list)
    seconds: float = 0.0
    kernel: str = ""
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def disagreements(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.disagrees]

    @property
    def expected(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.expected is not None]

    @property
    def route_disagreements(self) -> list[RouteVerdict]:
        return [r for r in self.routes if not r.agrees and r.expected is None]

    @property
    def route_expected(self) -> list[RouteVerdict]:
        return [r for r in self.routes if not r.agrees and r.expected is not None]

    @property
    def ok(self) -> bool:
        return not self.disagreements and not self.route_disagreements

    def table(self) -> list[tuple[str, int, int, int, int, int]]:
        """(check kind, packets, agree, disagree, documented differences, delivered in the kernel) per kind, and the total."""
        rows: list[tuple[str, int, int, int, int, int]] = []
        for kind in KINDS:
            mine = [v for v in self.verdicts if v.kind == kind]
            if mine:
                rows.append((kind, len(mine), sum(v.agrees for v in mine), sum(v.disagrees for v in mine),
                             sum(v.expected is not None for v in mine), sum(v.delivered for v in mine)))
        if self.routes:
            rows.append(("routes", len(self.routes), sum(r.agrees for r in self.routes), len(self.route_disagreements),
                         len(self.route_expected), 0))
        total = [sum(int(r[i]) for r in rows) for i in range(1, 6)]
        rows.append(("total", total[0], total[1], total[2], total[3], total[4]))
        return rows


def _untrusted_links(net: Network) -> set[str]:
    return set(untrusted_links(net))


def packet_bytes(h: Header, ident: int) -> bytes:
    """The simulator's packet for ``h`` (:func:`simulator.packets.plain_scapy`) with IP identification ``ident``."""
    pkt = plain_scapy(h)
    pkt.id = ident
    return bytes(pkt)


def reply_header(h: Header) -> Header:
    """The answer to ``h`` as it was delivered (as :func:`simulator.trace.reply` builds it)."""
    back = Header(h.dst, h.src, h.proto, h.dport, h.sport, reply=True)
    return back._replace(sport=0, dport=0) if h.proto == ICMP else back


class _Runner:
    def __init__(self, state: LabState, net: Network, fw: Forwarder, observer: Observer):
        self.state, self.net, self.fw, self.observer = state, net, fw, observer
        self.devices = state.device_index()
        self.untrusted = _untrusted_links(net)
        self.next_id = 1

    def ident(self) -> int:
        if self.next_id > MAX_IDS:
            raise LabError(f"a run checks at most {MAX_IDS} packets (each has its own IP identification)")
        value = self.next_id
        self.next_id += 1
        return value

    def batch(self, items: list[tuple[int, str, Header]]) -> dict[int, Capture]:
        self.observer.drain()
        for ident, src, header in items:
            self.observer.send(src, packet_bytes(header, ident))
        return self.observer.collect({i for i, _, _ in items})

    def verdict(self, kind: str, label: str, src: str, header: Header, cap: Capture,
                sessions: Sessions) -> Verdict:
        kernel = kernel_path(src, cap, self.devices)
        steps = simulate_along(self.fw, src, header, kernel, sessions)
        difference = compare(self.net, steps, kernel)
        v = Verdict(kind, label, src, header, kernel, steps, difference)
        v.clear_untrusted = [h.link for h in kernel if h.link in self.untrusted and PAYLOAD in h.data]
        return v

    def run(self, checks: list[Check]) -> list[Verdict]:
        out: list[Verdict] = []
        for start in range(0, len(checks), BATCH):
            chunk = checks[start:start + BATCH]
            ids = [self.ident() for _ in chunk]
            caps = self.batch([(i, c.src, c.header) for i, c in zip(ids, chunk)])
            answers: list[tuple[int, Check, KernelHop, Sessions]] = []
            for i, c in zip(ids, chunk):
                sessions = Sessions()
                v = self.verdict(c.kind, c.label, c.src, c.header, caps[i], sessions)
                out.append(v)
                last = v.kernel[-1] if v.kernel else None
                if c.answer and v.agrees and last is not None and last.decision == "delivered" and last.header:
                    answers.append((i, c, last, sessions))
            if answers:
                caps = self.batch([(i, last.node, reply_header(last.header)) for i, _, last, _ in answers
                                   if last.header is not None])
                for i, c, last, sessions in answers:
                    assert last.header is not None
                    out.append(self.verdict("reply", f"answer to {c.label}", last.node, reply_header(last.header),
                                            caps[i], sessions))
        return out


DEFAULT_KINDS = ("flow", "reach", "evidence", "pairs")


def lab_net(lab: str, folder: str | Path | None = None) -> Network:
    """The network a running lab was built from (the plan cut to its phase and selection)."""
    state = load_state(state_dir(lab, folder))
    if state is None or not state.complete:
        raise LabError(f"lab '{lab}' is not up; run 'govnet lab up' first")
    return lab_network(state.plan, state.phase, state.select)


def run(lab: str, folder: str | Path | None = None, kinds: tuple[str, ...] = DEFAULT_KINDS,
        max_classes: int = 200, max_pairs: int = 400, max_sources: int = 50,
        extra: list[Check] | None = None, findings: Iterable[tuple[str, dict[str, Any]]] = ()) -> RunReport:
    """Check lab ``lab`` (see the module docstring); ``findings``: (rule id, evidence data) of failing rules
    whose packets the "evidence" kind sends."""
    where = state_dir(lab, folder)
    state = load_state(where)
    if state is None or not state.complete:
        raise LabError(f"lab '{lab}' is not up (no complete {where / 'lab.json'}); run 'govnet lab up' first")
    net = lab_net(lab, folder)
    fw = build_forwarding(net)
    report = RunReport(state, net, kernel=kernel_release())
    t0 = time.perf_counter()
    if state.routing == "ospf":
        from .ospf import compare_routes

        report.routes = compare_routes(net, fw, state)
        report.timings["OSPF convergence, route comparison"] = round(time.perf_counter() - t0, 3)
    checks: list[Check] = []
    if "flow" in kinds:
        checks += flow_checks(net, fw)
    if "reach" in kinds:
        checks += reach_checks(net, max_classes, max_sources, report.notes)
    if "evidence" in kinds:
        checks += evidence_checks(net, findings)
    if "pairs" in kinds:
        checks += pair_checks(net, fw, max_pairs)
    checks += extra or []
    t1 = time.perf_counter()
    report.timings["choosing the packets (simulator)"] = round(t1 - t0 - sum(report.timings.values()), 3)
    protocols = {c.header.proto for c in checks} | {ICMP, TCP, UDP}
    with Observer(state, protocols) as observer:
        report.verdicts = _Runner(state, net, fw, observer).run(checks)
    report.seconds = time.perf_counter() - t0
    report.timings["sending, capturing, comparing"] = round(time.perf_counter() - t1, 3)
    return report


def report_text(r: RunReport, limit: int = 50) -> str:
    """The run as a table of agreements, then every disagreement with the packet and both stories."""
    st = r.state
    lines = [(f"lab {st.lab}: {r.net.name} ({len(st.namespaces)} namespaces, routing {st.routing}, "
              f"kernel {r.kernel})"), "mechanisms:"]
    lines += [f"  {k:<9} {v}" for k, v in st.mechanisms.items()]
    lines.append("")
    lines.append(f"{'checked':<10} {'packets':>8} {'agree':>7} {'disagree':>9} {'documented':>11} {'delivered':>10}")
    for kind, n, agree, disagree, known, delivered in r.table():
        lines.append(f"{kind:<10} {n:>8} {agree:>7} {disagree:>9} {known:>11} {delivered:>10}")
    untrusted = _untrusted_links(r.net)
    crossings = sum(1 for v in r.verdicts for h in v.kernel if h.link is not None and h.link in untrusted)
    clear = sum(len(v.clear_untrusted) for v in r.verdicts)
    lines.append(f"untrusted links: {crossings} crossing(s) seen, {clear} with a readable payload")
    packets = len(r.verdicts)
    sending = r.timings.get("sending, capturing, comparing", r.seconds)
    rate = packets / sending if sending > 0 else 0.0
    lines.append(f"time: {r.seconds:.2f} s ({', '.join(f'{k} {v:.2f} s' for k, v in r.timings.items())}); "
                 f"{rate:.0f} packets checked per second")
    lines += [f"note: {n}" for n in r.notes]
    by_reason: dict[str, int] = {}
    for reason in [rv.expected for rv in r.route_expected] + [v.expected for v in r.expected]:
        by_reason[reason or ""] = by_reason.get(reason or "", 0) + 1
    for reason, count in sorted(by_reason.items()):
        lines.append(f"documented difference ({count}): {reason}")
        example = next((v for v in r.expected if v.expected == reason), None)
        if example is not None:
            lines.append(f"  e.g. {example.header} from {example.src}: {example.difference}")
    bad = r.disagreements
    if bad or r.route_disagreements:
        lines.append("")
        lines.append(f"DISAGREEMENTS: {len(bad)} packet(s), {len(r.route_disagreements)} route(s)")
    for v in bad[:limit]:
        k, s = story_text(v.kernel, v.simulator)
        lines += [f"  [{v.kind}] {v.label}", f"    packet:    {v.header} from {v.src}", f"    kernel:    {k}",
                  f"    simulator: {s}", f"    where:     {v.difference}"]
    for rv in r.route_disagreements[:limit]:
        lines.append(f"  [route] {rv.node} {rv.vrf or 'global'} {rv.destination}: kernel {rv.kernel}; "
                     f"simulator {rv.simulator}")
    hidden = max(0, len(bad) - limit) + max(0, len(r.route_disagreements) - limit)
    if hidden:
        lines.append(f"  ... and {hidden} more")
    lines.append("AGREE" if r.ok else "DISAGREE")
    return "\n".join(lines) + "\n"
