"""``govnet import``: turn a Topology Zoo GraphML or SNDlib native file into a plan.

    $ govnet import Geant2009.graphml -o geant.yaml
    geant.yaml: 34 nodes, 52 links, 0 traffic entries (from Geant2009.graphml)
    $ govnet import abilene.txt -o abilene.yaml --name 骨干网
    abilene.yaml: 12 nodes, 15 links, 132 traffic entries (from abilene.txt)

The plan is written atomically (never half a file) and is the same bytes for
the same input. The input file is never overwritten. A file that cannot be
read or parsed exits 2 with ``FILE:LINE:COL: error: ...`` where the position
is known.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from topology.importers import dump_plan, import_file

from ..output import emit

MAX_NAME = 200


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the plan to this file (default: stdout)")
@click.option("--name", default=None, help="the plan's name (default: the network's own name)")
def import_(file: Path, output: Path | None, name: str | None) -> None:
    """Import a Topology Zoo .graphml or an SNDlib native .txt file as a plan."""
    if name is not None and not 0 < len(name.strip()) <= MAX_NAME:
        raise click.BadParameter(f"give a name of 1 to {MAX_NAME} characters", param_hint="--name")
    if output is not None and _same_file(file, output):
        raise click.BadParameter(f"{output} is the input file; write the plan to another file", param_hint="-o")
    plan = import_file(file, name.strip() if name else None)
    emit(dump_plan(plan), str(output) if output is not None else None)
    if output is not None:
        click.echo(f"{output}: {len(plan['nodes'])} nodes, {len(plan['links'])} links, "
                   f"{len(plan.get('traffic', []))} traffic entries (from {file})")


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (same path after resolving, or hard links to it)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
