"""The console script: imports the command line only inside its guard, so that Ctrl-C while Python
is still loading it exits 130 with a line, not a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    """``govnet`` (see :mod:`govnet.cli` for the exit codes)."""
    try:
        from .cli import run

        code = run(sys.argv[1:])
    except KeyboardInterrupt:
        sys.stderr.write("govnet: interrupted; nothing was written\n")
        code = 130
    sys.exit(code)
