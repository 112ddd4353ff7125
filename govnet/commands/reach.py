"""``govnet reach``: every class of packets that gets from one set of nodes to another.

Selectors: ``node:NAME`` (or a bare name), ``site:NAME`` (with the sites
below it), ``domain:NAME`` (name or kind), ``role:ROLE``, ``level:LEVEL``,
``service:NAME``; join terms with ``,`` to intersect them. The answer is
complete over all headers, not a sample. Exit status 0 (also when nothing gets
through), 2 on an input error.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..output import dumps_json, emit
from .common import load, plan_argument, refuse_outputs


@click.command()
@plan_argument()
@click.option("--from", "src", required=True, help="selector of the sending nodes (node:X, site:X, domain:X, role:X, bare name)")
@click.option("--to", "dst", required=True, help="selector of the destination nodes")
@click.option("--phase", default=None, help="the network as built up to this phase")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--traces/--no-traces", default=True, show_default=True, help="include each representative's trace in JSON")
@click.option("-o", "--output", default=None, help="write to this file instead of stdout")
def reach(plan: Path | None, src: str, dst: str, phase: str | None, fmt: str, traces: bool, output: str | None) -> None:
    """Which packets can get from SELECTOR to SELECTOR at all (header-space classes)."""
    from simulator.reach import reach_answer, reach_text
    from topology.selectors import select_nodes

    net = load(plan, phase)
    refuse_outputs(net.sources, output)
    sources = select_nodes(net, src)
    destinations = select_nodes(net, dst)
    answer = reach_answer(net, sources, destinations)
    classes = answer.classes
    if fmt == "json":
        data = {
            "from": src,
            "to": dst,
            "sources": sources,
            "destinations": len(destinations),
            "reachable": bool(classes),
            "classes": [c.to_json(with_trace=traces) for c in classes],
            "loops": [{"src_node": c.src_node, "space": str(c.space), "representative": c.representative,
                       "path": list(c.path)} for c in answer.loops],
        }
        emit(dumps_json(data), output, net.sources)
    else:
        emit(reach_text(classes, answer.loops), output, net.sources)
