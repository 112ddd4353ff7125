"""The redundancy rule and shared-risk groups: two uplinks leased from one carrier are one failure, not two."""

from __future__ import annotations

from pathlib import Path

from tests.policies.common import evaluate, load, plan

BODY = """
nodes:
  州核心: {role: core_router, tags: [key]}
  县核心: {role: core_router, site: 县A, tags: [key]}
  县备份: {role: router, site: 县A}
links:
  - {a: 县核心, b: 州核心, medium: carrier_line}        # uplink 1
  - {a: 县核心, b: 县备份}
  - {a: 县备份, b: 州核心, medium: carrier_line}        # uplink 2, over the backup router
"""
PARAMS = {"failures": "n-1", "key": ["tag:key"]}  # no traffic: the sweep loses nothing


def test_two_disjoint_uplinks_are_redundant(tmp_path: Path) -> None:
    result = evaluate(load(tmp_path, plan(BODY)), "redundancy", PARAMS)
    assert result.passed_, result.message


def test_two_uplinks_of_one_carrier_are_not(tmp_path: Path) -> None:
    """By hand: both uplinks are in 电信; failing the group leaves 县核心 and 州核心 apart, so the pair has one
    path's worth of redundancy and the group is its single point of failure."""
    groups = """
risk_groups:
  电信: {links: [县核心--州核心, 县备份--州核心], reason: 两条上联同一运营商}
"""
    result = evaluate(load(tmp_path, plan(BODY + groups)), "redundancy", PARAMS)
    assert result.failed_
    [ev] = [e for e in result.evidence if e.data.get("cut")]
    assert ev.data["cut"] == ["risk group 电信"] and ev.data["disjoint_paths"] == 1
    assert any(m.line == (plan(BODY + groups).splitlines().index("  电信: {links: [县核心--州核心, 县备份--州核心], "
                                                                 "reason: 两条上联同一运营商}") + 1)
               for m in ev.marks)


def test_a_group_that_leaves_a_way_round_is_not_a_cut(tmp_path: Path) -> None:
    groups = """
risk_groups:
  联通: {links: [县核心--州核心]}
  机房: {nodes: [县备份]}
"""
    result = evaluate(load(tmp_path, plan(BODY + groups)), "redundancy", PARAMS)
    assert result.passed_, result.message
