"""``govnet diff OLD NEW``: what a change to a plan does (the model, verdicts, boundary crossings, capacity).

OLD and NEW are plan files (or scenario folders) or ``REV:path``, a plan as
a git revision holds it, read with its includes from git objects
(:mod:`topology.revisions`): ``govnet diff main:scenarios/x/plan.yaml
scenarios/x/plan.yaml`` compares the work tree with ``main``. What is
compared is :mod:`policies.diff`'s; the output is :mod:`policies.diff_report`'s.

Exit status: 1 when the change adds a failing rule (at or above
``--fail-on``) or an unapproved boundary crossing, 0 otherwise, 2 on bad
input (a plan, a revision, a policy, a phase).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

import click

from policies.diff import DEFAULT_THRESHOLD, FAILURE_MODES, DiffOptions, plan_diff
from policies.diff_report import diff_ci, diff_json, diff_text
from policies.engine import phase_views
from policies.loader import policies_to_check
from policies.model import SEVERITIES
from topology import Network, load_plan
from topology.revisions import PlanAt, plan_at

from ..output import emit
from .common import inputs_of, refuse_outputs


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--policy", "policy_names", multiple=True, metavar="FILE|PACK",
              help="policy file or built-in pack (repeatable) for both versions; else each plan's own 'policies:'")
@click.option("--phase", default=None, metavar="P",
              help="compare the plans as built up to phase P; 'all' compares the verdicts of every phase")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "gitlab"]), default="text",
              show_default=True, help="github: workflow-command annotations; gitlab: Code Quality JSON")
@click.option("-o", "--output", default=None, help="write the answer to this file instead of stdout")
@click.option("--threshold", type=click.FloatRange(min=0, max=1000), default=DEFAULT_THRESHOLD, show_default=True,
              help="report links whose worst-case utilisation moved by more than this many percentage points")
@click.option("--failures", type=click.Choice(list(FAILURE_MODES)), default="n-1", show_default=True,
              help="the failure sweep the worst case is taken over")
@click.option("--fail-on", type=click.Choice(list(reversed(SEVERITIES))), default="high", show_default=True,
              help="a new failure of a rule of this severity or above makes the change regress (exit 1)")
def diff(old: str, new: str, policy_names: tuple[str, ...], phase: str | None, fmt: str, output: str | None,
         threshold: float, failures: str, fail_on: str) -> None:
    """Compare two versions of a plan: model, verdicts, reachability across every boundary, capacity."""
    with ExitStack() as stack:
        before: PlanAt = stack.enter_context(plan_at(old))
        after: PlanAt = stack.enter_context(plan_at(new))
        old_net, new_net = load_plan(before.path), load_plan(after.path)
        old_policies, new_policies = policies_to_check(old_net, policy_names), policies_to_check(new_net, policy_names)
        inputs = [*_on_disk(before, old_net, old_policies.policies), *_on_disk(after, new_net, new_policies.policies)]
        refuse_outputs(inputs, output)
        for net in (old_net, new_net):
            if phase not in (None, "all"):
                phase_views(net, phase)  # an unknown phase is bad input (exit 2), before any work
        options = DiffOptions(phase=phase, threshold=threshold, failures=failures, fail_on=fail_on)
        change = plan_diff(old_net, new_net, options, old_policies, new_policies)

        def name(file: str) -> str:
            for side in (after, before):
                if side.root is not None and side.name(file).startswith(f"{side.revision}:"):
                    return side.name(file)
            return after.name(file)

        if fmt in ("github", "gitlab"):
            text = diff_ci(change, fmt, name)
        else:
            text = (diff_json if fmt == "json" else diff_text)(change, before.label, after.label, name)
        emit(text, output, inputs)
    if change.regresses:
        click.get_current_context().exit(1)


def _on_disk(side: PlanAt, net: Network, policies: Iterable[Any]) -> tuple[str, ...]:
    """The files of the work tree a version was read from (a revision's copies are not the user's files)."""
    if side.root is not None:
        return ()
    return inputs_of(net, policies)
