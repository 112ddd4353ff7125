"""``--routing ospf``: FRR's ospfd per namespace; its converged routes and the packets against the simulator."""

from __future__ import annotations

import pytest

from simulator.lab import report_text, run
from simulator.lab.ospf import LINK_ADDRESSES
from tests.simulator import sim_plans

from .conftest import lab_of


@pytest.mark.parametrize("plan", ["LPM", "ECMP", "FIREWALL"])
def test_ospf_converges_to_the_simulators_routes(tmp_path, frr_capable, plan):
    text = getattr(sim_plans, plan).replace("dst: WEB", "dst: 10.0.0.0/28")
    with lab_of(tmp_path, text, routing="ospf") as (name, folder):
        report = run(name, folder, kinds=("pairs", "reach"))
    assert report.ok, report_text(report)
    assert report.routes and sum(r.agrees for r in report.routes) > len(report.routes) // 2
    # the only route differences allowed are the documented one: addresses on point-to-point links
    assert {r.expected for r in report.routes if not r.agrees} <= {LINK_ADDRESSES}


def test_ospf_refuses_vrfs(tmp_path, frr_capable):
    from simulator.lab import LabError

    with pytest.raises(LabError, match="global table only"), lab_of(tmp_path, sim_plans.VRF, routing="ospf"):
        pass
