"""``govnet draw``: a picture of a plan (PNG, SVG or PDF, from the file suffix).

    govnet draw -o chuxiong.png                      # the default scenario
    govnet draw plan.yaml -o plan.svg --phase 一期    # as built after phase 一期
    govnet draw plan.yaml -o intranet.pdf --domain intra

Exit 2 with a message (and no file written) for an unknown suffix, domain or
phase.
"""

from __future__ import annotations

from pathlib import Path

import click

from topology.draw import draw_network, output_format

from ..output import write_atomic
from .common import load, plan_argument, refuse_outputs


@click.command()
@plan_argument()
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the picture to write: .png, .svg or .pdf")
@click.option("--domain", default=None, metavar="D", help="draw only the nodes and links of this domain")
@click.option("--phase", default=None, metavar="P", help="draw the network as built up to this phase")
def draw(plan: Path | None, output: Path, domain: str | None, phase: str | None) -> None:
    """Draw the plan: sites by administrative level, nodes by domain and role, links by medium."""
    fmt = output_format(output)
    net = load(plan, phase)
    refuse_outputs(net.sources, output)
    if domain is not None and domain not in net.domains:
        raise click.BadParameter(f"the plan has no domain '{domain}' (domains: {', '.join(net.domains)})",
                                 param_hint="--domain")
    write_atomic(output, draw_network(net, fmt, domain=domain), net.sources)
