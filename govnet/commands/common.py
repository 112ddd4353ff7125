"""Arguments and helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from topology import Network, default_plan_path, load_plan
from topology.errors import GovnetError
from topology.files import refuse_inputs, shown


def plan_argument(required: bool = False):
    """The PLAN argument: a plan file, or a scenario folder (its plan.yaml)."""
    return click.argument("plan", required=required, type=click.Path(path_type=Path))


def inputs_of(net: Network, policies: Iterable[Any] = ()) -> tuple[str, ...]:
    """Every file a command read: the plan, what it includes, the policy files (policies.loader.Policy)."""
    return net.sources + tuple(p.file for p in policies if getattr(p, "file", None))


def make_folder(path: str | Path) -> None:
    """Create the folder ``path`` (and its parents) or exit 2 saying why not."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GovnetError(f"cannot make the folder {shown(path)}: {exc.strerror or exc}") from None


def refuse_outputs(inputs: Iterable[str], *outputs: str | Path | None) -> None:
    """Exit 2 before any work when an output names one of the inputs."""
    for output in outputs:
        if output is not None:
            refuse_inputs(output, inputs)


def load(plan: Path | None, phase: str | None = None) -> Network:
    """Load ``plan`` (the default scenario when None), cut to ``phase`` if given."""
    net = load_plan(plan if plan is not None else default_plan_path())
    if phase is not None:
        if phase not in {p.name for p in net.phases}:
            names = ", ".join(p.name for p in net.phases)
            raise click.BadParameter(f"the plan has no phase '{phase}' (phases: {names})", param_hint="--phase")
        net = net.at_phase(phase)
    return net
