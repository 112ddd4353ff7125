"""Re-checking a plan after an edit: only what the edit touches is judged again.

Definitions. A :class:`Rechecker` checks successive versions of one plan (the
planner's editor loop, ``govnet check --watch``). It keeps, for the version it
checked last, each phase's network state and every rule's result before
waivers. On the next version, for each phase:

- the parts of the model that changed are found
  (:func:`topology.diff.changed_parts`, plan lines included);
- a rule of a kind that reads only some parts (``reads`` of
  :func:`policies.registry.register`), none of which changed, keeps its
  result when the rule itself is the same (kind, parameters, severity, its
  line in its policy file);
- every other rule is judged again, on a network state that starts with what
  :func:`simulator.carry.carry_over` carried over from the last one: the
  routing and forwarding state when the routing inputs are the same, and
  every reachability answer, round trip and demand path that met no
  changed node;
- waivers are applied afresh to every result (they may have changed).

The runs are what :func:`policies.engine.check_plan` gives for the same
version: ``tests/policies/test_recheck.py`` compares the two on random edits.
The rules are judged in this process, one after the other, not as
:func:`policies.engine.check_network` judges them (the kinds registered
``apart`` in a forked child): what a child derives would be lost to the next
version, the destination decisions the crossings warm most of all. A first
check, and one after an edit of the routing, so take longer than
``govnet check`` (which runs once and keeps nothing).

    >>> from topology import load_plan
    >>> checker = Rechecker()
    >>> runs, first = checker.check(load_plan("scenarios/chuxiong/plan.yaml"))
    >>> runs, again = checker.check(load_plan("scenarios/chuxiong/plan.yaml"))   # read again, unchanged
    >>> first.kept, again.judged + again.kept == first.judged, again.carried[0].forwarding
    (0, True, True)
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.carry import Carried, carry_over, keep_for_later
from topology.collector import no_gc
from topology.diff import PARTS, changed_parts, differing_nodes
from topology.model import Network

from .engine import CheckRun, check_views, judge_rules
from .loader import policies_to_check
from .model import PolicyRule, RuleResult
from .registry import RULE_READS, Context
from .setup import prepare_check
from .waivers import apply_waivers


@dataclass(frozen=True)
class RecheckStats:
    """What one :meth:`Rechecker.check` did: rules judged again, rules whose result was kept, what each phase's
    state carried over from the last version, and the seconds it took."""

    judged: int
    kept: int
    carried: tuple[Carried, ...]
    seconds: float

    def text(self) -> str:
        """One line for the planner: ``checked in 1.02 s: 12 rule(s) judged, 5 kept; forwarding kept, ...``."""
        carried = [c for c in self.carried if c.forwarding]
        how = ""
        if carried:
            changed = sorted({n for c in carried for n in c.changed})
            shown = ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
            how = (f"; forwarding kept, {len(changed)} node(s) changed" + (f" ({shown})" if changed else "")
                   + f"; kept {sum(c.answers for c in carried)} reachability answer(s) "
                   f"(and the walks of {sum(c.walks for c in carried)} more), "
                   f"{sum(c.trips for c in carried)} round trip(s), {sum(c.paths for c in carried)} demand path(s)")
        elif self.carried:
            how = f"; forwarding built again ({self.carried[0].reason})"
        return f"checked in {self.seconds:.2f} s: {self.judged} rule(s) judged, {self.kept} kept{how}"


@dataclass
class _Checked:
    view: Network
    results: dict[str, tuple[PolicyRule, RuleResult]]  # rule id → (the rule, its result before waivers)


class Rechecker:
    """Checks successive versions of one plan, each reusing what the last one derived (see the module docstring).

    ``policy_names``, ``phase``, ``on`` and ``scheduler`` are those of :func:`policies.engine.check_plan` (on a
    scheduler, a sweep's failure cases are answered there and not kept).
    """

    def __init__(self, policy_names: Sequence[str] = (), phase: str | None = None, on: datetime.date | None = None,
                 scheduler: str | None = None):
        self.policy_names = tuple(policy_names)
        self.phase = phase
        self.on = on
        self.scheduler = scheduler
        self._last: dict[str | None, _Checked] = {}

    def check(self, net: Network) -> tuple[list[CheckRun], RecheckStats]:
        """The runs of ``net`` (as :func:`~policies.engine.check_plan` gives them) and what the check reused."""
        start = time.perf_counter()
        setup = prepare_check(net, policies_to_check(net, self.policy_names), self.on)
        done: dict[str | None, _Checked] = {}
        carried: list[Carried] = []
        counts = [0, 0]

        def judged(phase: str | None, view: Network) -> list[RuleResult]:
            old = self._last.get(phase)
            parts = frozenset(PARTS)
            if old is not None:
                differing = differing_nodes(old.view, view)
                parts = changed_parts(old.view, view, differing)
                carried.append(carry_over(old.view, view, differing))
            checked = done[phase] = _Checked(view, {})
            kept: dict[int, RuleResult] = {}
            for i, rule in enumerate(setup.rules):
                before = old.results.get(rule.id) if old is not None else None
                if before is not None and before[0] == rule and _untouched(rule.kind, parts):
                    kept[i] = before[1]
            judge = [r for i, r in enumerate(setup.rules) if i not in kept]
            keep_for_later(view)
            with no_gc():
                again = iter(judge_rules(view, judge, Context(scheduler=self.scheduler), None))
            counts[0] += len(setup.rules) - len(kept)
            counts[1] += len(kept)
            out = []
            for i, rule in enumerate(setup.rules):
                result = kept[i] if i in kept else next(again)
                checked.results[rule.id] = (rule, result)
                out.append(apply_waivers(result, setup.waivers, setup.today))
            return out

        runs = check_views(net, setup, self.phase, judged)
        self._last = done
        return runs, RecheckStats(counts[0], counts[1], tuple(carried), time.perf_counter() - start)


def _untouched(kind: str, parts: frozenset[str]) -> bool:
    reads = RULE_READS.get(kind)
    return reads is not None and not reads & parts
