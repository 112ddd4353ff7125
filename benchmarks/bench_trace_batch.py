"""``govnet trace --batch`` on the Yunnan plan (or any other): many packets traced on a plan loaded once.

    python -m benchmarks.bench_trace_batch [N] [--plan PLAN]   (prints the figures; N packets, default 20,000)
    pytest benchmarks/bench_trace_batch.py --benchmark-enable

N random packets (fixed seed) between Yunnan nodes that have an address:
random sender and destination, tcp, udp or icmp, a destination port from a
few common services, as a CSV batch file. Measured, each on its own:

1. **reading** the batch file (:func:`simulator.packet_batch.read_packets`);
2. **checking** every row's sender and destination against the plan
   (:func:`simulator.packet_batch.check_packets`);
3. **tracing** (target >= 20,000 hop decisions/s): every packet's trace,
   exactly as ``govnet trace`` gives it for one (:func:`trace_packets`), on a
   forwarding state built once beforehand (the plan load and the state build
   are excluded and printed apart); hop decisions per second = every hop of
   every trace over the wall time of this phase;
4. **JSON lines**: rendering each row's result as the command writes it;
5. **as the command does it** (:func:`simulator.packet_batch.answer_batch`):
   traced and written, the batch split between the process and a forked
   child, on a freshly loaded plan (cold), compared byte for byte with 3-4.

The plan is loaded, and its forwarding state built, once; the tracing phase
starts cold (no next hop computed yet), as a ``govnet trace --batch`` run does.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import pytest

from simulator.forwarding import build_forwarding
from simulator.packet_batch import PacketRow, answer_batch, check_packets, read_packets, results, trace_packets
from topology import load_plan

from .common import YUNNAN

PACKETS = 20_000
SEED = 20260101
PORTS = (22, 53, 80, 123, 443, 3389, 8080)


def batch_csv(net, count: int = PACKETS, seed: int = SEED) -> bytes:
    """A CSV batch of ``count`` random packets between nodes of ``net`` that have an address."""
    fw = build_forwarding(net)
    rng = random.Random(seed)
    names = [n for n in net.nodes if fw.primary_address(n) is not None]
    lines = ["from,to,proto,sport,dport,icmp-type"]
    for _ in range(count):
        src, dst, proto = rng.choice(names), rng.choice(names), rng.choice(("tcp", "tcp", "udp", "icmp"))
        lines.append(f"{src},{dst},{proto},{rng.randrange(1024, 65536)},{rng.choice(PORTS)},{rng.choice((0, 8, 13))}")
    return ("\n".join(lines) + "\n").encode()


def trace_all(net, rows: list[PacketRow]) -> list:
    return list(trace_packets(net, rows))


def figures(count: int = PACKETS, plan: Path = YUNNAN) -> dict:
    if not plan.is_file():
        raise SystemExit(f"{plan} is not shipped; this benchmark needs it")
    out: dict = {"packets": count}
    start = time.perf_counter()
    net = load_plan(plan)
    out["load_s"] = time.perf_counter() - start
    start = time.perf_counter()
    build_forwarding(net)
    out["state_s"] = time.perf_counter() - start
    out.update(plan=net.name, nodes=len(net.nodes))
    data = batch_csv(net, count)
    start = time.perf_counter()
    rows = read_packets(data, "batch.csv")
    out["read_s"] = time.perf_counter() - start
    start = time.perf_counter()
    check_packets(net, rows)
    out["check_s"] = time.perf_counter() - start
    out["load_avg_before"] = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    trips = trace_all(net, rows)
    out["trace_s"], out["trace_cpu_s"] = time.perf_counter() - start, time.process_time() - cpu
    out["hops"] = sum(len(t.hops) for t in trips)
    out["delivered"] = sum(t.delivered for t in trips)
    start = time.perf_counter()
    text = results(rows, trips, "json")
    out["json_s"] = time.perf_counter() - start
    assert text.count("\n") == count
    # the same packets again: every next hop already computed
    start, cpu = time.perf_counter(), time.process_time()
    trace_all(net, rows)
    out["warm_s"], out["warm_cpu_s"] = time.perf_counter() - start, time.process_time() - cpu
    # as the command does it: traced and written, the batch split with a forked child, on a cold state
    fresh = load_plan(plan)
    build_forwarding(fresh)
    check_packets(fresh, rows)
    start = time.perf_counter()
    split_text, _ = answer_batch(fresh, rows, "json")
    out["split_s"] = time.perf_counter() - start
    assert split_text == text
    out["load_avg_after"] = os.getloadavg()[0]
    return out


def main(argv: list[str]) -> None:
    plan = YUNNAN
    if "--plan" in argv:
        at = argv.index("--plan")
        plan = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    count = int(argv[0]) if argv else PACKETS
    f = figures(count, plan)
    hops = f["hops"]
    print(f"plan: {f['plan']} ({f['nodes']} nodes); {f['packets']:,} random packets, {hops:,} hops, "
          f"{f['delivered']:,} delivered")
    print(f"load {f['load_s']:.2f} s + forwarding state {f['state_s']:.2f} s (once per run, excluded below)")
    print(f"read the batch: {f['read_s']:.2f} s   check every row: {f['check_s']:.2f} s")
    print(f"tracing: {f['trace_s']:.2f} s wall   {hops / f['trace_s']:>10,.0f} hop decisions/s   "
          f"{f['packets'] / f['trace_s']:>8,.0f} traces/s   (target >= 20,000 hop decisions/s)")
    print(f"  per CPU second ({f['trace_cpu_s']:.2f} s CPU): {hops / f['trace_cpu_s']:>10,.0f} hop decisions/s   "
          f"{f['packets'] / f['trace_cpu_s']:>8,.0f} traces/s")
    print(f"  + JSON lines: {f['json_s']:.2f} s   {hops / (f['trace_s'] + f['json_s']):>10,.0f} hop decisions/s "
          "traced and written")
    print(f"  the same packets again (warm): {hops / f['warm_s']:>10,.0f} hop decisions/s wall, "
          f"{hops / f['warm_cpu_s']:>10,.0f} per CPU second")
    print(f"  as the command does it (split with a forked child, cold, traced and written): {f['split_s']:.2f} s "
          f"{hops / f['split_s']:>10,.0f} hop decisions/s")
    print(f"load average (1 min) before / after tracing: {f['load_avg_before']:.1f} / {f['load_avg_after']:.1f} "
          f"on {os.cpu_count()} cores (wall figures need a quiet machine)")


# -- pytest-benchmark -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loaded():
    if not YUNNAN.is_file():
        pytest.skip(f"{YUNNAN} is not shipped")
    net = load_plan(YUNNAN)
    rows = read_packets(batch_csv(net, 2000), "batch.csv")
    check_packets(net, rows)
    return net, rows


def test_trace_batch(benchmark, loaded):
    net, rows = loaded
    trips = benchmark.pedantic(trace_all, args=(net, rows), rounds=3, iterations=1)
    hops = sum(len(t.hops) for t in trips)
    benchmark.extra_info["hops"] = hops
    benchmark.extra_info["hops_per_s"] = hops / benchmark.stats.stats.min
    benchmark.extra_info["traces_per_s"] = len(rows) / benchmark.stats.stats.min


if __name__ == "__main__":
    main(sys.argv[1:])
