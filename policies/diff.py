"""What a change to a plan does: the model, the verdicts, what crosses every boundary, capacity.

Definitions (OLD and NEW are two versions of a plan, each checked with its
own policies unless the command line names them).

- **Model**: :func:`topology.diff.model_changes`.
- **Verdicts**: the status of every rule per phase in both versions; a rule
  whose status differs is a verdict change. A *new failure* is a rule that
  fails in NEW at or above ``fail_on`` and did not fail in OLD (or did not
  exist there).
- **Reachability** across every boundary, from the complete header-space
  answer of both versions (:func:`policies.crossings.crossings`): for each
  node s of a domain A and each other domain B, the set of headers s gets
  delivered to some node of B. A header of NEW's set that is not in OLD's is
  *newly allowed*; one of OLD's that is not in NEW's is *newly blocked*. (A
  source one version's crossings did not need to ask, being one of many
  alike, is asked directly in that version; a node of one version only has
  all its crossings newly allowed or blocked.) Each
  difference is reported per class of the version where it gets through,
  with the part of the class that changed, one representative packet of that
  part and the real trace of that packet in that version (every header of a
  class takes its path, :meth:`simulator.reach.ReachClass.trace_of`). This is
  Batfish's differential reachability, asked of every source of every domain
  at once. A newly allowed class whose crossing no approval of NEW covers is
  an *unapproved crossing*.
- **Capacity**: for every link of both versions, its worst-case utilisation
  (the busier direction, intact or under the failure sweep ``failures``); a
  move of more than ``threshold`` percentage points is reported. A declared
  demand delivered whole in OLD and not in NEW *became undeliverable*.
- The change **regresses** (``govnet diff`` exits 1) when it adds a new
  failure or an unapproved crossing.

Addresses are compared as they are: a change that renumbers the plan shows
as moved headers, which is what the routers will see.

    >>> from topology.loader import load_text
    >>> base = '''
    ... name: demo
    ... domains: {外网: {kind: extranet, pool: 10.1.0.0/16}, 互联网: {kind: internet, pool: 10.9.0.0/16}}
    ... sites: {州: {level: prefecture}}
    ... nodes:
    ...   pc: {role: host, domain: 外网, site: 州}
    ...   fw: {role: firewall, domain: 外网, site: 州, default_action: deny, interfaces: {out: {acl_out: 出}}}
    ...   isp: {role: cloud, domain: 互联网, site: 州}
    ... links: [{a: pc, b: fw}, {a: "fw:out", b: isp, medium: internet}]
    ... acls: {出: [{action: permit, proto: tcp, dport: 443}]}
    ... '''
    >>> old = load_text(base)
    >>> new = load_text(base.replace("dport: 443", "dport: 443-444"))
    >>> change = plan_diff(old, new, DiffOptions(failures="none"))
    >>> [(r.direction, r.from_domain, r.to_domain, r.packet["dport"]) for r in change.reach]
    [('allowed', '外网', '互联网', 444)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.headerspace import HeaderSpace, int_ip, ip_text
from simulator.packets import proto_name
from simulator.reach import ReachClass, reach
from simulator.trace import Trace
from topology.diff import Change, model_changes
from topology.errors import Mark
from topology.model import NO_MARK, Network

from .capacity import assignment_of, sweep_of
from .crossings import Crossing, approvals_of, crossings
from .engine import blocking, check_plan
from .loader import PolicySelection, select_policies
from .model import RuleResult
from .registry import Context

DEFAULT_THRESHOLD = 5.0  # percentage points of utilisation
FAILURE_MODES = ("n-1", "none")


@dataclass(frozen=True)
class DiffOptions:
    """How to compare: the phase (None: the final plan; ``all``: every phase), the capacity threshold in
    percentage points, the failure sweep, the severity from which a new failure counts."""

    phase: str | None = None
    threshold: float = DEFAULT_THRESHOLD
    failures: str = "n-1"
    fail_on: str = "high"


@dataclass(frozen=True)
class VerdictChange:
    """A rule whose status differs: ``old``/``new`` are statuses, ``absent`` where the version has no such rule."""

    rule: str
    phase: str | None
    old: str
    new: str
    severity: str
    message: str
    mark: Mark
    regression: bool  # a new failure at or above fail_on

    def text(self) -> str:
        where = f" [{self.phase}]" if self.phase else ""
        return f"{self.rule}{where}: {self.old} → {self.new} ({self.severity}): {self.message}"


@dataclass(frozen=True)
class ReachChange:
    """Headers from ``from_domain`` into ``to_domain`` newly allowed or newly blocked, by one class."""

    direction: str  # allowed | blocked
    from_domain: str
    to_domain: str
    src_node: str
    dst_node: str
    space: HeaderSpace
    packet: dict[str, Any]
    trace: Trace  # in NEW for allowed, in OLD for blocked
    controls: str
    approved: bool  # for allowed: an approval of NEW covers the crossing
    marks: tuple[Mark, ...]

    @property
    def unapproved(self) -> bool:
        return self.direction == "allowed" and not self.approved

    def text(self) -> str:
        p = self.packet
        ports = f" {p['sport']}->{p['dport']}" if p["proto"] in ("tcp", "udp") else ""
        flag = " UNAPPROVED" if self.unapproved else ""
        return (f"newly {self.direction}{flag}: {self.from_domain} → {self.to_domain}, {self.src_node} → {self.dst_node}: "
                f"{self.space} (e.g. {p['proto']} {p['src']} -> {p['dst']}{ports}; through {self.controls})")


@dataclass(frozen=True)
class CapacityChange:
    """A link whose worst-case utilisation moved by more than the threshold (None: absent in that version)."""

    link: str
    old: float | None
    new: float | None
    mark: Mark

    def text(self) -> str:
        shown = [f"{x:.1%}" if x is not None else "absent" for x in (self.old, self.new)]
        return f"link {self.link}: worst-case utilisation {shown[0]} → {shown[1]}"


@dataclass(frozen=True)
class LostDemand:
    """A declared demand delivered whole in OLD and not in NEW (``delivered``: the share that still arrives)."""

    label: str
    delivered: float
    mark: Mark

    def text(self) -> str:
        return f"demand {self.label} became undeliverable ({self.delivered:.0%} still arrives)"


@dataclass(frozen=True)
class PlanDiff:
    """Everything a change does (see the module docstring)."""

    old: Network
    new: Network
    options: DiffOptions
    model: tuple[Change, ...]
    verdicts: tuple[VerdictChange, ...]
    reach: tuple[ReachChange, ...]
    capacity: tuple[CapacityChange, ...]
    lost: tuple[LostDemand, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def new_failures(self) -> tuple[VerdictChange, ...]:
        return tuple(v for v in self.verdicts if v.regression)

    @property
    def unapproved(self) -> tuple[ReachChange, ...]:
        return tuple(r for r in self.reach if r.unapproved)

    @property
    def unapproved_crossings(self) -> int:
        """How many crossings (domain pair and controls) the unapproved classes make up."""
        return len({(r.from_domain, r.to_domain, r.controls) for r in self.unapproved})

    @property
    def regresses(self) -> bool:
        """Whether the change adds a failing rule or an unapproved crossing (``govnet diff`` exits 1)."""
        return bool(self.new_failures or self.unapproved)


def plan_diff(old: Network, new: Network, options: DiffOptions | None = None,
              old_policies: PolicySelection | None = None, new_policies: PolicySelection | None = None) -> PlanDiff:
    """Compare two versions (see the module docstring); policies default to each plan's own."""
    options = options or DiffOptions()
    old_views, new_views = _view(old, options.phase), _view(new, options.phase)
    notes: list[str] = []
    if options.phase == "all":
        notes.append("reachability and capacity compare the final plans; verdicts every phase")
    capacity, lost = _capacity(old_views, new_views, options, notes)
    return PlanDiff(
        old, new, options, tuple(model_changes(old, new)),
        tuple(verdict_changes(old, new, old_policies or select_policies(old), new_policies or select_policies(new),
                              options)),
        tuple(reach_changes(old_views, new_views)), capacity, lost, tuple(notes))


