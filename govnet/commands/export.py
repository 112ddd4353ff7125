"""``govnet export``: the spreadsheets planners keep, from a plan (:mod:`topology.spreadsheets`).

    govnet export address-plan -o 地址规划表.xlsx        # IP地址规划表: one row per address
    govnet export devices plan.yaml -o 设备清单.xlsx     # 设备清单: nodes, links, sites and domains sheets
    govnet export devices --phase 一期 -o phase1.csv     # the nodes as built up to 一期, as CSV
    govnet export address-plan > addresses.csv           # without -o: CSV on stdout

The format is the suffix of ``-o`` (``.xlsx`` or ``.csv``; a CSV file starts
with a byte-order mark so that Excel reads its Chinese right, stdout has
none). A devices workbook has the sheets ``govnet import`` reads back; its
CSV is the nodes table alone. The same plan gives the same bytes (a
workbook's dates are ``SOURCE_DATE_EPOCH`` when set, else 2000-01-01). The
file is written atomically and never over one the plan is read from. Exit 2
on bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from topology import Network
from topology.files import shown
from topology.spreadsheets import Table, address_plan, csv_bytes, device_workbook, xlsx_bytes

from ..output import emit, write_atomic
from .common import inputs_of, load, plan_argument, refuse_outputs

SUFFIXES = (".xlsx", ".csv")


@click.group()
def export() -> None:
    """Write the plan's address plan (IP地址规划表) or device list (设备清单) as XLSX or CSV."""


def _options(command: Callable) -> Callable:
    command = click.option("--phase", default=None, metavar="P", help="the network as built up to this phase")(command)
    command = click.option("-o", "--output", default=None, type=click.Path(dir_okay=False, path_type=Path),
                           help="the file to write: .xlsx or .csv (default: CSV on stdout)")(command)
    return plan_argument()(command)


@export.command("address-plan")
@_options
def address_plan_(plan: Path | None, output: Path | None, phase: str | None) -> None:
    """The IP地址规划表: one row per address (loopbacks, LANs, interfaces) with its domain, site, node, prefix,
    link and phase."""
    _write(plan, output, phase, lambda net: [address_plan(net)])


@export.command("devices")
@_options
def devices_(plan: Path | None, output: Path | None, phase: str | None) -> None:
    """The 设备清单: one row per node (a workbook adds the links, sites and domains, for govnet import)."""
    _write(plan, output, phase, device_workbook)


def _write(plan: Path | None, output: Path | None, phase: str | None, tables: Callable[[Network], list[Table]]) -> None:
    suffix = output.suffix.lower() if output is not None else ".csv"
    if suffix not in SUFFIXES:
        raise click.BadParameter(f"{output} is neither .xlsx nor .csv; name the file to write with one of those "
                                 "suffixes", param_hint="-o")
    net = load(plan, phase)
    inputs = inputs_of(net)
    refuse_outputs(inputs, output)
    sheets = tables(net) if suffix == ".xlsx" else tables(net)[:1]  # a CSV holds one table: the first
    data = xlsx_bytes(sheets) if suffix == ".xlsx" else csv_bytes(sheets[0], bom=output is not None)
    if output is None:
        emit(data.decode("utf-8"))
        return
    write_atomic(output, data, inputs)
    counts = ", ".join(f"{sheet.name} {len(sheet.rows)} rows" for sheet in sheets)
    click.echo(f"{shown(output)}: {counts}", err=True)
