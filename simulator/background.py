"""Work done in a forked process while the caller goes on.

Definition. ``Background(fn, *args)`` starts ``fn(*args)`` in a child
process forked from this one, so the child sees everything the caller has
already built (networks, routing and forwarding state) without a copy and
without pickling it; only the answer travels back, pickled. ``result()``
waits for it and returns it, or raises what ``fn`` raised. Where a child
cannot help (no ``fork`` start method, a single core, or the environment
variable ``GOVNET_JOBS=1``), nothing starts and ``result()`` computes
``fn(*args)`` in this process: the answer is the same either way, so what
runs where never changes an output. What ``fn`` computes in the child stays
in the child: derived state it caches there is not seen by the caller.

Why by hand: :class:`concurrent.futures.ProcessPoolExecutor` does the process
work; what it does not do is call a function on objects it must not pickle
(a network of 100,000 nodes with its forwarding state). The call is parked
under a token before the pool forks its one worker, which finds it there.

    >>> job = Background(sum, [1, 2, 3])
    >>> job.result()
    6
    >>> Background(int, "x").result()
    Traceback (most recent call last):
    ...
    ValueError: invalid literal for int() with base 10: 'x'
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_PARKED: dict[int, tuple[Callable[..., Any], tuple[Any, ...]]] = {}
_TOKENS = itertools.count()


def _run_parked(token: int) -> Any:
    fn, args = _PARKED[token]
    return fn(*args)


def forking_helps() -> bool:
    """Whether a forked child can run beside this process: ``fork`` exists, there is more than one core,
    and ``GOVNET_JOBS`` does not say 1."""
    jobs = os.environ.get("GOVNET_JOBS", "")
    if jobs.strip() == "1":
        return False
    return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()


class Background(Generic[T]):
    """``fn(*args)`` computed in a forked child while the caller goes on (see the module docstring)."""

    def __init__(self, fn: Callable[..., T], *args: Any) -> None:
        self._fn, self._args = fn, args
        self._pool: ProcessPoolExecutor | None = None
        self._future: Future[T] | None = None
        if not forking_helps():
            return
        self._token = next(_TOKENS)
        _PARKED[self._token] = (fn, args)
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        self._future = self._pool.submit(_run_parked, self._token)

    def result(self) -> T:
        """The answer of ``fn(*args)``, waiting for the child if it runs in one."""
        if self._future is None:
            return self._fn(*self._args)
        try:
            return self._future.result()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child (if it still runs) and forget the call."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            _PARKED.pop(self._token, None)