def _view(net: Network, phase: str | None) -> Network:
    if phase is None or phase == "all":
        return net
    return net.at_phase(phase)


# -- verdicts -----------------------------------------------------------------------------------------

def verdict_changes(old: Network, new: Network, old_policies: PolicySelection, new_policies: PolicySelection,
                    options: DiffOptions) -> list[VerdictChange]:
    """Every rule whose status differs between the versions, per phase, in NEW's order (then OLD's)."""
    before = _results(old, old_policies, options.phase)
    after = _results(new, new_policies, options.phase)
    floor = {id(r) for r in blocking(after.values(), options.fail_on)}
    out: list[VerdictChange] = []
    for key in dict.fromkeys([*after, *before]):
        a, b = before.get(key), after.get(key)
        old_status = a.status if a is not None else "absent"
        new_status = b.status if b is not None else "absent"
        if old_status == new_status:
            continue
        shown = b if b is not None else a
        assert shown is not None  # the key comes from one of the two
        regression = b is not None and id(b) in floor and old_status != "fail"
        out.append(VerdictChange(key[1], key[0], old_status, new_status, shown.rule.severity, shown.message,
                                 _result_mark(shown), regression))
    return out


def _results(net: Network, policies: PolicySelection, phase: str | None) -> dict[tuple[str | None, str], RuleResult]:
    return {(run.phase, r.rule.id): r for run in check_plan(net, policies, phase) for r in run.results}


