"""The N-1 failure sweep on a Dask cluster of 1, 2 and 4 workers, against this machine's own processes.

    python -m benchmarks.bench_dask                                   (the national sample: 中央 and three provinces)
    python -m benchmarks.bench_dask --plan scenarios/yunnan --workers 1,2

For each worker count a fresh ``distributed.LocalCluster`` (one process per worker, one thread each) is
started, the sweep is run on it (:func:`simulator.sweep.run_sweep` with ``scheduler``: the network is shipped
once as a snapshot, each worker rebuilds the analysis once and answers its chunks of failure cases), and the
benchmark prints the wall time, the ratio to one worker, the peak resident memory of each worker process
(``ru_maxrss``, asked of every worker after the sweep) and whether the answer is identical to the local run
(it must be). The local run (forked processes on this machine's cores) is the baseline printed first.

Work per worker shrinks as workers are added (each answers its share of the failure cases); memory per
worker does not: each holds the whole network and its analysis. Starting the cluster is not timed.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence
from pathlib import Path

from simulator.failures import FailureAnalysis
from simulator.sweep import run_sweep
from topology import load_plan

from .common import REPO

SAMPLE = REPO / "scenarios" / "national" / "sample.yaml"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> None:
    import distributed  # the sweep extra (govnet[sweep]), which the test extra pulls in

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=SAMPLE)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--mode", default="n-1")
    args = parser.parse_args(argv)
    net = load_plan(args.plan)
    start = time.perf_counter()
    local = run_sweep(net, args.mode, analysis=FailureAnalysis(net), progress=False)
    local_s = time.perf_counter() - start
    print(f"{args.plan}: {len(net.nodes):,} nodes, {len(local.failures):,} failure cases ({args.mode})")
    print(f"{'where':<22} {'wall s':>8} {'vs 1':>6}  peak memory per worker (MiB)  identical")
    print(f"{'this machine (forked)':<22} {local_s:8.2f} {'':>6}  {_peak_mib():.0f} (this process)")
    one = None
    failed = []
    for count in [int(w) for w in args.workers.split(",") if w.strip()]:
        with distributed.LocalCluster(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=40) as cluster, distributed.Client(cluster) as client:
            start = time.perf_counter()
            answer = run_sweep(net, args.mode, scheduler=cluster.scheduler_address, progress=False)
            seconds = time.perf_counter() - start
            peaks = sorted(client.run(_peak_mib).values())
        one = one or seconds
        same = answer == local
        if not same:
            failed.append(count)
        label = f"Dask, {count} worker(s)"
        print(f"{label:<22} {seconds:8.2f} {one / seconds:5.2f}x  {', '.join(f'{p:.0f}' for p in peaks):<28} "
              f"{'yes' if same else 'NO'}")
    if failed:
        raise SystemExit(f"the cluster's answer differs from the local one with {failed} worker(s)")


if __name__ == "__main__":
    main()
