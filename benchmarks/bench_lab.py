"""The lab on the whole Chuxiong plan (630 nodes): bring-up, packets checked per second, tear-down.

    python -m benchmarks.bench_lab [PLAN] [--select SEL] [--routing static|ospf]

Needs root, iproute2 and nftables (and FRR for ``--routing ospf``); not part
of the test command (the suite brings up one county, not 630 namespaces).
Prints the bring-up time per stage, the run's agreement table and rate, and
the tear-down time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from simulator.lab import down, report_text, run, up
from topology import default_plan_path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", nargs="?", default=str(default_plan_path()))
    parser.add_argument("--select", action="append", default=[])
    parser.add_argument("--routing", default="static", choices=["static", "ospf"])
    parser.add_argument("--kinds", default="flow,reach,evidence,pairs")
    args = parser.parse_args(argv)
    lab = "bench"
    folder = tempfile.mkdtemp(prefix="govnet-lab-bench-")
    try:
        t = time.perf_counter()
        state = up(args.plan, lab, folder, select=args.select, routing=args.routing)
        print(f"up: {time.perf_counter() - t:.2f} s for {len(state.namespaces)} namespaces, "
              f"{len(state.devices)} devices; stages {state.timings}")
        report = run(lab, folder, tuple(args.kinds.split(",")))
        print(report_text(report, limit=10), end="")
    finally:
        t = time.perf_counter()
        gone = down(lab, folder)
        print(f"down: {time.perf_counter() - t:.2f} s ({gone.namespaces} namespaces, {gone.processes} processes)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
