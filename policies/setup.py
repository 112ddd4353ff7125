"""The setup of a check: the rules chosen, their selectors checked, the waivers resolved.

Definition. The setup of a check of a plan (:class:`CheckSetup`) is the
policies chosen for it (a :class:`~policies.loader.PolicySelection`), their
rules, the plan's waivers of those rules scoped to its nodes, the waivers of
rules not being checked, and the day waivers are judged on. It is *checked*
(:func:`prepare_check`) when

- each domain selector of each rule means something in this plan
  (:func:`selector_issues`, by :func:`topology.selectors.plan_selector_problem`);
- each waiver names a rule being checked and selects nodes
  (:func:`policies.waivers.resolve_waivers`).

Every problem is raised together as a :class:`~policies.errors.PolicyError`.
This is all ``govnet validate`` asks of a plan's policies; it needs the rule
kinds' parameter models (:mod:`policies.params`) and never their evaluators
nor the simulator, so validating costs what loading the plan costs. A check
(:mod:`policies.engine`) prepares its setup here before any rule runs.

    >>> from topology import load_plan
    >>> from policies.loader import select_policies
    >>> net = load_plan("scenarios/chuxiong")
    >>> setup = prepare_check(net, select_policies(net))
    >>> setup.selection.names[:1], len(setup.rules) > 0
    (('egov-baseline',), True)
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from topology.errors import PlanIssue
from topology.model import Network, Waiver
from topology.selectors import plan_selector_problem, selector_values
from topology.yaml_source import mark_for

from .errors import PolicyError
from .loader import Policy, PolicySelection, rules_of, with_required_packs
from .model import PolicyRule
from .params import KIND_PARAMS
from .waivers import ScopedWaiver, resolve_waivers, today


@dataclass(frozen=True)
class CheckSetup:
    """What a check runs, checked against the plan: the rules, the waivers of those rules, the day."""

    selection: PolicySelection
    rules: tuple[PolicyRule, ...]
    waivers: tuple[ScopedWaiver, ...]
    unused_waivers: tuple[Waiver, ...]
    today: datetime.date


def selector_issues(net: Network, rules: Iterable[PolicyRule]) -> list[PlanIssue]:
    """Every domain selector of ``rules`` that cannot mean anything in ``net``, at its place in the policy file."""
    issues = []
    for rule in rules:
        model = KIND_PARAMS.get(rule.kind)
        if model is None:
            continue
        for path, text in selector_values(model.model_validate(rule.params)):
            problem = plan_selector_problem(net, text)
            if problem is None:
                continue
            where = mark_for(rule.param_marks, path) if rule.param_marks else rule.mark
            message, hint = problem
            issues.append(PlanIssue(where or net.mark, f"rule {rule.id}: {message} (selector '{text}')", hint))
    return issues


def prepare_check(net: Network, policies: PolicySelection | list[Policy],
                  on: datetime.date | None = None) -> CheckSetup:
    """The checked setup of a check of ``net``; raises PolicyError with every problem found.

    A plain list of policies is taken as chosen by the caller (as ``--policy``
    is), with the packs the law requires added.
    """
    selection = policies if isinstance(policies, PolicySelection) else with_required_packs(net, list(policies))
    rules = rules_of(selection.policies)
    issues = selector_issues(net, rules)
    waivers, unused, waiver_problems = resolve_waivers(net, [r.id for r in rules], selection.from_plan)
    issues += waiver_problems
    if issues:
        raise PolicyError(issues)
    return CheckSetup(selection, tuple(rules), tuple(waivers), tuple(unused), on or today())
