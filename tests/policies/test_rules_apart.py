"""Rules judged apart (in a forked child) give exactly the results of one process."""

from __future__ import annotations

import pytest

from policies.engine import check_plan
from policies.loader import select_policies
from policies.registry import RULES_APART
from simulator.background import forking_helps
from tests.helpers import SCENARIOS
from topology import load_plan


def _results(path, monkeypatch, jobs: str | None):
    if jobs is None:
        monkeypatch.delenv("GOVNET_JOBS", raising=False)
    else:
        monkeypatch.setenv("GOVNET_JOBS", jobs)
    net = load_plan(path)  # a fresh network each time: nothing derived is shared between the two runs
    runs = check_plan(net, select_policies(net))
    return [(run.phase, r.rule.id, r.status, r.message, [e.summary for e in r.evidence])
            for run in runs for r in run.results]


@pytest.mark.parametrize("plan", ["chuxiong/faults/firewall-hole.yaml"])
def test_a_check_split_across_processes_equals_one_process(plan, monkeypatch):
    assert {"approval", "zone_addressing"} <= RULES_APART
    path = SCENARIOS / plan
    serial = _results(path, monkeypatch, "1")
    split = _results(path, monkeypatch, None)
    assert split == serial
    assert any(status == "fail" for _, _, status, _, _ in serial)  # the fault is seen either way


def test_govnet_jobs_1_keeps_one_process(monkeypatch):
    monkeypatch.setenv("GOVNET_JOBS", "1")
    assert not forking_helps()
