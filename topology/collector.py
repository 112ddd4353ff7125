"""Pausing Python's cyclic garbage collector while a large model is built or walked.

Definition. :func:`no_gc` is a context manager: inside it the cyclic
collector does not run (it is switched back on afterwards if it was on).
Reference counting still frees every object dropped meanwhile; only objects
caught in reference cycles wait for the next collection after the block.

Why. A full collection scans every live object, and a national plan's model is
tens of millions of them: while a plan is expanded or a reachability query
walks it, the collector would run again and again over a heap that only grows
(the national plan loads in about two thirds of the time without it). The code
run inside makes few cycles, so pausing costs no memory worth counting.

    >>> import gc
    >>> with no_gc():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (see the module docstring)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
