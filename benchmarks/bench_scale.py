"""How every step grows with the plan: Yunnan, the national plan with 4, 8 and 31 provinces.

    python -m benchmarks.bench_scale                             (every size, every step; prints the table)
    python -m benchmarks.bench_scale --sizes sample,yunnan,4,8 --timeout 600
    python -m benchmarks.bench_scale --sizes 31 --steps validate,show
    pytest benchmarks/bench_scale.py --benchmark-enable -n 0      (the two small plans only)

The plans (:func:`plan_for`):

- ``yunnan``: ``scenarios/yunnan/plan.yaml`` (7,099 nodes), the province at scale;
- ``sample``: ``scenarios/national/sample.yaml``, the national plan with 中央 and three provinces (about 6,500);
- ``N`` (an integer, 1 to 31): the national plan ``scenarios/national/plan.yaml`` with 中央 and its first N
  provinces, in the order of ``scenarios/national/parts/provinces.yaml``: its ``parts/network.yaml``
  unchanged and a site tree holding those N provinces as written there, in a temporary folder; 4 gives
  about 30,000 nodes, 8 about 65,000; 31 is the national plan itself, loaded from the scenario folder.

Each step (:data:`STEPS`) runs as its own ``govnet`` process, started by a fresh Python process that waits for
it and reads ``resource.getrusage(RUSAGE_CHILDREN)``: wall time, CPU time (user + system) and the peak
resident memory of the largest process of the step (a sweep's worker processes are waited for, so a worker
larger than its parent is the figure). A step that does not finish within ``--timeout`` seconds is killed
(its whole process group) and shows as ``> N s (timed out)``. Exit status 1 (a rule failed) is a finished
step and shown as ``exit 1``; any other nonzero status is shown as an error with the last line of stderr.

The fitted exponent of a step is the slope of log(time) against log(nodes): between each two consecutive
sizes (two sizes within 20 % of each other, as Yunnan and the sample, give no pair), and the least-squares slope
over all sizes where the step finished; on wall time and on CPU time
(the machine is shared: CPU time is less disturbed by other users' load, which :func:`main` prints).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from policies.loader import pack_names

from .common import REPO, YUNNAN

NATIONAL = REPO / "scenarios" / "national"
NATIONAL_PLAN = NATIONAL / "plan.yaml"
SAMPLE = NATIONAL / "sample.yaml"
PROVINCES = NATIONAL / "parts" / "provinces.yaml"
DEFAULT_SIZES = ("yunnan", "4", "8", "31")
DEFAULT_TIMEOUT = 600.0

# Runs one command as its own process group, waits for it (killing the group at the timeout) and prints what
# getrusage says of it: a fresh interpreter per step, so RUSAGE_CHILDREN holds that step alone.
MEASURE = r"""
import json, os, resource, signal, subprocess, sys, time
cmd, timeout, out, err = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
start = time.perf_counter()
with open(out, "wb") as o, open(err, "wb") as e:
    p = subprocess.Popen(cmd, stdout=o, stderr=e, start_new_session=True)
    try:
        code, timed_out = p.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        code, timed_out = p.wait(), True
wall = time.perf_counter() - start
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "timed_out": timed_out, "wall": wall, "cpu": u.ru_utime + u.ru_stime,
                  "rss_kib": u.ru_maxrss}))
"""


@dataclass(frozen=True)
class Measure:
    """One step on one plan: wall and CPU seconds, peak RSS (KiB) of its largest process, how it ended."""

    wall: float
    cpu: float
    rss_kib: int
    code: int
    timed_out: bool
    last_error: str = ""

    @property
    def finished(self) -> bool:
        """Whether the step ran to its end: exit 0, or exit 1 (a rule failed, still a full answer)."""
        return not self.timed_out and self.code in (0, 1)


def govnet_command() -> list[str]:
    """The ``govnet`` of this interpreter's environment (its script beside python, else ``python -m``)."""
    cli = Path(sys.executable).with_name("govnet")
    return [str(cli)] if cli.exists() else [sys.executable, "-m", "govnet.cli"]


def steps(out_dir: Path) -> dict[str, list[str]]:
    """The steps by name: the arguments after ``govnet`` and before the plan, then after it.

    ``check`` names every built-in pack (``--policy`` each), ``capacity`` sweeps every single link and node
    (N-1), ``reach`` asks every class from the internet into the extranet (by domain kind, so the same
    selectors fit every plan), ``report`` writes the HTML sign-off report into ``out_dir``.

    >>> sorted(steps(Path("/tmp")))
    ['capacity', 'check', 'reach', 'report', 'show', 'validate']
    >>> steps(Path("/tmp"))["reach"]
    ['reach', '{plan}', '--from', 'domain:kind:internet', '--to', 'domain:kind:extranet']
    """
    packs = [arg for name in pack_names() for arg in ("--policy", name)]
    return {
        "validate": ["validate", "{plan}"],
        "show": ["show", "{plan}"],
        "check": ["check", "{plan}", *packs],
        "capacity": ["capacity", "{plan}", "--failures", "n-1"],
        "reach": ["reach", "{plan}", "--from", "domain:kind:internet", "--to", "domain:kind:extranet"],
        "report": ["report", "{plan}", "-o", str(out_dir / "report.html")],
    }


