"""The sign-off report of the Yunnan plan: written in under 20 s, under 15 MB.

    pytest benchmarks/bench_report.py --benchmark-enable     (pytest-benchmark)
    python -m benchmarks.bench_report                         (prints the figures, stage by stage)

What is timed is what ``govnet report scenarios/yunnan/plan.yaml`` does after
Python has started: load the plan, choose the policies, check every rule
(the crossings of ``EGOV-APR-1`` and the failure sweep shared with the
report), gather the sections, render the page and embed the font cut to its
characters. The stages are reported on their own, and the crossings alone
(every source ``policies.crossings.crossing_sources`` asks) next to what
asking every node of the extranet would cost, estimated from a sample.
"""

from __future__ import annotations

import os
import time

import pytest

from policies.crossings import crossing_sources, crossings
from policies.html import ReportOptions, render_html, report_data
from policies.loader import select_policies
from simulator.reach import reach
from topology import load_plan

from .common import YUNNAN

pytestmark = pytest.mark.skipif(not YUNNAN.exists(), reason="scenarios/yunnan/plan.yaml is missing")
SAMPLE = 5  # sources of the extranet asked one by one to estimate the cost of asking every node


def _report() -> tuple[str, dict]:
    net = load_plan(YUNNAN)
    data = report_data(net, select_policies(net), ReportOptions(lang="zh"))
    return render_html(data), data


def test_report_yunnan(benchmark):
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    html, _ = benchmark.pedantic(_report, rounds=1, iterations=1)
    assert len(html.encode("utf-8")) < 15e6


def main() -> None:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    start = time.perf_counter()
    net = load_plan(YUNNAN)
    selection = select_policies(net)
    loaded = time.perf_counter()
    data = report_data(net, selection, ReportOptions(lang="zh"))
    gathered = time.perf_counter()
    html = render_html(data)
    done = time.perf_counter()
    size = len(html.encode("utf-8"))
    print(f"yunnan: {len(net.nodes)} nodes, {len(net.links)} links")
    print(f"report: {done - start:.2f} s in all (target under 20 s): load {loaded - start:.2f} s, check and "
          f"sections {gathered - loaded:.2f} s, page and font {done - gathered:.2f} s; "
          f"{size / 1e6:.2f} MB (target under 15 MB)")

    fresh = load_plan(YUNNAN)
    extranet = [n for n, v in fresh.nodes.items() if v.domain == "政务外网"]
    internet = [n for n, v in fresh.nodes.items() if v.domain == "互联网"]
    begin = time.perf_counter()
    found = crossings(fresh)
    took = time.perf_counter() - begin
    asked = crossing_sources(fresh, "政务外网")
    print(f"crossings: {len(found)} in {took:.2f} s, asking {len(asked)} of {len(extranet)} extranet nodes")
    sample = [n for n in extranet if n not in asked][:SAMPLE]
    begin = time.perf_counter()
    for node in sample:
        reach(fresh, [node], internet)
    each = (time.perf_counter() - begin) / max(1, len(sample))
    print(f"asking every extranet node towards the internet instead: about {each * len(extranet):.0f} s "
          f"({each:.2f} s a node, from {len(sample)} nodes)")


if __name__ == "__main__":
    main()
