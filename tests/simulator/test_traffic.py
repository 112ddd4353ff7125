"""Demands from a plan: its flows and the video cascade along ``mcu_parent`` (1.2 × the sites below)."""

from __future__ import annotations

import pytest

from simulator.traffic import (
    CASCADE_FACTOR,
    DEFAULT_VIDEO_RATE,
    TrafficError,
    demands,
    subtree_rates,
)
from tests.helpers import write_plan
from topology import load_plan

from .capacity_plans import CASCADE, HEAD

M = 1e6


def by_pair(ds):
    return {(d.src, d.dst): d for d in ds}


def test_cascade_rates_by_hand(tmp_path):
    net = load_plan(write_plan(tmp_path, CASCADE))
    ds = by_pair(demands(net))
    # county A: two terminals at 4M; county B: its own room at the plan's video rate (4M)
    assert ds[("ca", "fm")].rate == pytest.approx(1.2 * 8 * M)
    assert ds[("fm", "ca")].rate == pytest.approx(1.2 * 8 * M)
    assert ds[("cb", "fm")].rate == pytest.approx(1.2 * 4 * M)
    # the prefecture MCU: its own room plus everything below it
    assert ds[("fm", "pm")].rate == pytest.approx(1.2 * (4 + 8 + 4) * M)
    assert ds[("pm", "fm")].origin == "cascade"
    # the terminals' own flows stay as the plan says
    assert ds[("t1", "ca")].rate == pytest.approx(4 * M) and ds[("t1", "ca")].origin == "plan"
    assert subtree_rates(net)["pm"] == pytest.approx((4 + 4 + 8 + 4) * M)
    assert len(ds) == 2 + 2 * 3


def test_default_video_rate_is_720p(tmp_path):
    plan = (HEAD.format(name="v") + "nodes:\n  a: {role: mcu}\n  b: {role: mcu, mcu_parent: a}\n  r: {role: router}\n"
            "links: [a -- r, b -- r]\n")
    net = load_plan(write_plan(tmp_path, plan))
    ds = by_pair(demands(net))
    assert DEFAULT_VIDEO_RATE == 2 * M
    assert ds[("b", "a")].rate == pytest.approx(CASCADE_FACTOR * DEFAULT_VIDEO_RATE)
    assert ds[("b", "a")].packet_size == 1200


@pytest.mark.parametrize("planned, expected", [("20M", 20 * M), ("1M", 1.2 * 4 * M)])
def test_a_planned_cascade_flow_keeps_the_larger_rate(tmp_path, planned, expected):
    plan = CASCADE + f"  - {{service: hd, from: cb, to: fm, rate: {planned}}}\n"
    ds = [d for d in demands(load_plan(write_plan(tmp_path, plan))) if (d.src, d.dst) == ("cb", "fm")]
    assert len(ds) == 1
    assert ds[0].rate == pytest.approx(expected)


def test_a_cascade_cycle_is_an_error(tmp_path):
    plan = HEAD.format(name="c") + "nodes:\n  a: {role: mcu, mcu_parent: b}\n  b: {role: mcu, mcu_parent: a}\n"
    net = load_plan(write_plan(tmp_path, plan))
    with pytest.raises(TrafficError, match="cycle"):
        demands(net)


def test_demands_follow_the_phase(tmp_path):
    plan = CASCADE.replace("sites:", "phases: {一期: {}, 二期: {}}\nsites:").replace(
        "  cb: {role: mcu, mcu_parent: fm}", "  cb: {role: mcu, mcu_parent: fm, phase: 二期}")
    net = load_plan(write_plan(tmp_path, plan))
    first = by_pair(demands(net.at_phase("一期")))
    assert ("cb", "fm") not in first
    assert first[("fm", "pm")].rate == pytest.approx(1.2 * (4 + 8) * M)
    assert by_pair(demands(net))[("fm", "pm")].rate == pytest.approx(1.2 * (4 + 8 + 4) * M)