STEPS = tuple(steps(Path(".")))


def measure(command: Sequence[str], timeout: float, out: Path, err: Path) -> Measure:
    """Run ``command`` in a fresh measuring process; its stdout and stderr go to ``out`` and ``err``."""
    done = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(list(command)), str(timeout), str(out), str(err)],
                          capture_output=True, text=True, check=True)
    m = json.loads(done.stdout)
    last = ""
    if not m["timed_out"] and m["code"] not in (0, 1):
        lines = err.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        last = lines[-1] if lines else f"exit {m['code']}"
    return Measure(m["wall"], m["cpu"], int(m["rss_kib"]), int(m["code"]), bool(m["timed_out"]), last)


def province_subset(count: int, source: Path = PROVINCES) -> dict:
    """The site tree of ``source`` with 中央 and its first ``count`` provinces, as written there.

    >>> tree = province_subset(2)
    >>> [(name, site["level"], list(site["children"])) for name, site in tree["sites"].items()]
    [('中央', 'central', ['北京市', '天津市'])]
    """
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    (centre, site), = data["sites"].items()
    provinces = list(site["children"].items())
    if not 1 <= count <= len(provinces):
        raise ValueError(f"{count} provinces asked, the plan has 1 to {len(provinces)}")
    return {"sites": {centre: {**site, "children": dict(provinces[:count])}}}


def plan_for(size: str, folder: Path) -> Path:
    """The plan file of a size: ``yunnan``, ``sample``, or N provinces of the national plan (made in ``folder``)."""
    if size == "yunnan":
        return YUNNAN
    if size == "sample":
        return SAMPLE
    count = int(size)
    if count == len(yaml.safe_load(PROVINCES.read_text(encoding="utf-8"))["sites"]["中央"]["children"]):
        return NATIONAL_PLAN
    root = folder / f"national-{count}"
    (root / "parts").mkdir(parents=True, exist_ok=True)
    shutil.copy(NATIONAL / "parts" / "network.yaml", root / "parts" / "network.yaml")
    (root / "parts" / "provinces.yaml").write_text(
        yaml.safe_dump(province_subset(count), allow_unicode=True, sort_keys=False), encoding="utf-8")
    text = NATIONAL_PLAN.read_text(encoding="utf-8")
    text = re.sub(r"^name: .*$", f'name: "国家电子政务外网 (中央和前{count}个省级行政区)"', text, count=1, flags=re.M)
    (root / "plan.yaml").write_text(text, encoding="utf-8")
    return root / "plan.yaml"