def _result_mark(result: RuleResult) -> Mark:
    for e in result.evidence:
        if e.marks:
            return e.marks[0]
    return result.rule.mark if result.rule.mark is not None else NO_MARK


# -- reachability -------------------------------------------------------------------------------------

def reach_changes(old: Network, new: Network) -> list[ReachChange]:
    """Headers newly allowed (classes of NEW) and newly blocked (classes of OLD) across every boundary."""
    old_found, new_found = crossings(old), crossings(new)
    out = _changed(new, new_found, old, _allowed(old_found), "allowed")
    out += _changed(old, old_found, new, _allowed(new_found), "blocked")
    return out


Key = tuple[str, str]  # (source node, destination domain)


def _allowed(found: Iterable[Crossing]) -> dict[Key, HeaderSpace]:
    """Per source node and destination domain, every header the node gets delivered into that domain."""
    out: dict[Key, HeaderSpace] = {}
    for cr in found:
        for c in cr.classes:
            key = (c.src_node, cr.to_domain)
            out[key] = out.get(key, HeaderSpace.of()).union(c.space)
    return out


def _delivered(net: Network, source: str, domain: str) -> HeaderSpace:
    """Every header ``source`` gets delivered into ``domain`` of ``net`` (asked directly: a source the crossings
    of that version did not need to ask)."""
    targets = [n for n, v in net.nodes.items() if v.domain == domain and n != source]
    if source not in net.nodes or not targets:
        return HeaderSpace.of()
    space = HeaderSpace.of()
    for c in reach(net, [source], targets):
        space = space.union(c.space)
    return space


