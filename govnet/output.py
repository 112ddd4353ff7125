"""Writing results: atomically (never half a file), deterministically."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from topology.errors import GovnetError, PlanError
from topology.files import write_atomic

__all__ = ["dumps_json", "emit", "error_text", "printable", "write_atomic"]


def dumps_json(data: Any) -> str:
    """Stable JSON: sorted keys where order carries no meaning is the caller's job; UTF-8 kept readable."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def emit(text: str, output: str | Path | None = None, inputs: Iterable[str] = ()) -> None:
    """Print ``text`` (control characters shown as escapes) or write it to ``output`` atomically, never over
    one of ``inputs``."""
    if output:
        write_atomic(output, text.encode("utf-8"), inputs)
    else:
        click.echo(printable(text), nl=False)


def error_text(exc: GovnetError) -> str:
    """How an input error is told: every issue of a plan at its file, line and column, else ``govnet: error: ...``."""
    if isinstance(exc, PlanError):
        return "\n".join(issue.render() for issue in exc.issues)
    return f"govnet: error: {exc}"


def printable(text: str) -> str:
    """``text`` with every control character but tab and line feed written as ``\\uXXXX``."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
