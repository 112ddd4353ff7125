"""Import networks described elsewhere as govnet plans.

Two public formats of real networks, and the spreadsheets planners keep, are read:

- Internet Topology Zoo GraphML (``*.graphml``): :mod:`.topologyzoo`;
- SNDlib native text (``?SNDlib native format`` header, ``NODES ( ... )``):
  :mod:`.sndlib`;
- spreadsheets of node and link sheets (``*.xlsx``, ``*.csv``): :mod:`.spreadsheet`.

:func:`import_file` picks the reader by the file's suffix and content and
returns the plan as plain data in the plan format (:mod:`topology.schema`);
what the file leaves open (the unit, how unsized links are sized, the link
cost model) is decided by :class:`~.options.ImportOptions` and written to the
plan's ``assumptions``;
:func:`dump_plan` turns it into YAML text, byte-identical for the same input.
A file that is neither format raises :class:`ImporterError`; a file of the
right format with errors raises :class:`~topology.errors.PlanError` whose
issues point at ``FILE:LINE:COL``.

    >>> graphml = b'''<?xml version="1.0" encoding="utf-8"?>
    ... <graphml xmlns="http://graphml.graphdrawing.org/xmlns">
    ...   <key attr.name="label" attr.type="string" for="node" id="d1"/>
    ...   <key attr.name="Latitude" attr.type="double" for="node" id="d2"/>
    ...   <key attr.name="Longitude" attr.type="double" for="node" id="d3"/>
    ...   <key attr.name="LinkSpeedRaw" attr.type="double" for="edge" id="d4"/>
    ...   <graph edgedefault="undirected">
    ...     <node id="0"><data key="d1">Kunming</data><data key="d2">25.04</data><data key="d3">102.71</data></node>
    ...     <node id="1"><data key="d1">Chuxiong</data><data key="d2">25.03</data><data key="d3">101.54</data></node>
    ...     <edge source="0" target="1"><data key="d4">10000000000.0</data></edge>
    ...   </graph>
    ... </graphml>'''
    >>> plan = import_bytes(graphml, "yunnan.graphml")      # import_file(path) reads a file the same way
    >>> dump_plan(plan).splitlines()[0]
    'name: yunnan'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .options import ImporterError, ImportOptions
from .plan_yaml import dump_plan
from .sndlib import import_sndlib
from .spreadsheet import import_spreadsheet, is_spreadsheet
from .topologyzoo import import_topologyzoo

MAX_IMPORT_BYTES = 64 * 1024 * 1024
FORMATS: dict[str, Callable[[bytes, str, str | None, ImportOptions | None], dict[str, Any]]] = {
    "topologyzoo": import_topologyzoo,
    "sndlib": import_sndlib,
    "spreadsheet": import_spreadsheet,
}
_SNDLIB_SECTION = re.compile(rb"(?m)^[ \t]*(NODES|LINKS|DEMANDS|META)[ \t]*\(")

__all__ = ["FORMATS", "ImportOptions", "ImporterError", "detect_format", "dump_plan", "import_bytes", "import_file"]


def import_file(path: str | Path, name: str | None = None, options: ImportOptions | None = None) -> dict[str, Any]:
    """The plan for the network in ``path`` (named ``name`` if given); raises ImporterError or PlanError."""
    return import_bytes(_read(Path(path)), str(path), name, options=options)


def import_bytes(data: bytes, file: str, name: str | None = None, fmt: str | None = None,
                 options: ImportOptions | None = None) -> dict[str, Any]:
    """The plan for ``data`` read from ``file`` (which names it in errors), of format ``fmt`` or detected."""
    reader = FORMATS[fmt or detect_format(data, file)]
    return reader(data, file, name, options)


def detect_format(data: bytes, file: str) -> str:
    """``'topologyzoo'``, ``'sndlib'`` or ``'spreadsheet'`` from the suffix of ``file`` and the content; raises
    ImporterError."""
    if is_spreadsheet(data, file):
        return "spreadsheet"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if Path(file).suffix.lower() == ".graphml" or b"<graphml" in head:
        return "topologyzoo"
    if head.startswith(b"<"):
        if b"sndlib" in head.lower():
            raise ImporterError(f"{file} is SNDlib XML; govnet imports SNDlib's native text format "
                                "(the .txt download), not its XML")
        raise ImporterError(f"{file} is XML but not GraphML; govnet imports Topology Zoo GraphML and SNDlib native text")
    if head.startswith(b"?SNDlib") or _SNDLIB_SECTION.search(data):
        return "sndlib"
    raise ImporterError(f"cannot tell the format of {file}; govnet imports Internet Topology Zoo GraphML (.graphml) "
                        "and SNDlib native text (starting '?SNDlib native format', with NODES ( ... )), and "
                        "spreadsheets of nodes and links (.xlsx, .csv)")


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImporterError(f"{path} does not exist") from None
    except OSError as exc:
        raise ImporterError(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise ImporterError(f"{path} is a folder; give a .graphml or SNDlib .txt file")
    if size > MAX_IMPORT_BYTES:
        raise ImporterError(f"{path} is {size // (1024 * 1024)} MiB; govnet imports files up to "
                            f"{MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImporterError(f"cannot read {path}: {exc.strerror or exc}") from None
