"""Comparing the kernel's story of a packet with the simulator's, hop by hop.

The simulator is walked along the kernel's path (:func:`simulate_along`):
each step is the simulator's own :meth:`~simulator.forwarding.Forwarder.step`
with the session state of the walk (stateful firewalls, NAT), and where the
simulator has several equal-cost next hops it takes the one the kernel
took, if that is one of them (where the kernel dropped the packet before it
left, so that its branch cannot be seen, one that drops it there);
otherwise it takes its own (hash) choice, and the stories then differ at
that hop. The two stories agree when they have
the same hops: the same node, arrival interface, decision (forwarded,
encapsulated, decapsulated, delivered; any drop of the simulator's -
denied, no route, TTL expired, dropped - against the kernel's *stopped*),
egress interface and the same header leaving each hop (addresses, protocol,
ports, TTL; after NAT; the outer header inside a tunnel), and when the
packet's payload is readable on the wire at the same hops
(:func:`simulator.load.readable` against the capture's bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topology.model import Network

from ..forwarding import MAX_STEPS, TERMINAL, Forwarder, Step
from ..load import readable
from ..nat import Sessions
from ..packets import PAYLOAD, Header
from .capture import KernelHop

DROPS = frozenset(TERMINAL - {"delivered"})


def copy_sessions(s: Sessions) -> Sessions:
    return Sessions(set(s.flows), dict(s.nat))


def simulate_along(fw: Forwarder, src: str, h: Header, kernel: list[KernelHop], sessions: Sessions,
                   vrf: str | None = None) -> list[Step]:
    """The simulator's steps of ``h`` from ``src``, taking the kernel's branch wherever it is an equal-cost one."""
    steps: list[Step] = []
    node, in_if = src, None
    vrf = fw.nodes[src].vrf if vrf is None else vrf
    for i in range(MAX_STEPS):
        here = kernel[i] if i < len(kernel) and kernel[i].node == node else None
        want = here.out_if if here is not None else None
        stopped = here is not None and here.decision == "stopped"
        s = fw.step(node, in_if, h, vrf, copy_sessions(sessions))
        branch = None
        if s.branches > 1 and ((want is not None and s.out_if != want) or (stopped and s.decision not in DROPS)):
            for b in range(s.branches):
                trial = fw.step(node, in_if, h, vrf, copy_sessions(sessions), b)
                # the kernel's branch; where the kernel dropped the packet before it left, one that drops it here
                if (want is not None and trial.out_if == want) or (stopped and trial.decision in DROPS):
                    branch = b
                    break
        s = fw.step(node, in_if, h, vrf, sessions, branch)
        steps.append(s)
        if s.decision in TERMINAL:
            return steps
        node, in_if, h, vrf = s.next_node, s.next_if, s.header, s.vrf  # type: ignore[assignment]
    return steps


def _same_header(a: Header | None, b: Header | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.src, a.dst, a.proto, a.sport, a.dport, a.ttl) == (b.src, b.dst, b.proto, b.sport, b.dport, b.ttl)


def _outer(h: Header) -> Header:
    return h._replace(inner=None, tunnel=None)


@dataclass
class RouteVerdict:
    """One (node, VRF, destination) of a routing-daemon lab: the kernel's converged route against the simulator's."""

    node: str
    vrf: str | None
    destination: str
    kernel: str
    simulator: str
    agrees: bool
    expected: str | None = None  # a documented difference of the model, not counted as a disagreement


@dataclass
class Verdict:
    """One checked packet: both stories, and where they part (None: they agree)."""

    kind: str
    label: str
    src: str
    header: Header
    kernel: list[KernelHop]
    simulator: list[Step]
    difference: str | None = None
    clear_untrusted: list[str] = field(default_factory=list)  # links where the kernel saw it readable
    expected: str | None = None  # the difference is a documented simplification of the model

    @property
    def agrees(self) -> bool:
        return self.difference is None

    @property
    def disagrees(self) -> bool:
        return self.difference is not None and self.expected is None

    @property
    def delivered(self) -> bool:
        return bool(self.kernel) and self.kernel[-1].decision == "delivered"


def compare(net: Network, steps: list[Step], kernel: list[KernelHop]) -> str | None:
    """Where the two stories part, as a sentence; None when they agree (see the module docstring)."""
    for i in range(max(len(steps), len(kernel))):
        if i >= len(steps):
            return f"hop {i + 1}: the kernel goes on at {kernel[i].node} ({kernel[i].decision}), the simulator had stopped"
        if i >= len(kernel):
            return f"hop {i + 1}: the simulator goes on at {steps[i].node} ({steps[i].decision}), the kernel had stopped"
        s, k = steps[i], kernel[i]
        where = f"hop {i + 1} at {k.node}"
        if s.node != k.node:
            return f"hop {i + 1}: the kernel is at {k.node}, the simulator at {s.node}"
        if (s.in_if or None) != (k.in_if or None):
            return f"{where}: arrived on {k.in_if} in the kernel, on {s.in_if} in the simulator"
        sd = "stopped" if s.decision in DROPS else s.decision
        if sd != k.decision:
            return f"{where}: the kernel {k.decision} the packet, the simulator {s.decision} it ({s.detail})"
        if sd in ("forwarded", "encapsulated"):
            if s.out_if != k.out_if:
                return f"{where}: the kernel left on {k.out_if}, the simulator on {s.out_if} ({s.branches} branch(es))"
            if not _same_header(_outer(s.header), k.header):
                return f"{where}: the kernel's packet leaving is {k.header}, the simulator's {_outer(s.header)}"
            k_clear = PAYLOAD in k.data
            s_clear = readable(net, s.header)
            if k_clear != s_clear:
                return (f"{where}: on link {s.link} the payload is {'readable' if k_clear else 'not readable'} "
                        f"in the kernel's capture, {'readable' if s_clear else 'not readable'} in the simulator")
        if sd == "decapsulated" and not _same_header(s.header, k.header):
            return f"{where}: decapsulated {k.header} in the kernel, {s.header} in the simulator"
    return None


def story_text(kernel: list[KernelHop], steps: list[Step]) -> tuple[str, str]:
    """The two stories, one line each: node (in -> out) decision, ..."""
    k = " > ".join(f"{h.node}({h.in_if or '-'}>{h.out_if or '-'}) {h.decision}" for h in kernel)
    s = " > ".join(f"{h.node}({h.in_if or '-'}>{h.out_if or '-'}) {h.decision}" for h in steps)
    last = steps[-1] if steps else None
    if last is not None and last.detail:
        s += f" [{last.detail}]"
    return k, s
