"""``govnet capacity``: does the peak traffic fit the links, with headroom, also after failures?

    govnet capacity                                   # the default scenario, N-1
    govnet capacity plan.yaml --failures n-2 --pairs '*核心*'
    govnet capacity plan.yaml --failures links --failures risk-groups     # every link, every shared risk
    govnet capacity plan.yaml --under '双柏县外网核心--楚雄州外网核心'      # the network in that one failure
    govnet capacity plan.yaml --format json -o util.png
    govnet capacity plan.yaml --queue 县核心--州核心     # packet-level queue at that link
    govnet capacity plan.yaml --scheduler tcp://10.0.0.5:8786

Runs the built-in ``capacity`` pack with the command line's settings:
CAP-UTIL (peak utilisation of every link direction at most ``--fail``,
warned above ``--warn``), CAP-DELAY (one-way delay of video at most
``--max-delay``, ITU-T G.114) and, unless ``--failures none``, CAP-N1 (after
every failure of the sweep every demand still routes, no link above 100 %,
key nodes keep two disjoint paths). ``--failures`` takes ``none``, ``n-1``
(every link and node), ``n-2``, ``links``, ``nodes`` and ``risk-groups``
(every shared-risk group of the plan's ``risk_groups:``, all its members at
once), repeated or joined by ``,`` to combine them. ``--under FAILURE``
replays one failure instead of a sweep (a label as the report prints it:
``link X``, ``node Y``, ``risk group Z``, or a bare name): the same report of
the network in that failure, recomputed from scratch, with the intact plan's
demands, the demands it loses, and CAP-UTIL and CAP-DELAY judging that
network. Prints a table of link directions (load,
utilisation, headroom, worst utilisation after a failure and the failure that
causes it), the rule verdicts with evidence, and which links to upgrade to
which standard rate. ``-o FILE.png`` draws the plan with links coloured by
their worst utilisation above a histogram of link utilisations.

Exit status: 0 when every rule holds, 1 when one fails, 2 on input errors.
"""

from __future__ import annotations

from pathlib import Path

import click

from policies.capacity import analysis_of, assignment_of, direction_label, sweep_of
from policies.capacity_report import (
    build_report,
    draw_utilisation,
    render_text,
    rounded,
)
from policies.engine import check_network
from policies.loader import configured, load_pack
from policies.registry import Context
from simulator.failures import CHOICES, FailureError, Replay, Selection, failure_named, selection
from simulator.queueing import ENGINES, simulate_link
from simulator.sweep import SweepResult
from topology.units import parse_delay

from ..output import dumps_json, emit, write_atomic
from .common import load, plan_argument, refuse_outputs