def _changed(net: Network, found: list[Crossing], other_net: Network, other: dict[Key, HeaderSpace],
             direction: str) -> list[ReachChange]:
    """The parts of the classes of ``found`` (of ``net``) that ``other_net`` does not deliver."""
    out: list[ReachChange] = []
    asked: dict[Key, HeaderSpace] = {}
    for cr in found:
        approved = bool(approvals_of(cr, net.approvals))
        for c in cr.classes:
            key = (c.src_node, cr.to_domain)
            base = other.get(key)
            if base is None:
                base = asked.get(key)
                if base is None:
                    base = asked[key] = _delivered(other_net, *key)
            extra = c.space.subtract(base)
            if not extra:
                continue
            point = extra.representative(_prefer(c))
            out.append(ReachChange(direction, cr.from_domain, cr.to_domain, c.src_node, c.dst_node, extra.coalesce(),
                                   _packet(point), c.trace_of(point), cr.control_text, approved, cr.marks(net)))
    return out


def _prefer(c: ReachClass) -> dict[int, tuple[int, ...]]:
    """Prefer the class's own representative's values, so the example reads like the reach answer."""
    r = c.representative
    fields = (int_ip(r["src"]), int_ip(r["dst"]), None, r.get("sport"), r.get("dport"))
    return {i: (v,) for i, v in enumerate(fields) if v is not None}


def _packet(point: tuple[int, int, int, int, int]) -> dict[str, Any]:
    src, dst, proto, sport, dport = point
    out: dict[str, Any] = {"src": ip_text(src), "dst": ip_text(dst), "proto": proto_name(proto), "sport": sport,
                           "dport": dport}
    if proto == 1:
        out["icmp_type"] = dport
    return out


# -- capacity -----------------------------------------------------------------------------------------

def _capacity(old: Network, new: Network, options: DiffOptions, notes: list[str]
              ) -> tuple[tuple[CapacityChange, ...], tuple[LostDemand, ...]]:
    if not old.flows and not new.flows:
        notes.append("capacity not compared: neither version declares traffic")
        return (), ()
    before, after = worst_utilisation(old, options.failures), worst_utilisation(new, options.failures)
    limit = options.threshold / 100
    moved = []
    for name in dict.fromkeys([*new.links, *old.links]):
        a, b = before.get(name), after.get(name)
        if a is None or b is None or abs(b - a) > limit:
            if a is None and b is None:
                continue
            mark = new.links[name].mark if name in new.links else old.links[name].mark
            moved.append(CapacityChange(name, a, b, mark))
    return tuple(moved), tuple(lost_demands(old, new))


def worst_utilisation(net: Network, failures: str = "n-1") -> dict[str, float]:
    """Each link's worst-case utilisation: its busier direction, intact or under the sweep ``failures``."""
    a = assignment_of(net)
    sweep = sweep_of(net, Context(), failures) if failures != "none" and net.flows else None
    out: dict[str, float] = {}
    for link in net.links.values():
        worst = 0.0
        for d in (0, 1):
            load = a.load.get((link.name, d), 0.0)
            if sweep is not None and (link.name, d) in sweep.worst:
                load = max(load, sweep.worst[(link.name, d)][0])
            worst = max(worst, load / link.bandwidth)
        out[link.name] = worst
    return out


def lost_demands(old: Network, new: Network) -> list[LostDemand]:
    """Declared demands delivered whole in OLD that NEW does not deliver whole (matched by service and ends)."""
    def shares(net: Network) -> dict[str, tuple[float, Mark]]:
        a = assignment_of(net)
        out: dict[str, tuple[float, Mark]] = {}
        for demand, path in zip(a.demands, a.paths, strict=True):
            out.setdefault(demand.label, (path.delivered, demand.mark))
        return out

    before, after = shares(old), shares(new)
    eps = 1e-9
    return [LostDemand(label, share, mark) for label, (share, mark) in after.items()
            if label in before and before[label][0] >= 1 - eps and share < 1 - eps]


__all__ = ["DEFAULT_THRESHOLD", "FAILURE_MODES", "CapacityChange", "DiffOptions", "LostDemand", "PlanDiff",
           "ReachChange", "VerdictChange", "plan_diff", "reach_changes", "verdict_changes", "worst_utilisation"]
