"""Writing files atomically: a temporary file in the same folder, then a rename.

A reader never sees half a file, and a failure leaves the old file (or none)
in place. Used by every package that writes (pcaps, reports, drawings).

    >>> write_atomic("report.json", b"{}")          # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import GovnetError


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise GovnetError(f"cannot write {target}: the folder {directory} does not exist")
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
