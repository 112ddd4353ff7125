"""Running a check: every rule of the chosen policies on the plan, phase by phase.

    >>> runs = check_plan(net, policies, phase="all")       # doctest: +SKIP
    >>> [r.rule.id for run in runs for r in run.results if r.failed_]

A *run* is one network state (the whole plan, or the plan as built up to one
phase) with the result of every rule on it. ``phase=None`` checks the whole
plan; a phase name checks the plan as built up to that phase; ``"all"``
checks every phase on its own, so no intermediate rollout state escapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from topology.errors import GovnetError
from topology.model import Network

from . import kinds  # noqa: F401  (registers every rule kind)
from .loader import Policy, rules_of
from .model import SEVERITIES, PolicyRule, RuleResult
from .registry import RULE_KINDS, Context


class UnknownPhase(GovnetError):
    """The plan has no phase of that name."""


@dataclass(frozen=True)
class CheckRun:
    plan: str  # the plan file as given
    name: str  # the plan's name
    phase: str | None  # None: the whole plan
    policies: tuple[str, ...]
    results: tuple[RuleResult, ...]

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if r.failed_]


def evaluate_rule(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    evaluator = RULE_KINDS.get(rule.kind)
    if evaluator is None:
        raise GovnetError(f"rule {rule.id}: no rule kind '{rule.kind}' is registered")
    return evaluator(net, rule, context)


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


def check_network(net: Network, rules: Iterable[PolicyRule], pcap_dir: str | None = None) -> list[RuleResult]:
    """Evaluate ``rules`` on one network state, sharing one cache between them."""
    context = Context(pcap_dir=pcap_dir)
    return [evaluate_rule(net, rule, context) for rule in rules]


def check_plan(net: Network, policies: list[Policy], phase: str | None = None,
               pcap_dir: str | None = None) -> list[CheckRun]:
    rules = rules_of(policies)
    names = tuple(p.source for p in policies)
    runs = []
    for phase_name, view in phase_views(net, phase):
        sub = None
        if pcap_dir is not None and phase_name is not None:
            sub = f"{pcap_dir}/{phase_name}"
        runs.append(CheckRun(net.file, net.name, phase_name, names, tuple(check_network(view, rules, sub or pcap_dir))))
    return runs


def blocking(results: Iterable[RuleResult], fail_on: str) -> list[RuleResult]:
    """Failed results at or above severity ``fail_on``."""
    floor = SEVERITIES.index(fail_on)
    return [r for r in results if r.failed_ and r.rule.severity_rank() >= floor]
