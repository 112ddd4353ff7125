"""zone_addressing and zone_placement (GB/T 22239-2019 8.1.2.1 c and d)."""

from __future__ import annotations

from .common import evaluate, load, plan

ZONES = plan("""\
nodes:
  ecore: {role: core_router}
  srv: {role: server, services: [document_exchange]}
  fw:
    role: firewall
    default_action: deny
    interfaces: {out: {address: 198.51.100.2/30}}
  isp: {role: cloud, domain: inet, interfaces: {in: {address: 198.51.100.1/30}}}
  web: {role: server, domain: dmz, services: [portal]}
links:
  - ecore -- fw
  - {a: "fw:out", b: "isp:in", medium: internet}
  - {a: web, b: fw, domain: dmz}
%(extra)s""")


def test_addresses_inside_their_zones_pass(tmp_path):
    net = load(tmp_path, ZONES % {"extra": "  - srv -- ecore\n"})
    result = evaluate(net, "zone_addressing")
    assert result.status == "pass", result.message
    assert "10.53.0.0/16" in result.message


def test_address_outside_its_zone_fails(tmp_path):
    text = (ZONES % {"extra": "  - srv -- ecore\n"}).replace(
        "  srv: {role: server, services: [document_exchange]}",
        "  srv: {role: server, services: [document_exchange], lan: 192.168.10.0/24}")
    result = evaluate(load(tmp_path, text), "zone_addressing")
    assert result.status == "fail"
    (ev,) = result.evidence
    assert ev.data["node"] == "srv" and ev.data["prefix"] == "192.168.10.0/24"
    assert "lan: 192.168.10.0/24" in text.splitlines()[ev.marks[0].line - 1]


def test_important_server_behind_core_passes(tmp_path):
    net = load(tmp_path, ZONES % {"extra": "  - srv -- ecore\n"})
    result = evaluate(net, "zone_placement")
    assert result.status == "pass", result.message


def test_important_server_on_the_firewall_fails(tmp_path):
    net = load(tmp_path, ZONES % {"extra": "  - srv -- fw\n"})
    result = evaluate(net, "zone_placement")
    assert result.status == "fail"
    (ev,) = result.evidence
    assert ev.data["node"] == "srv" and ev.data["hops"] == 2
    assert [n["name"] for n in ev.data["nodes"]] == ["srv", "fw", "isp"]


def test_portal_and_dmz_belong_at_the_edge(tmp_path):
    net = load(tmp_path, ZONES % {"extra": "  - srv -- ecore\n"})
    # web sits two links from the internet, but it is the public portal in the DMZ
    assert evaluate(net, "zone_placement", {"min_hops": 3}).status == "pass"
    assert evaluate(net, "zone_placement", {"min_hops": 3, "edge_services": [], "edge_domains": []}).status == "fail"
