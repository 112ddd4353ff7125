"""Capacity: N-1 over every link of the Yunnan plan, and the packet-level queue against ns.py.

    python -m benchmarks.bench_capacity                 (prints the figures and the ratios)
    python -m benchmarks.bench_capacity --full          (recompute every failure from scratch, no sampling)
    pytest benchmarks/bench_capacity.py --benchmark-enable

1. **N-1, incremental vs from scratch.** The incremental sweep
   (:func:`simulator.sweep.run_sweep`, every link, on this machine's cores)
   against recomputing each failure from scratch
   (:meth:`simulator.failures.FailureAnalysis.from_scratch`: the network
   without the link, a new routing state, every demand routed again). From
   scratch takes about a second or two per failure on Yunnan, so by default it
   runs on an evenly spaced sample of links and the total is extrapolated
   (printed as such); ``--full`` runs them all. The sampled answers are checked
   to be equal. Targets: incremental under 60 s, at least 10× faster.
2. **Queue simulation vs ns.py.** The same star of 50 Poisson senders
   (1000-byte packets, 90 % load together) into one 100 Mb/s drop-tail port:
   govnet's own loop, govnet's SimPy engine and ns.py (``pip install ns.py``,
   not a project dependency; skipped with a message when missing). Packets
   simulated per second of wall time, and the ratios. Target: govnet at least
   as fast as ns.py.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import pytest

from simulator.failures import Failure, FailureAnalysis
from simulator.queueing import Source, simulate_queue
from simulator.sweep import run_sweep
from topology import load_plan

from .common import YUNNAN

STAR_SENDERS = 50
STAR_CAPACITY = 100e6
STAR_LOAD = 0.9
STAR_PACKET = 1000
STAR_BUFFER = 100_000
STAR_SECONDS = 10.0


# -- N-1 ------------------------------------------------------------------------------------------

def incremental_n1(net, jobs: int | None = None) -> tuple[float, float, object, FailureAnalysis]:
    """(setup seconds, sweep seconds, result, analysis): the base analysis, then every link failure."""
    start = time.perf_counter()
    analysis = FailureAnalysis(net)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    result = run_sweep(net, "n-1", analysis=analysis, nodes=False, jobs=jobs, progress=False)
    return setup, time.perf_counter() - start, result, analysis


def from_scratch_n1(analysis: FailureAnalysis, links: list[str]) -> tuple[float, list]:
    """Seconds to recompute the given link failures from scratch, and their answers."""
    start = time.perf_counter()
    answers = [analysis.from_scratch(Failure(links=(l,))) for l in links]
    return time.perf_counter() - start, answers


def check_sample(analysis: FailureAnalysis, answers: list) -> int:
    """How many sampled from-scratch answers differ from the incremental ones (should be 0)."""
    bad = 0
    base = analysis.assignment.load
    for s in answers:
        r = analysis.case(s.failure)
        got, want = r.loads(base), s.loads(base)
        if set(got) != set(want) or any(abs(got[k] - want[k]) > 1e-6 * max(1.0, want[k]) for k in got) \
                or [i for i, _ in r.lost] != [i for i, _ in s.lost]:
            bad += 1
    return bad


# -- queue ------------------------------------------------------------------------------------------

def star_sources() -> list[Source]:
    rate = STAR_LOAD * STAR_CAPACITY / STAR_SENDERS
    return [Source(f"s{i}", "data", rate, STAR_PACKET) for i in range(STAR_SENDERS)]


def govnet_star(engine: str) -> tuple[float, int]:
    start = time.perf_counter()
    r = simulate_queue(star_sources(), STAR_CAPACITY, STAR_BUFFER, STAR_SECONDS, seed=1, engine=engine)
    return time.perf_counter() - start, r.packets


def nspy_star() -> tuple[float, int] | None:
    """The same star in ns.py: 50 DistPacketGenerators into a drop-tail Port into a PacketSink."""
    try:
        import simpy
        from ns.packet.dist_generator import DistPacketGenerator
        from ns.packet.sink import PacketSink
        from ns.port.port import Port
    except ImportError:
        return None
    start = time.perf_counter()
    env = simpy.Environment()
    port = Port(env, rate=STAR_CAPACITY, qlimit=STAR_BUFFER, limit_bytes=True)
    sink = PacketSink(env, rec_arrivals=False, rec_waits=True)
    port.out = sink
    rate = STAR_LOAD * STAR_CAPACITY / STAR_SENDERS
    generators = []
    for i in range(STAR_SENDERS):
        rng = random.Random(i)
        g = DistPacketGenerator(env, f"s{i}", lambda rng=rng: rng.expovariate(rate / (STAR_PACKET * 8)),
                                lambda: STAR_PACKET, flow_id=i)
        g.out = port
        generators.append(g)
    env.run(until=STAR_SECONDS)
    waits = np.concatenate([np.array(w) for w in sink.waits.values()]) if sink.waits else np.zeros(0)
    np.percentile(waits, [50, 99])  # the same statistics govnet reports
    return time.perf_counter() - start, sum(g.packets_sent for g in generators)


# -- pytest-benchmark -------------------------------------------------------------------------------

@pytest.mark.skipif(not YUNNAN.exists(), reason="scenarios/yunnan/plan.yaml is missing")
def test_n1_incremental_yunnan(benchmark):
    def run():
        return incremental_n1(load_plan(YUNNAN))
    _setup, _sweep, result, _ = benchmark.pedantic(run, rounds=1, iterations=1)
    assert len(result.failures) > 1000


def test_queue_fast_star(benchmark):
    benchmark(lambda: govnet_star("fast"))


def test_queue_simpy_star(benchmark):
    benchmark.pedantic(lambda: govnet_star("simpy"), rounds=1, iterations=1)


def test_queue_nspy_star(benchmark):
    pytest.importorskip("ns")
    benchmark.pedantic(nspy_star, rounds=1, iterations=1)


# -- figures ----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="recompute every link failure from scratch")
    parser.add_argument("--sample", type=int, default=40, help="links recomputed from scratch when not --full")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes of the sweep (default: all cores)")
    parser.add_argument("--skip-n1", action="store_true")
    args = parser.parse_args()
    if not args.skip_n1:
        if not YUNNAN.exists():
            print(f"N-1: skipped, {YUNNAN} is missing")
        else:
            net = load_plan(YUNNAN)
            setup, sweep, result, analysis = incremental_n1(net, args.jobs)
            links = list(net.links)
            print(f"yunnan: {len(net.nodes)} nodes, {len(links)} links, {len(analysis.demands)} peak demands")
            methods = ", ".join(f"{v} {k}" for k, v in result.methods.items())
            incremental = setup + sweep
            print(f"N-1 incremental over every link: {incremental:.2f} s (base loads and analysis {setup:.2f} s, "
                  f"sweep {sweep:.2f} s; {methods}) (target < 60 s)")
            sample = links if args.full else links[::max(1, len(links) // args.sample)]
            scratch, answers = from_scratch_n1(analysis, sample)
            total = scratch if args.full else scratch / len(sample) * len(links)
            how = "measured" if args.full else f"extrapolated from {len(sample)} of {len(links)} links, " \
                                               f"{scratch / len(sample):.2f} s each"
            bad = check_sample(analysis, answers)
            print(f"N-1 from scratch over every link: {total:.1f} s ({how}); {len(sample) - bad} of {len(sample)} "
                  f"answers identical to the incremental ones")
            print(f"ratio from scratch / incremental: {total / incremental:.1f}x (target >= 10x)")
    fast_t, fast_n = govnet_star("fast")
    simpy_t, simpy_n = govnet_star("simpy")
    print(f"queue, star of {STAR_SENDERS} senders into one {STAR_CAPACITY / 1e6:g} Mb/s port at "
          f"{STAR_LOAD:.0%}, {STAR_SECONDS:g} s simulated:")
    print(f"  govnet fast loop: {fast_n} packets in {fast_t:.2f} s = {fast_n / fast_t:,.0f} packets/s")
    print(f"  govnet SimPy:     {simpy_n} packets in {simpy_t:.2f} s = {simpy_n / simpy_t:,.0f} packets/s")
    ns = nspy_star()
    if ns is None:
        print("  ns.py: not installed (pip install ns.py); comparison skipped")
    else:
        ns_t, ns_n = ns
        print(f"  ns.py:            {ns_n} packets in {ns_t:.2f} s = {ns_n / ns_t:,.0f} packets/s")
        print(f"  ratio govnet fast / ns.py: {(fast_n / fast_t) / (ns_n / ns_t):.1f}x; "
              f"govnet SimPy / ns.py: {(simpy_n / simpy_t) / (ns_n / ns_t):.2f}x (target >= 1x)")


if __name__ == "__main__":
    main()
