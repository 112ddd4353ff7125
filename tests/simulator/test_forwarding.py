"""One test per forwarding mechanism, on small plans (tests/simulator/sim_plans.py)."""

from __future__ import annotations

import ipaddress

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import GRE

from simulator.forwarding import build_forwarding
from simulator.headerspace import int_ip
from simulator.reach import reach
from simulator.trace import reply, trace
from tests.helpers import write_plan
from tests.simulator import sim_plans
from topology import load_plan


def load(tmp_path, text: str, placeholders: dict[str, str] | None = None):
    """Load a plan; ``placeholders`` map a word in the text to the loopback address of a node."""
    first = text
    for word in placeholders or {}:
        first = first.replace(word, "192.0.2.1")  # addresses do not depend on ACLs: load once to learn them
    net = load_plan(write_plan(tmp_path, first))
    if placeholders:
        for word, node in placeholders.items():
            text = text.replace(word, str(net.nodes[node].loopback.ip))
        net = load_plan(write_plan(tmp_path, text))
    return net


def addr(net, node: str) -> str:
    return str(net.nodes[node].addresses[0].ip)


def decisions(t) -> list[tuple[str, str]]:
    return [(h.node, h.decision) for h in t.hops]


# -- longest prefix match, static and default routes ------------------------------
def test_longest_prefix_wins(tmp_path):
    net = load(tmp_path, sim_plans.LPM)
    in_lan = trace(net, "h1", "10.1.3.5")  # the /16 beats the internet's default route
    assert decisions(in_lan)[-1] == ("r2", "delivered")
    assert "10.1.0.0/16" in in_lan.hops[1].detail
    elsewhere = trace(net, "h1", "8.8.8.8")  # only the default route matches
    assert decisions(elsewhere)[-1] == ("isp", "delivered")
    assert "0.0.0.0/0" in elsewhere.hops[1].detail
    loopback = trace(net, "h1", addr(net, "r4"))  # a /32 host route
    assert decisions(loopback)[-1] == ("r4", "delivered")


def test_static_route_beats_igp_of_same_length(tmp_path):
    net = load(tmp_path, sim_plans.LPM)
    t = trace(net, "h4", "10.1.3.5")
    assert [h.node for h in t.hops] == ["h4", "r4", "r1", "r2"]  # not the cheaper r4 -> r2 link
    assert "static route 10.1.0.0/16" in t.hops[1].detail
    without = load(tmp_path, sim_plans.LPM.replace("    routes: [{prefix: 10.1.0.0/16, via: r1}]\n", ""))
    assert [h.node for h in trace(without, "h4", "10.1.3.5").hops] == ["h4", "r4", "r2"]


def test_no_route(tmp_path):
    net = load(tmp_path, sim_plans.ECMP)  # no cloud, no default route
    t = trace(net, "h0", "8.8.8.8")
    assert not t.delivered
    assert t.hops[-1].decision == "no_route"


# -- ECMP ------------------------------------------------------------------------------
def test_ecmp_trace_is_deterministic_and_reach_follows_both_branches(tmp_path):
    net = load(tmp_path, sim_plans.ECMP)
    fw = build_forwarding(net)
    hops = fw.dst_decision("r0", None, fw.primary_address("h3")).hops
    assert sorted(h.neighbor for h in hops) == ["r1", "r2"]
    first = trace(net, "h0", "h3")
    again = trace(net, "h0", "h3")
    assert first.delivered and [h.node for h in first.hops] == [h.node for h in again.hops]
    used = set()
    for sport in range(40000, 40040):  # the flow hash spreads flows over both paths
        used.add(trace(net, "h0", "h3", sport=sport).hops[2].node)
    assert used == {"r1", "r2"}
    classes = reach(net, ["h0"], ["h3"])
    assert {c.path[2] for c in classes} == {"r1", "r2"}
    for c in classes:  # each class's trace follows its own branch
        assert c.trace.delivered and [h.node for h in c.trace.hops][2] == c.path[2]


