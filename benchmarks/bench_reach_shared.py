"""Many sources in one reachability query: walking every flow anew against sharing where ways meet.

    python -m benchmarks.bench_reach_shared                    (the national sample: 中央 and three provinces)
    python -m benchmarks.bench_reach_shared --plan scenarios/yunnan

The query is the one the crossings ask that costs most: from every extranet node that can add a crossing
(:func:`policies.crossings.crossing_sources`: each province's core and firewall) to the internet, whose cloud
owns every address, so every source's packets are followed to every part of the network. It runs with
``share=False`` (the baseline: every flow walked anew) and with sharing (:class:`simulator.reach._Suffix`),
in the same process on the same forwarding state, and prints the time, the flows walked and the ratio;
the two answers must be identical.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from policies.crossings import crossing_sources
from simulator.forwarding import build_forwarding
from simulator.reach import ReachAnswer, reach_answer
from topology import load_plan
from topology.selectors import select_nodes

from .common import REPO

SAMPLE = REPO / "scenarios" / "national" / "sample.yaml"


def timed(net, sources: list[str], destinations: list[str], share: bool) -> tuple[float, ReachAnswer]:
    start = time.perf_counter()
    answer = reach_answer(net, sources, destinations, share=share)
    return time.perf_counter() - start, answer


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=SAMPLE)
    args = parser.parse_args(argv)
    net = load_plan(args.plan)
    fw = build_forwarding(net)
    extranet = select_nodes(net, "domain:kind:extranet")
    domain = net.nodes[extranet[0]].domain
    sources = crossing_sources(net, domain, fw)
    internet = select_nodes(net, "domain:kind:internet")
    reach_answer(net, sources[:1], internet[:1])  # warm the forwarding state both runs share
    alone_s, alone = timed(net, sources, internet, share=False)
    shared_s, shared = timed(net, sources, internet, share=True)
    same = [(c.src_node, c.dst_node, str(c.space), c.path) for c in alone.classes] == \
        [(c.src_node, c.dst_node, str(c.space), c.path) for c in shared.classes]
    print(f"{args.plan}: {len(net.nodes):,} nodes, {len(sources)} sources -> the internet, "
          f"{len(shared.classes)} classes, answers identical: {same}")
    print(f"every flow anew   {alone_s:7.2f} s  {alone.expanded:>9,} flows")
    print(f"shared            {shared_s:7.2f} s  {shared.expanded:>9,} flows")
    print(f"ratio             {alone_s / shared_s:7.2f} x  {alone.expanded / max(shared.expanded, 1):>9.2f} x")
    if not same:
        raise SystemExit("the shared answer differs from the baseline")


if __name__ == "__main__":
    main()
