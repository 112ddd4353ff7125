"""A re-check after a one-line edit, against a full check of the edited plan, in the same process.

    python -m benchmarks.bench_recheck                          (the Yunnan plan)
    python -m benchmarks.bench_recheck --plan scenarios/chuxiong

The plan's folder is copied to a temporary one. Each edit below is made to the copy, one at a time from the
original; for each, the edited plan is checked twice: in full (load and :func:`policies.engine.check_plan`,
the way ``govnet check`` does, imports already done) and as ``govnet check --watch`` does after the original
was checked (load and :meth:`policies.recheck.Rechecker.check`, the cyclic collector paused for the round and
run after it, while the planner edits; addresses shared from one version to the next,
:func:`topology.addressing.shared_addresses`). It prints both times, their ratio, what the
re-check kept, and whether the two JSON reports are identical (they must be).

The edits (for the Yunnan plan; another plan gets those of its lines that match):

- ``acl``: the first rule of the internet side's ACL opens another port (443 → 8443);
- ``acl-inside``: a rule of the extranet side's ACL (udp 53 → 54);
- ``bandwidth``: the internet link's bandwidth (1G → 2G; its cost follows the bandwidth, so the routing
  inputs change);
- ``bw-fixed``: the bandwidth of the first prefecture's backup uplink, whose cost the plan fixes (622M → 1G);
- ``node``: one more township in 石林县 (count 5 → 6: a router, a host and their links).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from policies.engine import check_plan
from policies.loader import policies_to_check
from policies.recheck import Rechecker, RecheckStats
from policies.report import render
from topology import load_plan
from topology.addressing import shared_addresses
from topology.collector import no_gc, settle

from .common import REPO

YUNNAN = REPO / "scenarios" / "yunnan"
EDITS = {  # name → (old text, new text), the first occurrence in plan.yaml
    "acl": ("dst: 云南省人民政府门户网站, dport: 443", "dst: 云南省人民政府门户网站, dport: 8443"),
    "acl-inside": ("proto: udp, src: 10.48.0.0/12, dport: 53", "proto: udp, src: 10.48.0.0/12, dport: 54"),
    "bandwidth": ("medium: internet, bandwidth: 1G", "medium: internet, bandwidth: 2G"),
    "bw-fixed": ("bandwidth: 622M, latency: 3ms, cost: 200", "bandwidth: 1G, latency: 3ms, cost: 200"),
    "node": ("石林县: {generate: {count: 5}}", "石林县: {generate: {count: 6}}"),
}


def full(plan: Path) -> tuple[float, str]:
    start = time.perf_counter()
    net = load_plan(plan)
    runs = check_plan(net, policies_to_check(net, ()))
    return time.perf_counter() - start, render(runs, "json")


def _once(plan: Path, original: str, edited: str) -> tuple[float, float, bool, RecheckStats]:
    """One edit: the edited plan checked in full; then, as the watch runs, the original checked and the edited
    plan re-checked."""
    plan.write_text(edited, encoding="utf-8")
    settle()
    full_s, expected = full(plan)
    with shared_addresses():
        plan.write_text(original, encoding="utf-8")
        checker = Rechecker()
        checker.check(load_plan(plan))
        plan.write_text(edited, encoding="utf-8")
        settle()  # as the watch does while the planner edits
        with no_gc():  # as the watch's round: its garbage is collected after the report, by the next settle()
            start = time.perf_counter()
            runs, stats = checker.check(load_plan(plan))
            again_s = time.perf_counter() - start
            same = render(runs, "json") == expected
    return full_s, again_s, same, stats


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=YUNNAN, help="a scenario folder (its plan.yaml is edited)")
    parser.add_argument("--repeat", type=int, default=3, help="times each edit is measured (the median is shown)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / args.plan.name
        shutil.copytree(args.plan, folder)
        plan = folder / "plan.yaml"
        original = plan.read_text(encoding="utf-8")
        full(plan)  # warm: imports and first-use caches, as in a process that already checked once
        print(f"{args.plan}: full check against re-check after one edit (seconds, load included; the median of "
              f"{args.repeat})")
        print(f"{'edit':<12} {'full':>7} {'re-check':>9} {'ratio':>7}  identical  what the last re-check did")
        failed = []
        for name, (old, new) in EDITS.items():
            if old not in original:
                continue
            times: list[tuple[float, float]] = []
            for _ in range(args.repeat):
                full_s, again_s, same, stats = _once(plan, original, original.replace(old, new, 1))
                times.append((full_s, again_s))
                if not same and name not in failed:
                    failed.append(name)
            full_s, again_s = (statistics.median(t[i] for t in times) for i in (0, 1))
            print(f"{name:<12} {full_s:7.2f} {again_s:9.2f} {full_s / again_s:6.1f}x  "
                  f"{'yes' if name not in failed else 'NO':<9}  {stats.text()}")
        plan.write_text(original, encoding="utf-8")
    if failed:
        raise SystemExit(f"the re-check differs from the full check after: {', '.join(failed)}")


if __name__ == "__main__":
    main()
