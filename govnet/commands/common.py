"""Arguments and helpers shared by the commands."""

from __future__ import annotations

from pathlib import Path

import click

from topology import Network, default_plan_path, load_plan


def plan_argument(required: bool = False):
    return click.argument("plan", required=required, type=click.Path(dir_okay=False, path_type=Path))


def load(plan: Path | None, phase: str | None = None) -> Network:
    """Load ``plan`` (the default scenario when None), cut to ``phase`` if given."""
    net = load_plan(plan if plan is not None else default_plan_path())
    if phase is not None:
        if phase not in {p.name for p in net.phases}:
            names = ", ".join(p.name for p in net.phases)
            raise click.BadParameter(f"the plan has no phase '{phase}' (phases: {names})", param_hint="--phase")
        net = net.at_phase(phase)
    return net
