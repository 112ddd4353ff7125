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


def settle() -> None:
    """Collect every cycle now and set what is left aside from later collections (:func:`gc.freeze`).

    For a long-lived process between two pieces of work (``govnet check --watch`` waiting for the next save):
    the full collection runs while nothing waits for it, and the next piece of work does not pay to scan
    the model it keeps. What is set aside is still freed by reference counting when dropped; a cycle among
    it waits for the next :func:`settle`, which takes everything back first.

    >>> settle(); gc.get_freeze_count() >= 0
    True
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
