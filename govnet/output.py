"""Writing results: atomically (never half a file), deterministically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise click.UsageError(f"cannot write {target}: the folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the user's usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dumps_json(data: Any) -> str:
    """Stable JSON: sorted keys where order carries no meaning is the caller's job; UTF-8 kept readable."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def emit(text: str, output: str | None = None) -> None:
    """Print ``text`` or write it to ``output`` atomically."""
    if output:
        write_atomic(output, text.encode("utf-8"))
    else:
        click.echo(text, nl=False)
