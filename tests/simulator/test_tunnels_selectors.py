"""ESP/GRE round trips, pcap bytes, and node selectors."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.ipsec import ESP, IPSecIntegrityError
from scapy.layers.l2 import GRE
from scapy.utils import rdpcap

from simulator.headerspace import int_ip
from simulator.pcap import pcap_bytes, write_pcap
from simulator.trace import trace
from simulator.tunnels import decapsulate, encapsulate
from tests.helpers import write_plan
from tests.simulator import sim_plans
from tests.topology.small_plans import SMALL
from topology import load_plan
from topology.errors import SelectorError
from topology.model import Tunnel
from topology.selectors import select_nodes

INNER = IP(src="10.1.0.5", dst="10.2.0.9", ttl=63) / TCP(sport=40000, dport=443, flags="S") / b"confidential"


def tunnel(kind="ipsec", cipher="AES-CBC", encrypted=True, name="t"):
    return Tunnel(name, kind, "a", "b", encrypted, (), cipher, 0, None, 0x1001)


@pytest.mark.parametrize("cipher", ["AES-CBC", "AES-GCM"])
def test_esp_round_trip_hides_the_inner_packet(cipher):
    t = tunnel(cipher=cipher)
    outer = encapsulate(t, INNER, int_ip("192.0.2.1"), int_ip("192.0.2.2"))
    assert outer[IP].proto == 50 and outer[ESP].spi == 0x1001 and TCP not in outer
    wire = bytes(outer)
    assert b"confidential" not in wire and bytes(INNER)[12:20] not in wire[20:]  # inner addresses unreadable
    assert bytes(decapsulate(t, outer)) == bytes(INNER)
    assert bytes(encapsulate(t, INNER, int_ip("192.0.2.1"), int_ip("192.0.2.2"))) == wire  # deterministic
    with pytest.raises(IPSecIntegrityError):  # another tunnel's keys do not open it
        decapsulate(tunnel(cipher=cipher, name="other"), outer)


def test_esp_null_and_gre_are_readable():
    null = encapsulate(tunnel(cipher="NULL", encrypted=False), INNER, 1, 2)
    assert b"confidential" in bytes(null) and bytes(decapsulate(tunnel(cipher="NULL", encrypted=False), null)) == bytes(INNER)
    gre = encapsulate(tunnel(kind="gre", encrypted=False), INNER, 1, 2)
    assert GRE in gre and gre[GRE][IP].dst == "10.2.0.9"
    assert bytes(decapsulate(tunnel(kind="gre", encrypted=False), gre)) == bytes(INNER)


def test_pcap_is_deterministic_and_readable(tmp_path):
    net = load_plan(write_plan(tmp_path, sim_plans.tunnel_plan("gre")))
    t = trace(net, "ha", "hb", proto="udp", dport=514)
    assert pcap_bytes(t) == pcap_bytes(trace(net, "ha", "hb", proto="udp", dport=514))
    path = tmp_path / "t.pcap"
    write_pcap(t, path)
    packets = rdpcap(str(path))
    assert [p.summary() for p in packets] == [h.packet.summary() for h in t.hops]
    assert GRE in packets[2] and UDP in packets[2][GRE]


def test_tunnel_probe_meets_the_outbound_acl(tmp_path):
    text = sim_plans.tunnel_plan().replace("interfaces: {wan: {acl_in: ina}, lan: {}}",
                                           "interfaces: {wan: {acl_in: ina, acl_out: noesp}, lan: {}}")
    text += "  noesp:\n    - {action: deny, proto: esp}\n    - {action: permit}\n"
    net = load_plan(write_plan(tmp_path, text))
    t = trace(net, "ha", "hb")
    assert not t.delivered and "tunnel t1 is down" in t.reason


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return load_plan(write_plan(tmp_path_factory.mktemp("sel"), SMALL))


def test_selectors(small):
    assert select_nodes(small, "fw") == ["fw"] == select_nodes(small, "node:fw")
    assert select_nodes(small, "role:firewall") == ["fw"]
    assert select_nodes(small, "domain:inet") == ["isp"] == select_nodes(small, "domain:internet")
    county = select_nodes(small, "site:双柏县")
    assert "双柏县核心" in county and any("乡镇" in n for n in county)  # sites below it too
    assert set(select_nodes(small, "level:township,role:router")) <= set(county)
    assert select_nodes(small, "*部门01") == ["双柏县部门01"]
    for bad in ("", "nosuch", "role:", "colour:red", "site:nowhere", "fw,role:host"):
        with pytest.raises(SelectorError):
            select_nodes(small, bad)