# -- ACLs, boundary default, stateful return, NAT --------------------------------------
def test_acl_first_match_and_default(tmp_path):
    net = load(tmp_path, sim_plans.FIREWALL, {"WEB": "web"})
    ok = trace(net, "out", "web", dport=443)
    assert ok.delivered
    assert (ok.hops[2].rule.acl, ok.hops[2].rule.index, ok.hops[2].rule.action) == ("from-outside", 1, "permit")
    http = trace(net, "out", "web", dport=80)
    assert not http.delivered and http.hops[-1].decision == "denied"
    assert (http.hops[-1].rule.acl, http.hops[-1].rule.index) == ("from-outside", 2)
    ping = trace(net, "out", "web", proto="icmp")
    assert ping.delivered and ping.hops[2].rule.index == 3
    other = trace(net, "out", "db", proto="udp", dport=53)
    assert other.hops[-1].rule.index == 0 and other.hops[-1].rule.action == "deny"  # implicit deny
    as_json = other.to_json()
    assert as_json["delivered"] is False
    assert as_json["hops"][-1]["rule"] == {"acl": "from-outside", "index": 0, "action": "deny", "node": "fw",
                                           "interface": "outside", "direction": "in"}


def test_boundary_default_deny_without_acl(tmp_path):
    text = sim_plans.FIREWALL.replace("inside: {acl_in: from-inside}", "inside: {}")
    net = load(tmp_path, text, {"WEB": "web"})
    t = trace(net, "pc", "out", dport=443)  # neither fw interface on this path has an ACL for it
    assert t.hops[-1].decision == "denied" and t.hops[-1].rule.acl == "default"
    permit = load(tmp_path, text.replace("role: firewall", "role: firewall\n    default_action: permit"), {"WEB": "web"})
    assert trace(permit, "pc", "out", dport=443).delivered


def test_stateful_return_and_nat(tmp_path):
    net = load(tmp_path, sim_plans.FIREWALL, {"WEB": "web"})
    forward = trace(net, "pc", "out", dport=443)
    assert forward.delivered
    fw_hop = next(h for h in forward.hops if h.node == "fw")
    assert fw_hop.packet[IP].src == str(net.nodes["fw"].interfaces["outside"].address.ip)  # masqueraded
    assert "source NAT" in fw_hop.detail
    back = reply(net, forward)
    assert back.delivered and back.hops[-1].node == "pc"
    assert back.hops[-1].packet[IP].dst == addr(net, "pc")  # translated back
    assert back.hops[-1].packet[TCP].flags == "SA"
    # the same packet without the session: to the NAT address it is for the firewall, and denied there
    unsolicited = trace(net, "out", str(net.nodes["fw"].interfaces["outside"].address.ip), sport=443, dport=40000)
    assert not unsolicited.delivered and unsolicited.hops[-1].node == "fw"


# -- VRFs --------------------------------------------------------------------------------
def test_vrf_route_leaking_only_where_imported(tmp_path):
    net = load(tmp_path, sim_plans.VRF)
    a = trace(net, "ha", "srv")
    assert a.delivered, a.reason
    b = trace(net, "hb", "srv")
    assert not b.delivered and b.hops[-1].decision == "no_route"
    assert reach(net, ["hb"], ["srv"]) == []
    assert reach(net, ["ha"], ["srv"])
    back = trace(net, "srv", "ha")  # S imports A
    assert back.delivered


# -- tunnels ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind,cipher,layer", [("ipsec", "AES-CBC", ESP), ("ipsec", "AES-GCM", ESP), ("gre", "AES-CBC", GRE)])
def test_tunnel_encapsulates_on_the_internet_and_decapsulates(tmp_path, kind, cipher, layer):
    net = load(tmp_path, sim_plans.tunnel_plan(kind, cipher))
    t = trace(net, "ha", "hb", dport=443)
    assert t.delivered, t.reason
    assert [h.decision for h in t.hops] == ["forwarded", "encapsulated", "forwarded", "decapsulated", "forwarded", "delivered"]
    internet_hop = t.hops[2]
    assert internet_hop.node == "isp" and layer in internet_hop.packet
    assert internet_hop.packet[IP].src == str(net.nodes["gwa"].interfaces["wan"].address.ip)
    if kind == "ipsec":
        assert TCP not in internet_hop.packet  # the inner header cannot be read
        assert internet_hop.packet[IP].proto == 50
    else:
        assert internet_hop.packet[GRE][IP].dst == addr(net, "hb")  # GRE carries it in clear
    assert t.hops[3].packet[IP].dst == addr(net, "hb") and TCP in t.hops[3].packet
    back = reply(net, t)
    assert back.delivered and [h.decision for h in back.hops].count("encapsulated") == 1