def nodes_of(validate_out: Path) -> int | None:
    """The node count ``govnet validate`` printed (``PLAN: ok (N nodes, ...)``), None when it printed none."""
    m = re.search(r": ok \((\d+) nodes", validate_out.read_text(encoding="utf-8", errors="replace"))
    return int(m[1]) if m else None


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) against log(x) over ``points`` (x, y); None for fewer than two x.

    >>> round(slope([(1_000, 2.0), (10_000, 20.0), (100_000, 200.0)]), 6)
    1.0
    >>> round(slope([(10, 1.0), (20, 4.0)]), 6)
    2.0
    >>> slope([(10, 1.0)]) is None
    True
    """
    logs = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len({x for x, _ in logs}) < 2:
        return None
    mx = sum(x for x, _ in logs) / len(logs)
    my = sum(y for _, y in logs) / len(logs)
    return sum((x - mx) * (y - my) for x, y in logs) / sum((x - mx) ** 2 for x, _ in logs)


def cell(m: Measure | None, timeout: float) -> str:
    """A table cell: ``wall s (cpu s), RSS MiB``, or how the step ended without an answer.

    >>> cell(Measure(12.34, 11.0, 2 * 1024 * 1024, 0, False), 600)
    '12.3 s (cpu 11.0), 2048 MiB'
    >>> cell(Measure(600.2, 590.0, 1024, -9, True), 600)
    '> 600 s (timed out)'
    """
    if m is None:
        return "-"
    if m.timed_out:
        return f"> {timeout:g} s (timed out)"
    if not m.finished:
        return f"error (exit {m.code}: {m.last_error[:60]})"
    text = f"{m.wall:.1f} s (cpu {m.cpu:.1f}), {m.rss_kib / 1024:.0f} MiB"
    return text + (" exit 1" if m.code == 1 else "")


def fit_lines(results: dict[str, dict[str, Measure]], nodes: dict[str, int]) -> list[str]:
    """Per step: the exponent between consecutive sizes and over all, on wall and on CPU time."""
    order = sorted(nodes, key=nodes.__getitem__)
    lines = []
    for step in STEPS:
        for what in ("wall", "cpu"):
            pts = [(nodes[s], getattr(results[s][step], what)) for s in order
                   if step in results[s] and results[s][step].finished]
            pairs = []
            for (n1, t1), (n2, t2) in itertools.pairwise(pts):
                if n2 < 1.2 * n1:  # two plans of about one size (yunnan, sample): their ratio says nothing of growth
                    continue
                k = slope([(n1, t1), (n2, t2)])
                pairs.append(f"{n1 // 1000}k→{n2 // 1000}k {k:.2f}" if k is not None else f"{n1}→{n2} -")
            overall = slope(pts)
            lines.append(f"  {step:<9} {what:<4} overall {overall:.2f}  ({'; '.join(pairs)})" if overall is not None
                         else f"  {step:<9} {what:<4} overall -  (fewer than two sizes finished)")
    return lines


def run(sizes: Sequence[str], step_names: Sequence[str], timeout: float, keep: Path | None = None,
        echo: bool = True) -> tuple[dict[str, dict[str, Measure]], dict[str, int]]:
    """Every step of ``step_names`` on every size; ``validate`` runs first (it gives the node count)."""
    folder = Path(tempfile.mkdtemp(prefix="govnet-scale-")) if keep is None else keep
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Measure]] = {}
    nodes: dict[str, int] = {}
    names = ["validate", *[s for s in step_names if s != "validate"]]
    try:
        for size in sizes:
            plan = plan_for(size, folder)
            results[size] = {}
            for step in names:
                work = folder / f"{size}-{step}"
                work.mkdir(exist_ok=True)
                args = [str(plan) if a == "{plan}" else a for a in steps(work)[step]]
                m = measure([*govnet_command(), *args], timeout, work / "stdout", work / "stderr")
                if step == "validate":
                    counted = nodes_of(work / "stdout")
                    if counted is not None:
                        nodes[size] = counted
                if step in step_names:
                    results[size][step] = m
                if echo:
                    print(f"  {size:>6} {step:<9} {cell(m, timeout)}", flush=True)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return results, nodes


def table(results: dict[str, dict[str, Measure]], nodes: dict[str, int], timeout: float) -> list[str]:
    """The table: one row per step, one column per size (by node count)."""
    order = sorted(results, key=lambda s: nodes.get(s, 0))
    head = ["step", *[f"{s} ({nodes[s]:,} nodes)" if s in nodes else s for s in order]]
    rows = [head, ["---"] * len(head)]
    for step in STEPS:
        if any(step in results[s] for s in order):
            rows.append([step, *[cell(results[s].get(step), timeout) for s in order]])
    return ["| " + " | ".join(r) + " |" for r in rows]


# -- pytest-benchmark -------------------------------------------------------------------------------

def test_scale_small_plans(benchmark, request):
    """validate and check on the two plans of about 7,000 nodes, each in its own process."""
    if not request.config.getoption("benchmark_enable", False):
        pytest.skip("the scaling benchmark runs only with --benchmark-enable")
    if not (YUNNAN.exists() and SAMPLE.exists()):
        pytest.skip("scenarios/yunnan/plan.yaml or scenarios/national/sample.yaml is missing")
    results, nodes = benchmark.pedantic(run, args=(("yunnan", "sample"), ("validate", "check"), DEFAULT_TIMEOUT),
                                        kwargs={"echo": False}, rounds=1, iterations=1)
    assert set(nodes) == {"yunnan", "sample"} and all(n > 5000 for n in nodes.values())
    assert all(m.finished for r in results.values() for m in r.values())
    for size, per_step in results.items():
        for step, m in per_step.items():
            benchmark.extra_info[f"{size} {step} wall s"] = round(m.wall, 2)
            benchmark.extra_info[f"{size} {step} rss MiB"] = round(m.rss_kib / 1024)


# -- figures ----------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(DEFAULT_SIZES),
                        help="comma-separated: yunnan, sample, or a number of national provinces (1-31)")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, of {', '.join(STEPS)}")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per step (default 600)")
    parser.add_argument("--keep", type=Path, default=None, help="build the plans and keep every output in this folder")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    chosen = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(STEPS))
    if unknown:
        parser.error(f"unknown steps: {', '.join(unknown)}")
    load = os.getloadavg()
    print(f"govnet scale benchmark: sizes {', '.join(sizes)}; steps {', '.join(chosen)}; timeout {args.timeout:g} s; "
          f"{os.cpu_count()} cores; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    start = time.perf_counter()
    results, nodes = run(sizes, chosen, args.timeout, args.keep)
    load = os.getloadavg()
    print(f"\ndone in {time.perf_counter() - start:.0f} s; load average now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("wall s (cpu s = user + system), peak RSS of the step's largest process:\n")
    print("\n".join(table(results, nodes, args.timeout)))
    print("\nfitted exponent of time against nodes (consecutive sizes; least squares over all finished):")
    print("\n".join(fit_lines(results, nodes)))


if __name__ == "__main__":
    main()
