"""``govnet check --watch``: check a plan, then again after every save of one of its files, until Ctrl-C.

Each round loads the plan and re-checks it with one
:class:`policies.recheck.Rechecker`, which judges again only what the edit
touches. The report goes where ``govnet check``'s goes (stdout or
``--output``), a line saying when, how long loading and checking took and
what the check kept goes to stderr, followed by ``watching N file(s)``. A plan that does not load or
a policy that does not fit is told as ``govnet check`` tells it (file, line,
column), nothing is written, and the files are watched on: the next save
tries again. The files watched are those the last good load read (the plan,
its includes, the policy files), the plan itself, and the files a plan error
names.

A round runs with the cyclic collector paused; the collection runs after the
report, while the planner edits (:func:`topology.collector.settle`). For as
long as it watches, one version's addresses are the objects of the last
(:func:`topology.addressing.shared_addresses`), so telling what changed
compares them by identity.

Files are polled (their modification time and size, every ``interval``
seconds) rather than watched through the operating system's notifications:
a plan is a few files, polling them costs nothing, and it works the same on
every file system, network shares and editors that replace a file on save
included.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from policies.engine import CheckRun
from policies.recheck import Rechecker, RecheckStats
from topology import Network
from topology.addressing import shared_addresses
from topology.collector import no_gc, settle
from topology.errors import GovnetError, PlanError

from .output import error_text, printable

Stamp = tuple[tuple[str, int, int], ...]


def stamp(files: Iterable[str]) -> Stamp:
    """Each file's modification time (ns) and size; -1 for one that is missing."""
    out = []
    for name in sorted(set(files)):
        try:
            st = os.stat(name)
            out.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((name, -1, -1))
    return tuple(out)


def watch(plan: Path, load: Callable[[], Network], inputs: Callable[[Network], tuple[str, ...]], checker: Rechecker,
          show: Callable[[list[CheckRun], RecheckStats], bool], interval: float = 0.25,
          rounds: int | None = None) -> bool:
    """Check, then re-check after every change, until interrupted (or after ``rounds`` checks): whether the last
    check that ran was blocking (``show`` says, after printing the report)."""
    with shared_addresses():  # each version's addresses are the last one's objects: compared by identity
        return _watch(plan, load, inputs, checker, show, interval, rounds)


def _watch(plan: Path, load: Callable[[], Network], inputs: Callable[[Network], tuple[str, ...]], checker: Rechecker,
           show: Callable[[list[CheckRun], RecheckStats], bool], interval: float, rounds: int | None) -> bool:
    files: tuple[str, ...] = (str(plan),)
    blocked = False
    done = 0
    try:
        while True:
            seen = stamp(files)
            try:
                with no_gc():  # the round's garbage is collected by settle() below, while the planner edits
                    began = time.perf_counter()
                    net = load()
                    loaded = time.perf_counter() - began
                    files = tuple(dict.fromkeys((str(plan), *inputs(net))))
                    seen = stamp(files)
                    runs, stats = checker.check(net)
                    blocked = show(runs, stats)
                    click.echo(f"{time.strftime('%H:%M:%S')} loaded in {loaded:.2f} s, {stats.text()}", err=True)
            except GovnetError as exc:
                if isinstance(exc, PlanError):  # a file the last good load did not read (a new include) too
                    files = tuple(dict.fromkeys((*files, *(i.mark.file for i in exc.issues if i.mark.file))))
                    seen = stamp(files)
                click.echo(printable(error_text(exc)), err=True)
                click.echo("govnet: nothing was written; fix the plan and save it again", err=True)
            done += 1
            if rounds is not None and done >= rounds:
                return blocked
            click.echo(f"watching {len(files)} file(s); Ctrl-C stops", err=True)
            settle()  # while the planner edits: the next round scans none of what this one keeps
            while stamp(files) == seen:
                time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("govnet: stopped watching", err=True)
    return blocked