def test_tunnel_down_when_underlay_refuses_outer_packets(tmp_path):
    net = load(tmp_path, sim_plans.tunnel_plan("ipsec", accept="udp"))  # the gateways accept no ESP
    t = trace(net, "ha", "hb")
    assert not t.delivered
    assert t.hops[-1].decision == "dropped" and "tunnel t1 is down" in t.hops[-1].detail
    assert reach(net, ["ha"], ["hb"]) == []


def test_null_cipher_tunnel_is_readable(tmp_path):
    net = load(tmp_path, sim_plans.tunnel_plan("ipsec", "NULL"))
    t = trace(net, "ha", "hb")
    raw = bytes(t.hops[2].packet[ESP])
    inner = bytes(t.hops[3].packet)
    assert inner[20:40] in raw  # the TCP header travels in clear inside ESP-NULL


# -- one-way gateway -------------------------------------------------------------------
def test_one_way_gateway(tmp_path):
    net = load(tmp_path, sim_plans.ONE_WAY)
    assert trace(net, "e1", "i1", proto="udp", dport=514).delivered
    tcp = trace(net, "e1", "i1", proto="tcp")
    assert not tcp.delivered and tcp.hops[-1].node == "gw" and tcp.hops[-1].decision == "denied"
    back = trace(net, "i1", "e1", proto="udp", dport=514)
    assert not back.delivered and back.hops[-1].node == "gw"
    assert reach(net, ["i1"], ["e1"]) == []
    classes = reach(net, ["e1"], ["i1"])
    assert classes and all(c.space.boxes and all(b[2] == ((17, 17),) for b in c.space.boxes) for c in classes)
    fwd = trace(net, "e1", "i1", proto="udp", dport=514)
    assert not reply(net, fwd).delivered  # nothing flows back, not even replies


# -- TTL and hosts -----------------------------------------------------------------------
def test_ttl_expires_in_a_static_loop(tmp_path):
    net = load(tmp_path, sim_plans.LOOP)
    t = trace(net, "h", "10.9.1.1")
    assert t.hops[-1].decision == "ttl_expired"
    assert len(t.hops) == 65  # the host sends with TTL 64; 64 routers decrement it


def test_a_host_does_not_forward(tmp_path):
    net = load(tmp_path, sim_plans.LOOP)
    t = trace(net, "h", "10.8.1.1")
    assert t.hops[-1].node == "pc" and t.hops[-1].decision == "dropped"


def test_trace_input_errors(tmp_path):
    from topology.errors import SelectorError

    net = load(tmp_path, sim_plans.ECMP)
    with pytest.raises(SelectorError, match="did you mean"):
        trace(net, "h00", "h3")
    with pytest.raises(SelectorError):
        trace(net, "h0", "nowhere")
    with pytest.raises(SelectorError):
        trace(net, "h0", "h3", src_ip="10.0.0.300")
    assert trace(net, "h0", addr(net, "h3")).delivered
    assert ipaddress.IPv4Address(trace(net, "h0", "h3", src_ip="10.0.0.99").hops[0].packet[IP].src) == ipaddress.IPv4Address("10.0.0.99")


def test_udp_and_icmp_packets(tmp_path):
    net = load(tmp_path, sim_plans.ECMP)
    u = trace(net, "h0", "h3", proto="udp", sport=5353, dport=53)
    assert UDP in u.hops[0].packet and u.hops[0].packet[UDP].dport == 53
    i = trace(net, "h0", "h3", proto="icmp", icmp_type=8)
    assert i.delivered and i.hops[0].packet.summary().endswith("echo-request 0 / Raw")
    assert int_ip(addr(net, "h3")) == i.hops[-1].header.dst
