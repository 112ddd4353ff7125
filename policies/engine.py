"""Running a check: every rule of the chosen policies on the plan, phase by phase, waivers applied.

    >>> from topology import load_plan
    >>> from policies.loader import select_policies
    >>> hole = load_plan("scenarios/chuxiong/faults/firewall-hole.yaml")   # a planted fault
    >>> runs = check_plan(hole, select_policies(hole))
    >>> [(run.phase, [r.rule.id for r in run.failed]) for run in runs]
    [(None, ['EGOV-LI-1'])]

A *run* is one network state (the whole plan, or the plan as built up to one
phase) with the result of every rule on it. ``phase=None`` checks the whole
plan; a phase name checks the plan as built up to that phase; ``"all"``
checks every phase on its own, so no intermediate rollout state escapes.

Before any rule runs, :func:`policies.setup.prepare_check` checks the setup
against the plan and raises a :class:`~policies.errors.PolicyError` with
every problem: each domain selector of each rule must mean something in this
plan, each waiver must name a rule being checked and select nodes.
After a rule is evaluated its waivers are applied
(:func:`policies.waivers.apply_waivers`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from simulator.background import Background
from simulator.forwarding import build_forwarding
from topology.collector import no_gc
from topology.errors import GovnetError
from topology.model import DeclinedPolicy, Network, Waiver

from . import kinds  # noqa: F401  (registers every rule kind)
from .loader import Policy, PolicySelection, RequiredPack
from .model import SEVERITIES, PolicyRule, RuleResult
from .registry import RULE_KINDS, RULES_APART, Context
from .setup import CheckSetup, prepare_check
from .waivers import apply_waivers


class UnknownPhase(GovnetError):
    """The plan has no phase of that name."""


@dataclass(frozen=True)
class CheckRun:
    plan: str  # the plan file as given
    name: str  # the plan's name
    phase: str | None  # None: the whole plan
    policies: tuple[str, ...]
    results: tuple[RuleResult, ...]
    added: tuple[RequiredPack, ...] = ()  # packs the law added
    declined: tuple[DeclinedPolicy, ...] = ()  # packs the plan does not take
    unused_waivers: tuple[Waiver, ...] = ()  # waivers of rules not checked (rules from the command line)

    @property
    def failed(self) -> list[RuleResult]:
        """Failures no waiver covers."""
        return [r for r in self.results if r.failed_]

    def with_status(self, status: str) -> list[RuleResult]:
        return [r for r in self.results if r.status == status]


def evaluate_rule(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    evaluator = RULE_KINDS.get(rule.kind)
    if evaluator is None:
        raise GovnetError(f"rule {rule.id}: no rule kind '{rule.kind}' is registered")
    return evaluator(net, rule, context)


def judge(net: Network, rule: PolicyRule, context: Context, setup: CheckSetup) -> RuleResult:
    """The rule's result on ``net`` with the waivers of the check applied."""
    return apply_waivers(evaluate_rule(net, rule, context), setup.waivers, setup.today)


def phase_views(net: Network, phase: str | None) -> list[tuple[str | None, Network]]:
    """The network states to check for ``--phase``: None, a phase name, or ``all``."""
    if phase is None:
        return [(None, net)]
    names = [p.name for p in net.phases]
    if phase == "all":
        return [(p.name, net.at_phase(p.index)) for p in net.phases]
    if phase not in names:
        raise UnknownPhase(f"the plan has no phase '{phase}' (phases: {', '.join(names)}, or all)")
    return [(phase, net.at_phase(phase))]


def check_network(net: Network, rules: Iterable[PolicyRule], pcap_dir: str | None = None,
                  setup: CheckSetup | None = None, context: Context | None = None) -> list[RuleResult]:
    """Evaluate ``rules`` on one network state, sharing one context between them (waivers of ``setup`` applied).

    ``context`` carries the caller's settings (a sweep's scheduler ...); by default a fresh one. The rules
    of kinds registered ``apart`` are judged in a forked child (:class:`simulator.background.Background`)
    while this process judges the others, when there are both; the results come in the order of ``rules``.
    The cyclic collector is paused meanwhile (:func:`topology.collector.no_gc`): it took a quarter of a check.
    """
    with no_gc():  # millions of small objects and few cycles: each full collection would scan them all again
        return _check_network(net, list(rules), context if context is not None else Context(pcap_dir=pcap_dir), setup)


def _check_network(net: Network, rules: list[PolicyRule], context: Context, setup: CheckSetup | None) -> list[RuleResult]:
    here, apart = split_apart(rules)
    if not here or not apart:
        return judge_rules(net, rules, context, setup)
    build_forwarding(net)  # built once, before the child is forked: both sides use it
    child = Background(judge_rules, net, apart, replace(context, cache={}), setup)
    try:
        mine = judge_rules(net, here, context, setup)
        theirs = child.result()
    finally:
        child.close()
    return in_rule_order(rules, mine, theirs)


def split_apart(rules: list[PolicyRule]) -> tuple[list[PolicyRule], list[PolicyRule]]:
    """(the rules judged in this process, those of kinds registered ``apart``), each in the order of ``rules``."""
    return [r for r in rules if r.kind not in RULES_APART], [r for r in rules if r.kind in RULES_APART]


def in_rule_order(rules: list[PolicyRule], here: list[RuleResult], apart: list[RuleResult]) -> list[RuleResult]:
    """The results of :func:`split_apart`'s two lists, judged on their own, back in the order of ``rules``."""
    mine, theirs = iter(here), iter(apart)
    return [next(theirs) if r.kind in RULES_APART else next(mine) for r in rules]


def judge_rules(net: Network, rules: list[PolicyRule], context: Context, setup: CheckSetup | None) -> list[RuleResult]:
    """Each rule of ``rules`` on ``net`` in turn, sharing ``context`` (with the waivers of ``setup``, if any)."""
    if setup is None:
        return [evaluate_rule(net, rule, context) for rule in rules]
    return [judge(net, rule, context, setup) for rule in rules]


def check_plan(net: Network, policies: PolicySelection | list[Policy], phase: str | None = None,
               pcap_dir: str | None = None, on: datetime.date | None = None,
               scheduler: str | None = None) -> list[CheckRun]:
    """Check ``net`` phase by phase (see the module docstring); ``on``: the day waivers are judged on;
    ``scheduler``: the Dask scheduler the failure sweeps of the rules run on (None: this machine)."""
    setup = prepare_check(net, policies, on)

    def judged(phase_name: str | None, view: Network) -> list[RuleResult]:
        sub = f"{pcap_dir}/{phase_name}" if pcap_dir is not None and phase_name is not None else None
        return check_network(view, setup.rules, setup=setup, context=Context(pcap_dir=sub or pcap_dir,
                                                                             scheduler=scheduler))

    return check_views(net, setup, phase, judged)


def check_views(net: Network, setup: CheckSetup, phase: str | None,
                judged: Callable[[str | None, Network], list[RuleResult]]) -> list[CheckRun]:
    """One :class:`CheckRun` per network state of ``phase`` (:func:`phase_views`), its results ``judged``."""
    return [CheckRun(net.file, net.name, phase_name, setup.selection.names, tuple(judged(phase_name, view)),
                     setup.selection.added, setup.selection.declined, setup.unused_waivers)
            for phase_name, view in phase_views(net, phase)]


def blocking(results: Iterable[RuleResult], fail_on: str) -> list[RuleResult]:
    """Failed results (not waived) at or above severity ``fail_on``."""
    floor = SEVERITIES.index(fail_on)
    return [r for r in results if r.failed_ and r.rule.severity_rank() >= floor]
