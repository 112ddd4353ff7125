"""Failure sweeps: every failure case of a mode, run in parallel, merged into one answer.

Definition. A sweep evaluates :meth:`simulator.failures.FailureAnalysis.case`
for every failure of :func:`simulator.failures.failure_cases` and keeps, per
link direction, the **worst** load any failure causes and the failure that
causes it (ties go to the failure that comes first), per failure the demands
it loses and the link directions it drives above ``limit`` utilisation.
Because ties are broken by the case's position and never by completion
order, the answer is the same however the cases are split up and wherever
they run.

Where the cases run:

- ``scheduler=None`` (default): on this machine's cores, in forked worker
  processes that inherit the analysis of the intact network (no copy, no
  recomputation); serially in-process when there are few cases, one core,
  or ``GOVNET_JOBS=1`` (:func:`simulator.background.forking_helps`).
- ``scheduler="tcp://host:8786"``: on a Dask distributed cluster. The network
  is shipped once as a snapshot (plain picklable data); each worker process
  rebuilds the analysis once and caches it for every chunk it gets.

A progress bar (tqdm) is drawn on stderr when asked (``progress=True``) or,
by default, when stderr is a terminal.

Dask and tqdm are the optional extra ``govnet[sweep]``: they are imported only
when a scheduler or a progress bar is asked for. Without them a scheduler (or
an explicit ``progress=True``) is a :class:`SweepError` that says what to
install, and the default bar on a terminal is left out.

Example::

    >>> result = run_sweep(net, "n-1", progress=False)       # the Chuxiong plan
    >>> case = next(i for i, f in enumerate(result.failures) if f.label == "link 双柏县外网核心--楚雄州外网核心")
    >>> lost = result.lost[case]       # the county hangs on this one line: what it loses is cut off
    >>> len(lost) > 0, len(result.cut[case]) == len(lost), result.unprotected(case)
    (True, True, ())
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, fields, replace
from typing import Any

from topology.collector import no_gc
from topology.errors import GovnetError
from topology.model import Network, freeze

from .background import forking_helps
from .failures import Failure, FailureAnalysis, failure_cases
from .load import Direction

SERIAL_BELOW = 400  # fewer cases than this run in-process
CHUNKS_PER_WORKER = 8
MAX_CHUNK = 2000
CONNECT_TIMEOUT = float(os.environ.get("GOVNET_DASK_CONNECT_TIMEOUT", "10"))  # seconds to wait for a scheduler
EXTRA = "govnet[sweep]"  # the optional dependencies that bring Dask and tqdm


class SweepError(GovnetError):
    """A sweep could not run (e.g. the Dask scheduler cannot be reached)."""


@dataclass
class SweepResult:
    """The merged answer of a sweep (see the module docstring)."""

    failures: tuple[Failure, ...]
    limit: float
    worst: dict[Direction, tuple[float, int]] = field(default_factory=dict)  # load > intact load, case index
    lost: dict[int, tuple[tuple[int, float], ...]] = field(default_factory=dict)  # case -> (demand, share)
    cut: dict[int, tuple[int, ...]] = field(default_factory=dict)  # case -> lost demands left without a physical path
    orphaned: dict[int, int] = field(default_factory=dict)
    overloads: dict[int, tuple[tuple[Direction, float], ...]] = field(default_factory=dict)  # utilisation > limit
    methods: dict[str, int] = field(default_factory=dict)

    def unprotected(self, case: int) -> tuple[tuple[int, float], ...]:
        """Lost demands of ``case`` that still had a physical path: routing, not the topology, lost them."""
        cut = set(self.cut.get(case, ()))
        return tuple(x for x in self.lost.get(case, ()) if x[0] not in cut)

    def merge(self, part: SweepResult) -> None:
        for key, (load, case) in part.worst.items():
            mine = self.worst.get(key)
            if mine is None or load > mine[0] or (load == mine[0] and case < mine[1]):
                self.worst[key] = (load, case)
        self.lost.update(part.lost)
        self.cut.update(part.cut)
        self.orphaned.update(part.orphaned)
        self.overloads.update(part.overloads)
        counts = Counter(self.methods)
        counts.update(part.methods)
        self.methods = dict(sorted(counts.items()))

    def normalised(self) -> SweepResult:
        """The same result with every mapping in a fixed order (for comparison and output)."""
        return SweepResult(
            self.failures, self.limit, dict(sorted(self.worst.items())), dict(sorted(self.lost.items())),
            dict(sorted(self.cut.items())), dict(sorted(self.orphaned.items())), dict(sorted(self.overloads.items())),
            dict(sorted(self.methods.items())),
        )


def run_cases(analysis: FailureAnalysis, failures: Sequence[Failure], indices: Sequence[int],
              limit: float = 1.0) -> SweepResult:
    """Evaluate the failures at ``indices`` and reduce them to a (partial) :class:`SweepResult`."""
    base = analysis.assignment.load  # type: ignore[union-attr]
    links = analysis.net.links
    out = SweepResult((), limit)
    methods: Counter = Counter()
    for i in indices:
        r = analysis.case(failures[i])
        methods[r.method] += 1
        over = []
        for key, load in r.changed:
            if load > base.get(key, 0.0):
                mine = out.worst.get(key)
                if mine is None or load > mine[0]:
                    out.worst[key] = (load, i)
        if r.lost:
            out.lost[i] = r.lost
        if r.cut:
            out.cut[i] = r.cut
        if r.orphaned:
            out.orphaned[i] = len(r.orphaned)
        # directions the failure drives above the limit (those above it anyway are the capacity rule's)
        for key, load in r.changed:
            u = load / links[key[0]].bandwidth
            if u > limit and load > base.get(key, 0.0):
                over.append((key, u))
        if over:
            out.overloads[i] = tuple(sorted(over))
    out.methods = dict(methods)
    return out


# -- shipping a network -----------------------------------------------------------------------

def snapshot(net: Network) -> bytes:
    """``net`` as bytes (its read-only mappings turned into plain dicts); :func:`restore` inverts it."""
    data: dict[str, Any] = {}
    for f in fields(Network):
        if not f.init:  # derived state is rebuilt where the network lands
            continue
        value = getattr(net, f.name)
        if f.name == "nodes":
            value = {k: replace(n, interfaces=dict(n.interfaces)) for k, n in value.items()}
        elif hasattr(value, "items") and not isinstance(value, dict):
            value = dict(value)
        data[f.name] = value
    return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


def restore(blob: bytes) -> Network:
    data = pickle.loads(blob)
    for key, value in list(data.items()):
        if key == "nodes":
            value = {k: replace(n, interfaces=freeze(n.interfaces)) for k, n in value.items()}
        if isinstance(value, dict):
            data[key] = freeze(value)
    return Network(**data)


# -- running ------------------------------------------------------------------------------------

_ANALYSES: dict[str, tuple[FailureAnalysis, list[Failure]]] = {}
_LOCK = threading.Lock()


def _local_chunk(token: str, indices: list[int], limit: float) -> SweepResult:
    analysis, failures = _ANALYSES[token]
    return run_cases(analysis, failures, indices, limit)


def _dask_chunk(payload: bytes, token: str, indices: list[int], limit: float) -> SweepResult:
    """Runs on a Dask worker: rebuild (once per process) the analysis from the shipped payload."""
    with _LOCK:
        entry = _ANALYSES.get(token)
        if entry is None:
            blob, mode, pair_set, with_links, with_nodes, with_groups = pickle.loads(payload)
            net = restore(blob)
            entry = (FailureAnalysis(net), failure_cases(net, mode, pair_set, with_links, with_nodes, with_groups))
            _ANALYSES[token] = entry
    analysis, failures = entry
    return run_cases(analysis, failures, indices, limit)


def _chunks(n: int, workers: int, start: int = 0) -> list[list[int]]:
    """Case indices ``start`` to ``n - 1`` dealt round-robin into chunks (heavy cases cluster in plan order)."""
    count = max(1, min(n - start, max(workers * CHUNKS_PER_WORKER, -(-(n - start) // MAX_CHUNK))))
    return [list(range(start + k, n, count)) for k in range(count)]


def run_sweep(net: Network, mode: str = "n-1", pair_set: Sequence[str] | None = None, *,
              scheduler: str | None = None, jobs: int | None = None, limit: float = 1.0,
              analysis: FailureAnalysis | None = None, links: bool = True, nodes: bool = True,
              progress: bool | None = None, groups: bool = False, prefix: SweepResult | None = None) -> SweepResult:
    """Run every failure case of ``mode`` (see the module docstring) and merge the answers.

    ``links``, ``nodes`` and ``groups`` choose the single failures: every link, every node, every
    shared-risk group of the plan (:func:`simulator.failures.failure_cases`). ``prefix``, the result of a
    sweep of the same network whose cases are the first of these (the sweep without ``groups``: the groups
    come last), gives its answers for them, and only the cases after them are run: each case is answered on
    its own, so the merged result is the one of running them all.
    """
    with no_gc():  # every case builds a derived state of small objects and no cycles: collections would rescan them
        return _run_sweep(net, mode, pair_set, scheduler, jobs, limit, analysis, links, nodes, progress, groups,
                          prefix)


def _run_sweep(net: Network, mode: str, pair_set: Sequence[str] | None, scheduler: str | None, jobs: int | None,
               limit: float, analysis: FailureAnalysis | None, links: bool, nodes: bool, progress: bool | None,
               groups: bool, prefix: SweepResult | None) -> SweepResult:
    failures = failure_cases(net, mode, pair_set, links, nodes, groups)
    result = SweepResult(tuple(failures), limit)
    start = _answered(prefix, result)
    if start and prefix is not None:
        result.merge(prefix)
    if start == len(failures):
        return result.normalised()
    show = sys.stderr.isatty() if progress is None else progress
    bar = _progress(len(failures) - start, show, required=progress is True)
    try:
        if scheduler:
            parts = _run_dask(net, (mode, tuple(pair_set or ()), links, nodes, groups), scheduler, limit,
                              len(failures), bar, start)
        else:
            if analysis is None:
                analysis = FailureAnalysis(net)
            workers = jobs if jobs is not None else (os.cpu_count() or 1) if forking_helps() else 1
            if analysis.keeps_cases:  # what a worker answers would be lost to a later version
                workers = 1
            if (workers <= 1 or len(failures) - start < SERIAL_BELOW
                    or "fork" not in multiprocessing.get_all_start_methods()):
                parts = []
                for chunk in _chunks(len(failures), 1, start):
                    parts.append(run_cases(analysis, failures, chunk, limit))
                    bar(len(chunk))
            else:
                parts = _run_local(analysis, failures, workers, limit, bar, start)
    finally:
        bar(None)
    for part in parts:
        result.merge(part)
    return result.normalised()


def _answered(prefix: SweepResult | None, result: SweepResult) -> int:
    """How many of ``result``'s first cases ``prefix`` answered: all of its own when they begin ``result``'s
    failures under the same limit, else none."""
    if prefix is None or prefix.limit != result.limit or len(prefix.failures) > len(result.failures):
        return 0
    return len(prefix.failures) if result.failures[:len(prefix.failures)] == prefix.failures else 0


def _run_local(analysis: FailureAnalysis, failures: list[Failure], workers: int, limit: float,
               bar: Callable[[int | None], None], start: int = 0) -> list[SweepResult]:
    token = f"local-{id(analysis)}-{len(failures)}"
    _ANALYSES[token] = (analysis, failures)
    try:
        chunks = _chunks(len(failures), workers, start)
        parts: list[SweepResult] = []
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_local_chunk, token, chunk, limit): len(chunk) for chunk in chunks}
            for future in as_completed(futures):
                parts.append(future.result())
                bar(futures[future])
        return parts
    finally:
        _ANALYSES.pop(token, None)


def _run_dask(net: Network, cases: tuple, scheduler: str, limit: float, n: int,
              bar: Callable[[int | None], None], start: int = 0) -> list[SweepResult]:
    """``cases``: (mode, pair set, links, nodes, groups), the arguments of ``failure_cases`` after the network."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise missing_extra("a Dask scheduler (--scheduler)", exc) from None
    payload = pickle.dumps((snapshot(net), *cases), protocol=pickle.HIGHEST_PROTOCOL)
    token = hashlib.sha256(payload).hexdigest()[:16]
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        workers = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()))
        data = client.scatter(payload, broadcast=True)
        chunks = _chunks(n, workers, start)
        futures = [client.submit(_dask_chunk, data, token, chunk, limit, pure=False) for chunk in chunks]
        sizes = {f.key: len(c) for f, c in zip(futures, chunks)}
        parts = []
        for future in dask_completed(futures, loop=client.loop):
            parts.append(future.result())
            bar(sizes[future.key])
        return parts
    finally:
        client.close()


def missing_extra(feature: str, exc: ImportError) -> SweepError:
    """The error for ``feature`` asked for without the optional packages of :data:`EXTRA`."""
    return SweepError(f"{feature} needs the optional packages of {EXTRA} ({exc.name or exc} is not installed): "
                      f"pip install '{EXTRA}'")


def _progress(total: int, show: bool, required: bool = False) -> Callable[[int | None], None]:
    """A callback advancing a tqdm bar on stderr (``None`` closes it); a no-op when not shown.

    Without tqdm the bar is left out, unless it was ``required`` (asked for
    explicitly): then it is a :class:`SweepError`.
    """
    if not show:
        return lambda step: None
    try:
        from tqdm import tqdm
    except ImportError as exc:
        if required:
            raise missing_extra("a progress bar", exc) from None
        return lambda step: None

    bar = tqdm(total=total, unit="case", desc="failures", file=sys.stderr, leave=False)

    def advance(step: int | None) -> None:
        if step is None:
            bar.close()
        else:
            bar.update(step)

    return advance
