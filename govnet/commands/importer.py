"""``govnet import``: turn a Topology Zoo GraphML or SNDlib native file into a plan.

    $ govnet import Geant2009.graphml -o geant.yaml
    geant.yaml: 34 nodes, 52 links, 0 traffic entries (from Geant2009.graphml)
    $ govnet import abilene.txt -o abilene.yaml --name 骨干网
    abilene.yaml: 12 nodes, 15 links, 132 traffic entries (from abilene.txt)
    $ govnet import germany50.txt -o germany50.yaml --unit Mbit/s --size demand --headroom 0.3 --cost hop

What a file leaves open is decided by options, and every choice, given or
defaulted, is written to the plan's ``assumptions:``
(:mod:`topology.importers.options`): ``--unit`` for an SNDlib file without a
META unit (such a file is refused without it), ``--size`` for links with no
capacity (SNDlib default ``demand``: sized for the file's demands with
``--headroom``), ``--cost`` for the link cost model (``bandwidth``, the plan
format's default; ``hop``; ``file``, SNDlib's routing costs).

The plan is written atomically (never half a file) and is the same bytes for
the same input. The input file is never overwritten. A file that cannot be
read or parsed exits 2 with ``FILE:LINE:COL: error: ...`` where the position
is known.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from simulator.sizing import plan_loads
from topology.importers import ImportOptions, dump_plan, import_file
from topology.importers.options import COSTS, DEFAULT_HEADROOM, SIZES, UNITS

from ..output import emit

MAX_NAME = 200


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the plan to this file (default: stdout)")
@click.option("--name", default=None, help="the plan's name (default: the network's own name)")
@click.option("--unit", default=None, metavar="|".join(UNITS), callback=lambda _ctx, _param, value: _unit(value),
              help="unit of the capacities and demands of an SNDlib file without a META unit (required then)")
@click.option("--size", type=click.Choice(SIZES), default=None,
              help="links with no capacity: SNDlib's largest or smallest module, demand (the default for SNDlib: the "
                   "smallest module, or standard rate, carrying the link's peak load with --headroom), or none "
                   "(unsized: capacity rules refuse to judge)")
@click.option("--headroom", type=float, default=None,
              help=f"with --size demand: share of a sized link left free at peak (default {DEFAULT_HEADROOM:g}: at "
                   "most 70 % full)")
@click.option("--cost", type=click.Choice(COSTS), default=None,
              help="link cost model: bandwidth (100G ÷ bandwidth, the default), hop (1 per link; the default when "
                   "--size none leaves links unsized) or file (SNDlib routing costs)")
def import_(file: Path, output: Path | None, name: str | None, unit: str | None, size: str | None,
            headroom: float | None, cost: str | None) -> None:
    """Import a Topology Zoo .graphml or an SNDlib native .txt file as a plan."""
    if name is not None and not 0 < len(name.strip()) <= MAX_NAME:
        raise click.BadParameter(f"give a name of 1 to {MAX_NAME} characters", param_hint="--name")
    if output is not None and _same_file(file, output):
        raise click.BadParameter(f"{output} is the input file; write the plan to another file", param_hint="-o")
    options = ImportOptions(unit=unit, size=size, headroom=headroom, cost=cost, load_model=plan_loads)
    plan = import_file(file, name.strip() if name else None, options)
    emit(dump_plan(plan), str(output) if output is not None else None)
    if output is not None:
        click.echo(f"{output}: {len(plan['nodes'])} nodes, {len(plan['links'])} links, "
                   f"{len(plan.get('traffic', []))} traffic entries (from {file})")


def _unit(value: str | None) -> str | None:
    """``--unit`` as written in :data:`~topology.importers.options.UNITS` (``mbit/s`` is ``Mbit/s``)."""
    if value is None:
        return None
    for unit in UNITS:
        if unit.lower() == value.strip().lower():
            return unit
    raise click.BadParameter(f"{value!r} is not a unit; use one of {', '.join(UNITS)}", param_hint="--unit")


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (same path after resolving, or hard links to it)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
