"""Writing results: atomically (never half a file), deterministically."""

from __future__ import annotations

import json
from typing import Any

import click

from topology.files import write_atomic

__all__ = ["write_atomic", "dumps_json", "emit"]


def dumps_json(data: Any) -> str:
    """Stable JSON: sorted keys where order carries no meaning is the caller's job; UTF-8 kept readable."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def emit(text: str, output: str | None = None) -> None:
    """Print ``text`` or write it to ``output`` atomically."""
    if output:
        write_atomic(output, text.encode("utf-8"))
    else:
        click.echo(text, nl=False)
