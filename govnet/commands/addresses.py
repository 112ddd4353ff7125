"""``govnet addresses [PLAN]``: the address register (地址分配表) of a plan (:mod:`topology.register`).

Without options the register is printed; ``-o FILE`` writes it to a new file
(never over one the plan is read from) for the plan to include; ``--update``
writes it over the file that already holds the plan's ``allocations:``
section, and only that file. Exit status 2 on bad input.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from topology.errors import GovnetError
from topology.files import shown, write_atomic
from topology.loader import load_spec
from topology.register import SECTION, register_yaml
from topology.yaml_source import read_yaml_file

from ..output import emit
from .common import inputs_of, load, plan_argument, refuse_outputs


@click.command()
@plan_argument()
@click.option("-o", "--output", default=None, help="write the register to this new file (then include it in the plan)")
@click.option("--update", is_flag=True, help="write the register over the file that holds the plan's allocations:")
def addresses(plan: Path | None, output: str | None, update: bool) -> None:
    """Print or write the plan's address register, which keeps its automatic addresses from moving."""
    if update and output is not None:
        raise click.UsageError("give -o FILE or --update, not both")
    net = load(plan)
    inputs = inputs_of(net)
    text = register_yaml(net)
    if not update:
        refuse_outputs(inputs, output)
        emit(text, output, inputs)
        return
    _spec, marks, _root = load_spec(net.file)
    mark = marks.get((SECTION,))
    if mark is None:
        raise GovnetError(f"{shown(net.file)}: the plan has no {SECTION}: section to update; write the register "
                          f"with -o FILE and add the file to the plan's include: list")
    target = os.path.realpath(mark.file)
    held = read_yaml_file(Path(target)).data
    if not isinstance(held, dict) or set(held) - {SECTION}:
        raise GovnetError(f"{shown(mark.file)}: holds more than the {SECTION}: section; --update rewrites only a "
                              "file of its own (move the section into one and include it)")
    write_atomic(target, text.encode("utf-8"), [i for i in inputs if os.path.realpath(i) != target])
    click.echo(f"updated {shown(mark.file)}", err=True)

