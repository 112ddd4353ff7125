"""A county of the Chuxiong plan in the lab: its declared flows (and answers) agree with the simulator."""

from __future__ import annotations

from simulator.lab import down, report_text, run, up
from topology import scenario_path

from .conftest import lab_name


def test_a_county_of_chuxiong_runs_its_declared_flows(tmp_path, lab_capable):
    name, folder = lab_name(), tmp_path / "lab-state"
    try:
        state = up(scenario_path("chuxiong"), name, folder, select=["site:双柏县"])
        assert 20 < len(state.namespaces) < 100
        report = run(name, folder, kinds=("flow",))
    finally:
        down(name, folder)
    assert report.ok, report_text(report)
    flows = [v for v in report.verdicts if v.kind == "flow"]
    assert flows and all(v.delivered for v in flows)
