"""Each forwarding mechanism built as a real network: the kernel and the simulator agree on every packet.

One small plan per mechanism (tests/simulator/sim_plans.py): longest prefix
match and static routes, ECMP, ACL first match with default deny and NAT
with its return, a one-way gateway, IPsec (encrypted and NULL) and GRE
tunnels, VRF leaking, a static routing loop. Every pair of nodes exchanges
TCP (answered), UDP and ICMP packets, plus the reach classes across each
boundary; besides the agreement, each test checks what the kernel did, so
an agreement cannot come from both sides doing nothing.
"""

from __future__ import annotations

import pytest

from simulator.lab import report_text, run
from simulator.lab.checks import Check
from simulator.packets import PAYLOAD, Header
from tests.simulator import sim_plans

from .conftest import lab_of


def checked(tmp_path, text, extra=()):
    with lab_of(tmp_path, text) as (name, folder):
        report = run(name, folder, extra=list(extra))
    assert report.ok, report_text(report)
    assert report.verdicts
    return report


def kernel_of(report, src, dst_ip, proto="tcp", kind=None):
    """The kernel's story of the checked packet from ``src`` to ``dst_ip``."""
    for v in report.verdicts:
        if v.src == src and v.header.dst == dst_ip and v.header.proto == {"tcp": 6, "udp": 17, "icmp": 1}[proto] \
                and (kind is None or v.kind == kind):
            return v
    raise AssertionError(f"no check from {src} to {dst_ip}")


def address(net, node):
    return int(net.nodes[node].addresses[0].ip)


def test_longest_prefix_match_and_static_routes(tmp_path, lab_capable):
    extra = [Check("pairs", "into the LAN", "h1", Header.make("10.0.0.12", "10.1.3.5", "udp", 40000, 53))]
    report = checked(tmp_path, sim_plans.LPM, extra)
    lan = next(v for v in report.verdicts if v.label == "into the LAN")
    assert lan.kernel[-1].node == "r2" and lan.kernel[-1].decision == "delivered"
    h4 = kernel_of(report, "h4", address(report.net, "r2"), "udp")
    assert [h.node for h in h4.kernel] == ["h4", "r4", "r2"] or h4.kernel[1].node == "r4"


def test_ecmp_takes_one_of_the_equal_cost_branches(tmp_path, lab_capable):
    report = checked(tmp_path, sim_plans.ECMP)
    v = kernel_of(report, "h0", address(report.net, "h3"))
    assert v.delivered and v.kernel[2].node in ("r1", "r2")
    assert v.simulator[1].branches == 2


def test_acl_first_match_default_deny_and_nat_with_its_return(tmp_path, lab_capable):
    report = checked(tmp_path, sim_plans.FIREWALL.replace("dst: WEB", "dst: 10.0.0.0/28"))
    dropped = [v for v in report.verdicts if not v.delivered]
    assert any(v.kernel[-1].node == "fw" for v in dropped)  # denied at the firewall, in both
    out = kernel_of(report, "pc", address(report.net, "out"))
    nat = report.net.nodes["fw"].interfaces["outside"].address.ip
    leaving = next(h for h in out.kernel if h.node == "fw")
    assert leaving.header is not None and leaving.header.src == int(nat)  # masqueraded
    answers = [v for v in report.verdicts if v.kind == "reply" and v.src == "out"]
    assert answers and all(v.delivered for v in answers)  # the return is translated back


def test_one_way_gateway_passes_one_direction_and_protocol(tmp_path, lab_capable):
    report = checked(tmp_path, sim_plans.ONE_WAY)
    i1, e1 = address(report.net, "i1"), address(report.net, "e1")
    assert kernel_of(report, "e1", i1, "udp").delivered
    assert kernel_of(report, "e1", i1, "tcp").kernel[-1].node == "gw"
    assert kernel_of(report, "i1", e1, "udp").kernel[-1].node == "gw"


@pytest.mark.parametrize("kind,cipher,proto,clear", [("ipsec", "AES-CBC", 50, False), ("ipsec", "AES-GCM", 50, False),
                                                     ("ipsec", "NULL", 50, True), ("gre", "AES-CBC", 47, True)])
def test_tunnels_cross_the_internet_as_esp_or_gre(tmp_path, lab_capable, kind, cipher, proto, clear):
    report = checked(tmp_path, sim_plans.tunnel_plan(kind, cipher))
    v = kernel_of(report, "ha", address(report.net, "hb"))
    assert v.delivered
    assert [h.decision for h in v.kernel].count("encapsulated") == 1
    assert [h.decision for h in v.kernel].count("decapsulated") == 1
    on_internet = [h for h in v.kernel if h.link is not None and "isp" in h.link]
    assert on_internet and all(h.header is not None and h.header.proto == proto for h in on_internet)
    assert all((PAYLOAD in h.data) == clear for h in on_internet)


def test_vrf_leaking(tmp_path, lab_capable):
    report = checked(tmp_path, sim_plans.VRF)
    srv = address(report.net, "srv")
    assert kernel_of(report, "ha", srv, "udp").delivered  # A imports S
    assert not kernel_of(report, "hb", srv, "udp").delivered  # B does not


def test_static_loop_expires_where_the_simulator_says(tmp_path, lab_capable):
    loop = Check("pairs", "into the loop", "h", Header.make("10.0.0.1", "10.9.1.1", "udp", 40000, 53))
    report = checked(tmp_path, sim_plans.LOOP, [loop])
    v = next(v for v in report.verdicts if v.label == "into the loop")
    assert v.simulator[-1].decision == "ttl_expired" and not v.delivered
    assert len(v.kernel) > 60  # it went round until the TTL ran out


def test_the_evidence_packets_of_failing_rules(tmp_path, lab_capable):
    text = sim_plans.FIREWALL.replace("dst: WEB", "dst: 10.0.0.0/28").replace(
        "name: fw", "name: fw\npolicies: [egov-baseline, djbh-l3]")
    from policies.engine import check_plan
    from policies.loader import select_policies
    from simulator.lab.run import lab_net

    with lab_of(tmp_path, text) as (name, folder):
        net = lab_net(name, folder)
        findings = [(r.rule.id, e.data) for x in check_plan(net, select_policies(net, None)) for r in x.results
                    if r.status == "fail" for e in r.evidence]
        report = run(name, folder, kinds=("evidence",), findings=findings)
    assert report.ok, report_text(report)
    evidence = [v for v in report.verdicts if v.kind == "evidence"]
    assert evidence and all(v.delivered for v in evidence)  # logical isolation findings: packets that get through
