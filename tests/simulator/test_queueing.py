"""The packet-level queue: hand cases, queueing theory, and the two engines agreeing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.load import assign
from simulator.queueing import (
    QueueError,
    Source,
    _fast,
    busiest_direction,
    link_sources,
    simulate_link,
    simulate_queue,
    source_arrivals,
)
from tests.helpers import write_plan
from topology import load_plan

from .capacity_plans import CHAIN_ECMP, STAR


def test_drop_tail_by_hand():
    # three 1000-byte packets at t=0 into a 2500-byte buffer at 8 kb/s (1 s per packet): the third is dropped;
    # a fourth at t=1.5 finds one packet in the port and waits until t=2
    delays, peak = _fast(np.array([0.0, 0.0, 0.0, 1.5]), np.array([1000, 1000, 1000, 1000]), 8000.0, 2500)
    assert delays[:2].tolist() == [1.0, 2.0]
    assert math.isnan(delays[2])
    assert delays[3] == pytest.approx(3.0 - 1.5)
    assert peak == 2000


def test_constant_rate_below_capacity_never_queues():
    r = simulate_queue([Source("phone", "voip", 64e3, 200)], capacity_bps=1e6, duration=2.0)
    assert r.dropped == 0 and r.loss == 0.0
    assert r.packets == pytest.approx(2.0 * 64e3 / 1600, abs=1)
    assert r.delay_max == pytest.approx(200 * 8 / 1e6)  # transmission only
    assert r.jitter == pytest.approx(0.0, abs=1e-12)


def test_overload_loses_the_excess():
    # twice the capacity at a constant rate: half the packets find the buffer full
    r = simulate_queue([Source("x", "voip", 2e6, 1000)], capacity_bps=1e6, buffer_bytes=10_000, duration=5.0)
    assert r.loss == pytest.approx(0.5, abs=0.01)
    assert r.max_queue_bytes <= 10_000


def test_poisson_queue_matches_pollaczek_khinchine():
    """M/D/1 at 60 %: mean time in the port = 1/μ + ρ / (2μ(1-ρ))."""
    capacity, size, rho = 10e6, 1000, 0.6
    r = simulate_queue([Source("p", "data", rho * capacity, size)], capacity, buffer_bytes=10**9, duration=60.0)
    service = size * 8 / capacity
    expected = service + rho * service / (2 * (1 - rho))
    assert r.dropped == 0
    assert r.delay_mean == pytest.approx(expected, rel=0.05)


def test_video_frames_arrive_in_bursts_the_fluid_view_hides():
    # 8 Mb/s of video on a 10 Mb/s link: 80 % on average, yet an I-frame of ~16 packets queues behind itself
    r = simulate_queue([Source("v", "video", 8e6, 1200)], 10e6, buffer_bytes=1_000_000, duration=4.0)
    one_packet = 1200 * 8 / 10e6
    assert r.delay_p99 > 10 * one_packet
    times, sizes = source_arrivals(Source("v", "video", 8e6, 1200), 0, 4.0, 1)
    assert sizes.sum() * 8 / 4.0 == pytest.approx(8e6, rel=0.03)  # the mean rate is kept
    assert len(np.unique(times)) == pytest.approx(4.0 * 25, abs=1)  # 25 frames a second


def test_both_engines_give_the_same_answer():
    sources = [Source(f"s{i}", ("video", "data", "voip", "email")[i % 4], 1.5e6 + 1e5 * i, (1200, 1400, 200, 1000)[i % 4])
               for i in range(12)]
    fast = simulate_queue(sources, 20e6, 30_000, 2.0, seed=7, engine="fast")
    slow = simulate_queue(sources, 20e6, 30_000, 2.0, seed=7, engine="simpy")
    assert fast.dropped > 0  # the buffer is small enough to drop some bursts
    for field in ("packets", "delivered", "dropped", "max_queue_bytes"):
        assert getattr(fast, field) == getattr(slow, field), field
    for field in ("delay_p50", "delay_p99", "delay_max", "delay_mean", "jitter"):
        assert getattr(fast, field) == pytest.approx(getattr(slow, field), rel=1e-9), field
    assert fast.by_kind.keys() == slow.by_kind.keys()


def test_same_seed_same_answer_and_bad_input():
    s = [Source("d", "data", 5e6, 1000)]
    assert simulate_queue(s, 10e6, seed=3, duration=1.0) == simulate_queue(s, 10e6, seed=3, duration=1.0)
    with pytest.raises(QueueError):
        simulate_queue(s, 10e6, engine="ns3")
    with pytest.raises(QueueError):
        simulate_queue(s, 0.0)


def test_a_link_of_a_plan_at_peak(tmp_path):
    a = assign(load_plan(write_plan(tmp_path, STAR)))
    assert busiest_direction(a, "srv--core") == ("srv--core", 1)
    sources = link_sources(a, ("srv--core", 1))
    assert sorted(s.rate for s in sources) == [2e6, 2e6]
    key, r = simulate_link(a, "srv--core", duration=2.0)
    assert key == ("srv--core", 1)
    assert r.offered_utilisation == pytest.approx(0.8)
    assert r.by_kind.keys() == {"document_exchange"}
    site_key, _ = simulate_link(a, "省", duration=0.5)  # a site: its busiest link
    assert site_key == ("srv--core", 1)
    with pytest.raises(QueueError):
        simulate_link(a, "nowhere")


def test_ecmp_share_becomes_the_source_rate(tmp_path):
    a = assign(load_plan(write_plan(tmp_path, CHAIN_ECMP)))
    sources = link_sources(a, ("r1--r2", 0))
    assert [s.rate for s in sources] == pytest.approx([4e6])


def test_cascade_video_is_one_paced_stream_per_site(tmp_path):
    from .capacity_plans import CASCADE

    a = assign(load_plan(write_plan(tmp_path, CASCADE.replace("links: [pm -- core,", "links: [{a: pm, b: core, bandwidth: 100M},"))))
    key = ("pm--core", 1)  # core -> pm: the prefecture MCU's 1.2 × 16M cascade, fed by fm's 1G link
    sources = [s for s in link_sources(a, key) if s.name.startswith("hd fm->pm")]
    assert len(sources) == 5 and sum(s.rate for s in sources) == pytest.approx(19.2e6)
    assert {s.pace_bps for s in sources} == {1e9}
    times, _ = source_arrivals(sources[0], 0, 1.0, 1)
    gaps = np.diff(times)
    assert gaps[gaps > 0].min() == pytest.approx(1200 * 8 / 1e9)  # back to back at 1G inside a frame
