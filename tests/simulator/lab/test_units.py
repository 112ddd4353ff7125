"""The lab's pure parts, without namespaces: names, state, nftables text, kernel routes, doctests."""

from __future__ import annotations

import doctest
import importlib
import ipaddress

import pytest

from simulator.acl import compile_acl
from simulator.forwarding import build_forwarding
from simulator.lab.build import layout, node_lines
from simulator.lab.checks import pair_checks, random_checks
from simulator.lab.errors import LabError
from simulator.lab.fib import (
    ALL,
    decision_runs,
    forwarding_table,
    node_vrfs,
    route_action,
)
from simulator.lab.firewall import acl_rules, ruleset
from simulator.lab.state import (
    LabState,
    check_lab_name,
    is_lab_namespace,
    load_state,
    save_state,
)
from tests.helpers import SCENARIOS, write_plan
from tests.simulator import sim_plans
from topology import load_plan
from topology.model import Acl, Rule

MODULES = ["state", "kernel", "netns", "network", "fib", "firewall", "build", "tunneld", "checks", "capture",
           "compare", "run", "ospf"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"simulator.lab.{name}")
    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failed == 0


def test_names_and_state_round_trip(tmp_path):
    assert check_lab_name("a1") == "a1"
    with pytest.raises(LabError):
        check_lab_name("1a")
    assert is_lab_namespace("a", "gl-a-12") and not is_lab_namespace("a", "gl-a1-2")
    state = LabState("a", "/p.yaml", str(tmp_path), None, ["site:x"], "static", {"n": "gl-a-0"})
    save_state(tmp_path, state)
    assert load_state(tmp_path) == state
    (tmp_path / "lab.json").write_text("{broken")
    assert load_state(tmp_path) is None


def _rule(index, action, proto, sport=None, dport=None, icmp=None, dst="0.0.0.0/0"):
    return Rule(index, action, ipaddress.IPv4Network("0.0.0.0/0"), ipaddress.IPv4Network(dst), proto, sport, dport, icmp)


def test_acl_rules_read_ports_per_protocol():
    acl = compile_acl(Acl("x", (_rule(1, "deny", "icmp", icmp=8), _rule(2, "permit", "udp", dport=(53, 53)),
                                _rule(3, "permit", "ip", dst="10.0.0.0/24"))), default_permit=False)
    assert acl_rules(acl) == [
        "meta l4proto icmp icmp type 8 drop",
        "meta l4proto udp th dport 53 meta mark set meta mark | 0x1 return",
        "ip daddr 10.0.0.0/24 meta mark set meta mark | 0x1 return",
        "drop",
    ]
    permit_all = compile_acl(Acl("y", ()), default_permit=True)
    assert acl_rules(permit_all) == ["meta mark set meta mark | 0x1 return"]


def load(tmp_path, text):
    return load_plan(write_plan(tmp_path, text))


@pytest.mark.parametrize("plan", ["LPM", "ECMP", "VRF", "LOOP"])
def test_kernel_routes_cover_every_address_with_the_simulators_decision(tmp_path, plan):
    net = load(tmp_path, getattr(sim_plans, plan))
    fw = build_forwarding(net)
    for node in net.nodes:
        for vrf in node_vrfs(net, node):
            routes = forwarding_table(fw, node, vrf)
            assert sum(ipaddress.IPv4Network(r.prefix).num_addresses for r in routes) == 2**32
            for r in routes:  # the routes do not overlap, so each holds the decision of its first address
                first = int(ipaddress.IPv4Network(r.prefix).network_address)
                action = route_action(fw, node, fw.dst_decision(node, vrf, first))
                assert action[0] == r.kind
            assert decision_runs(fw, node, vrf)[0][0] == ALL[0][0]


def test_vrf_lite_devices_and_rules(tmp_path):
    net = load(tmp_path, sim_plans.VRF)
    fw = build_forwarding(net)
    lay = layout(net, fw, "u")
    pe1 = {d.dev: d for d in lay.devices if d.node == "pe1"}
    # the backbone link pe1 -- p has one device per VRF (global, A, B, S); toa is in A alone
    assert sorted(d.vrf or "" for d in pe1.values() if d.peer_node == "p") == ["", "A", "B", "S"]
    lines = node_lines(net, fw, lay, "pe1")
    toa = next(d for d in pe1.values() if d.interface == "toa")
    assert f"rule add pref 1000 iif {toa.dev} lookup {lay.tables['A']}" in lines


def test_firewall_ruleset_of_the_sim_plan(tmp_path):
    text = sim_plans.FIREWALL.replace("dst: WEB", "dst: 10.0.0.0/28")
    net = load(tmp_path, text)
    fw = build_forwarding(net)
    lay = layout(net, fw, "u")
    rules = ruleset(fw, "fw", lay.ports["fw"], {})
    assert "snat to 198.51.100." in rules  # NAT on the outside interface
    assert "meta mark & 0x1 == 0 drop" in rules  # a firewall: the boundary default
    assert "ct direction reply accept" in rules and "ct zone set ip id" in rules


def test_pair_and_random_checks_are_reproducible(tmp_path):
    net = load(tmp_path, sim_plans.ECMP)
    fw = build_forwarding(net)
    assert pair_checks(net, fw, 5) == pair_checks(net, fw, 5)
    assert len(pair_checks(net, fw, 5)) == 15
    assert random_checks(net, fw, 20, 3) == random_checks(net, fw, 20, 3)


def test_a_selected_part_keeps_only_the_waivers_of_its_nodes_and_can_be_checked():
    """A county brought up alone: the plan's waiver scoped to the prefecture core (not in the county) is
    left out, so the policy check of the part (the "evidence" packets of lab run) runs instead of
    refusing the waiver's scope; the whole plan keeps its waiver."""
    from policies.engine import check_plan
    from policies.loader import select_policies
    from simulator.lab.network import lab_network

    whole = lab_network(SCENARIOS / "chuxiong" / "plan.yaml")
    county = lab_network(SCENARIOS / "chuxiong" / "plan.yaml", None, ["site:双柏县"])
    assert [w.rule for w in whole.waivers] == ["DJ-NA-5"]
    assert "楚雄州外网核心" not in county.nodes and county.waivers == ()
    assert county.nodes and all("双柏县" in county.site_ancestors(n.site) for n in county.nodes.values())
    runs = check_plan(county, select_policies(county, None))
    assert runs and all(r.status in ("pass", "fail", "not_applicable") for run in runs for r in run.results)
