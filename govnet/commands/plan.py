"""``govnet validate``, ``govnet show`` and ``govnet schema``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from topology import PlanError, load_plan
from topology.schema import plan_json_schema
from topology.summary import summarize, summary_text

from ..output import dumps_json, emit
from .common import load, plan_argument, refuse_outputs


@click.command()
@click.argument("plans", nargs=-1, type=click.Path(path_type=Path))
def validate(plans: tuple[Path, ...]) -> None:
    """Check plans and the policies they name; print every error as FILE:LINE:COL, exit 2 if any."""
    from policies.loader import select_policies
    from policies.setup import prepare_check
    from topology import default_plan_path

    issues = []
    for plan in plans or (default_plan_path(),):
        try:
            net = load_plan(plan)
            if net.policies:
                prepare_check(net, select_policies(net, None))
        except PlanError as exc:
            issues.extend(exc.issues)
            continue
        click.echo(f"{plan}: ok ({len(net.nodes)} nodes, {len(net.links)} links, {len(net.sites)} sites)")
    if issues:
        raise PlanError(issues)


@click.command()
@plan_argument()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--phase", default=None, help="show the network as built up to this phase")
@click.option("-o", "--output", default=None, help="write to this file instead of stdout")
def show(plan: Path | None, fmt: str, phase: str | None, output: str | None) -> None:
    """What the plan expands to: counts per domain, level and phase, every node."""
    net = load(plan, phase)
    refuse_outputs(net.sources, output)
    data = summarize(net)
    emit(dumps_json(data) if fmt == "json" else summary_text(net, data), output, net.sources)


@click.command()
@click.option("--part", is_flag=True, help="the schema of an included part (no section required, no name)")
@click.option("--reference", is_flag=True, help="the format reference (docs/format.md) instead of a schema")
@click.option("-o", "--output", default=None, help="write to this file instead of stdout")
def schema(part: bool, reference: bool, output: str | None) -> None:
    """The JSON Schema of the plan format (for editor completion), of a part, or the format reference."""
    if part and reference:
        raise click.UsageError("give --part or --reference, not both")
    if reference:
        from topology.reference import render_reference

        emit(render_reference(), output)
        return
    from topology.part_schema import part_json_schema

    emit(json.dumps(part_json_schema() if part else plan_json_schema(), ensure_ascii=False, indent=2,
                    sort_keys=True) + "\n", output)
