"""``govnet lab``: the plan as a real Linux network, and every verdict cross-checked against the kernel.

``lab up`` builds the plan (or the selected part of it) as network
namespaces, veth pairs, kernel routes, nftables and tunnel endpoints; ``lab
run`` sends the checked packets and compares the kernel with the simulator
(exit 1 on any disagreement); ``lab down`` removes everything the lab made,
also after a crash. ``lab run PLAN`` on a lab that is not up brings it up,
runs and takes it down again. Needs root, iproute2 and nftables
(``--routing ospf``: FRR). Exit 2 on bad input or when the machine cannot
hold a lab.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import plan_argument

LAB_OPTION = click.option("--lab", "lab", default="govnet", show_default=True,
                          help="the lab's name (namespaces are gl-<lab>-<i>)")
STATE_OPTION = click.option("--state-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
                            help="the lab's state folder (default /run/govnet-lab/<lab>)")


@click.group()
def lab() -> None:
    """Build the plan as a real Linux network and check the simulator against the kernel."""


def _plan(plan: Path | None) -> Path:
    from topology import default_plan_path

    return plan if plan is not None else default_plan_path()


@lab.command()
@plan_argument()
@LAB_OPTION
@STATE_OPTION
@click.option("--select", "select", multiple=True, metavar="SEL",
              help="only the nodes this selector names (repeatable): site:双柏县, role:firewall ...")
@click.option("--phase", default=None, help="the network as built up to this phase")
@click.option("--routing", type=click.Choice(["static", "ospf"]), default="static", show_default=True,
              help="install the simulator's routes, or run FRR ospfd per namespace")
def up(plan: Path | None, lab: str, state_dir: Path | None, select: tuple[str, ...], phase: str | None,
       routing: str) -> None:
    """Bring the plan up as namespaces, veth pairs, routes, nftables and tunnel endpoints."""
    from simulator.lab import up as lab_up

    state = lab_up(_plan(plan), lab, state_dir, phase, list(select), routing)
    click.echo(f"lab {state.lab} is up: {len(state.namespaces)} namespaces, {len(state.devices)} devices "
               f"in {state.timings.get('total', 0):.2f} s")
    for feature, how in state.mechanisms.items():
        click.echo(f"  {feature:<9} {how}")


@lab.command()
@plan_argument()
@LAB_OPTION
@STATE_OPTION
@click.option("--kinds", default="flow,reach,evidence,pairs", show_default=True,
              help="which packets to check (flow, reach, evidence, pairs); TCP answers follow their packets")
@click.option("--max-classes", default=200, show_default=True, type=click.IntRange(0), help="reach classes per boundary")
@click.option("--max-sources", default=50, show_default=True, type=click.IntRange(1), help="reach sources per boundary")
@click.option("--max-pairs", default=400, show_default=True, type=click.IntRange(0), help="node pairs to probe")
@click.option("--select", "select", multiple=True, metavar="SEL", help="with PLAN, when the lab is not up: as lab up")
@click.option("--phase", default=None, help="with PLAN, when the lab is not up: as lab up")
@click.option("--routing", type=click.Choice(["static", "ospf"]), default="static",
              help="with PLAN, when the lab is not up: as lab up")
def run(plan: Path | None, lab: str, state_dir: Path | None, kinds: str, max_classes: int, max_sources: int,
        max_pairs: int, select: tuple[str, ...], phase: str | None, routing: str) -> None:
    """Send every checked packet in the lab and compare the kernel with the simulator (exit 1 on a disagreement)."""
    from simulator.lab import down as lab_down
    from simulator.lab import report_text
    from simulator.lab import run as lab_run
    from simulator.lab import up as lab_up
    from simulator.lab.build import is_up, running_plan
    from simulator.lab.run import lab_net

    wanted = tuple(k.strip() for k in kinds.split(",") if k.strip())
    unknown = [k for k in wanted if k not in ("flow", "reach", "evidence", "pairs")]
    if unknown:
        raise click.BadParameter(f"unknown kind(s) {', '.join(unknown)}", param_hint="--kinds")
    started = False
    if is_up(lab, state_dir):
        running_plan(lab, state_dir, plan)
    else:
        lab_up(_plan(plan), lab, state_dir, phase, list(select), routing)
        started = True
    try:
        findings = _findings(lab_net(lab, state_dir)) if "evidence" in wanted else []
        report = lab_run(lab, state_dir, wanted, max_classes, max_pairs, max_sources, findings=findings)
    finally:
        if started:
            lab_down(lab, state_dir)
    click.echo(report_text(report), nl=False)
    if not report.ok:
        click.get_current_context().exit(1)


def _findings(net) -> list[tuple[str, dict]]:
    """(rule id, evidence data) of every failing or waived rule of the plan's own policies."""
    if not net.policies:
        return []
    from policies.engine import check_plan
    from policies.loader import select_policies

    return [(result.rule.id, evidence.data) for run in check_plan(net, select_policies(net, None))
            for result in run.results if result.status in ("fail", "waived") for evidence in result.evidence]


@lab.command()
@LAB_OPTION
@STATE_OPTION
def down(lab: str, state_dir: Path | None) -> None:
    """Remove everything the lab made: processes, namespaces, the state folder (also after a crash)."""
    from simulator.lab import down as lab_down

    report = lab_down(lab, state_dir)
    click.echo(f"lab {lab} is down: {report.namespaces} namespace(s) and {report.processes} process(es) removed"
               + (f", {report.folder} deleted" if report.folder else ""))