def _delay(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return parse_delay(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _failures(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Selection | None:
    try:
        return selection(value)
    except FailureError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@plan_argument()
@click.option("--failures", "failures", multiple=True, metavar="|".join(CHOICES), callback=_failures,
              help="failure sweep (repeatable, or joined by ','): none; every single link and node (n-1, the "
                   "default); also pairs (n-2); every link (links), every node (nodes), every shared-risk group "
                   "of the plan (risk-groups)")
@click.option("--under", default=None, metavar="FAILURE",
              help="show the network in this one failure instead of a sweep: a label as the report prints it "
                   "(link X, node Y, risk group Z) or a bare link, node or risk group name")
@click.option("--pairs", multiple=True, metavar="GLOB",
              help="links/nodes N-2 pairs are drawn from (repeatable; default: links of the meshed core)")
@click.option("--phase", default=None, metavar="P", help="the network as built up to phase P")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="run the failure sweep on this Dask distributed scheduler (tcp://host:8786)")
@click.option("-o", "--output", "picture", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="draw the plan coloured by utilisation and a histogram of utilisations (.png)")
@click.option("--warn", default=0.5, show_default=True, type=click.FloatRange(0, 10, min_open=True),
              help="report link directions above this peak utilisation")
@click.option("--fail", "fail_at", default=0.7, show_default=True, type=click.FloatRange(0, 10, min_open=True),
              help="fail when a link direction is above this peak utilisation")
@click.option("--max-delay", default="150ms", show_default=True, callback=_delay,
              help="one-way delay limit of video flows")
@click.option("--queue", "queue", default=None, metavar="LINK|SITE",
              help="also simulate the packets at this link (or the busiest uplink of this site) at peak")
@click.option("--queue-time", default=5.0, show_default=True, type=click.FloatRange(0, 3600, min_open=True),
              help="seconds of traffic the queue simulation offers")
@click.option("--buffer", default=None, type=click.IntRange(1500),
              help="drop-tail buffer of the simulated port, bytes (default: 50 ms at the link's rate, at least 64 kB)")
@click.option("--engine", type=click.Choice(list(ENGINES)), default="fast", show_default=True,
              help="queue simulation engine")
@click.option("--strict", is_flag=True, help="redundancy: every demand must survive every failure, also where "
              "the plan has only one line (strict N-1)")
@click.option("--top", default=20, show_default=True, type=click.IntRange(0), help="rows of the text table (0: all)")
def capacity(plan: Path | None, failures: Selection | None, under: str | None, pairs: tuple[str, ...],
             phase: str | None, fmt: str, scheduler: str | None, picture: Path | None, warn: float, fail_at: float,
             max_delay: float, queue: str | None, queue_time: float, buffer: int | None, engine: str, strict: bool,
             top: int) -> None:
    """Peak load, headroom and N-1 worst case of every link; exit 1 when a rule fails."""
    ctx = click.get_current_context()
    if picture is not None and picture.suffix.lower() != ".png":
        raise click.BadParameter(f"cannot draw to {picture}: use a .png file", param_hint="-o")
    if under is not None and ctx.get_parameter_source("failures") is not click.core.ParameterSource.DEFAULT:
        raise click.BadParameter("--under replays one failure, --failures sweeps many: give one of them",
                                 param_hint="--under")
    if under is not None:
        failures = None
    if pairs and (failures is None or failures.mode != "n-2"):
        raise click.BadParameter("--pairs chooses the N-2 set; give --failures n-2 with it", param_hint="--pairs")
    net = load(plan, phase)
    refuse_outputs(net.sources, picture)
    if failures is not None and failures.groups and not net.risk_groups:
        raise click.BadParameter("the plan declares no shared-risk group to fail: list them under risk_groups: "
                                 "(links and nodes that fail together)", param_hint="--failures")
    replay: Replay | None = None
    if under is not None:
        try:
            replay = analysis_of(net).replay(failure_named(net, under))
        except FailureError as exc:
            raise click.BadParameter(str(exc), param_hint="--under") from None
    context = Context(scheduler=scheduler)
    settings: dict[str, dict] = {"CAP-UTIL": {"warn": warn, "fail": fail_at},
                                 "CAP-DELAY": {"max_delay": max_delay * 1000}}
    if failures is not None:
        settings["CAP-N1"] = {"failures": failures.mode, "elements": failures.elements, "pairs": list(pairs),
                              "survive": "all" if strict else "reachable"}
    pack = configured(load_pack("capacity"), settings, drop=[] if failures is not None else ["CAP-N1"])
    state = replay.net if replay is not None else net  # the network judged and shown
    a = replay.assignment if replay is not None else assignment_of(net)
    results = check_network(state, pack.rules, context=context)
    sweep: SweepResult | None = None
    if failures is not None:
        sweep = sweep_of(net, context, failures.mode, tuple(pairs), failures.links, failures.nodes, 1.0,
                         groups=failures.groups)
    queue_report = None
    if queue is not None:
        key, q = simulate_link(a, queue, buffer, queue_time, 1, engine)
        queue_report = {"target": queue, "link": key[0], "direction": direction_label(state, key),
                        **rounded(q.to_dict())}
    report = build_report(state, a, sweep, results, failures.label if failures is not None else "none", warn,
                          fail_at, queue_report, replay)
    emit(dumps_json(report) if fmt == "json" else render_text(report, top), None)
    if picture is not None:
        write_atomic(picture, draw_utilisation(state, report, warn, fail_at), net.sources)
    if any(r.failed_ for r in results):
        click.get_current_context().exit(1)
