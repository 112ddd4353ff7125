"""logical_isolation: only the allowed services cross, through a controlled device; oracle against traces."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.forwarding import build_forwarding
from simulator.packets import Header
from tests.helpers import write_plan
from topology import load_plan

from .common import evaluate, load, plan

EDGE = plan("""\
nodes:
  ecore: {role: core_router}
  mail: {role: server, services: [mail]}
  fw:
    role: firewall
    default_action: deny
    interfaces:
      out: {address: 198.51.100.2/30, acl_in: inet-in}
      dmz: {address: 203.0.113.1/28}
  portal: {role: server, domain: dmz, services: [portal], interfaces: {e0: {address: 203.0.113.2/28}}}
  isp: {role: cloud, domain: inet, interfaces: {in: {address: 198.51.100.1/30}}}
links:
  - mail -- ecore
  - ecore -- fw
  - {a: "fw:out", b: "isp:in", medium: internet}
  - {a: "fw:dmz", b: "portal:e0"}
%(extra)s
acls:
  inet-in:
%(rules)s
""")
WEB_ONLY = "    - {action: permit, proto: tcp, dst: 203.0.113.2, dport: 443}\n    - {action: deny}\n"
ALLOW = {"from": ["public"], "to": ["kind:extranet", "kind:dmz"],
         "allow": [{"proto": "tcp", "dport": 443, "to": {"service": "portal"}}]}


def test_only_https_to_the_portal_passes(tmp_path):
    net = load(tmp_path, EDGE % {"extra": "", "rules": WEB_ONLY})
    result = evaluate(net, "logical_isolation", ALLOW)
    assert result.status == "pass", result.message
    assert "1 class" in result.message


def test_hole_in_the_firewall_fails_with_packet_trace_and_pcap(tmp_path):
    from scapy.utils import rdpcap

    from policies.registry import Context

    rules = "    - {action: permit, proto: tcp, dst: 10.53.0.0/16, dport: 3389}\n" + WEB_ONLY
    text = EDGE % {"extra": "", "rules": rules}
    context = Context(pcap_dir=str(tmp_path / "pcap"))
    result = evaluate(load(tmp_path, text), "logical_isolation", ALLOW, context=context)
    assert result.status == "fail"
    ev = result.evidence[0]
    assert ev.kind == "packet"
    assert ev.data["packet"]["proto"] == "tcp" and ev.data["packet"]["dport"] == 3389
    assert set(ev.data["dst_nodes"]) == {"ecore", "mail", "fw"}
    hops = ev.data["trace"]["hops"]
    assert hops[-1]["decision"] == "delivered"
    assert any(h["rule"] and h["rule"]["acl"] == "inet-in" and h["rule"]["index"] == 1 for h in hops)
    assert "dport: 3389" in text.splitlines()[ev.marks[0].line - 1]  # the rule that let it in
    assert len(rdpcap(ev.data["pcap"])) == len(hops)


def test_cable_around_the_firewall_fails(tmp_path):
    text = EDGE % {"extra": "  - {a: ecore, b: isp, medium: internet}", "rules": WEB_ONLY}
    result = evaluate(load(tmp_path, text), "logical_isolation",
                      {"from": ["kind:extranet"], "to": ["public"], "allow": [{"proto": "ip"}]})
    assert result.status == "fail"
    (ev,) = result.evidence
    assert ev.kind == "path" and [n["name"] for n in ev.data["nodes"]] == ["ecore", "isp"]


def test_universal_allow_needs_only_controlled_devices(tmp_path):
    net = load(tmp_path, EDGE % {"extra": "", "rules": WEB_ONLY})
    result = evaluate(net, "logical_isolation", {"from": ["kind:extranet"], "to": ["public"], "allow": [{"proto": "ip"}]})
    assert result.status == "pass" and "every crossing" in result.message


# -- oracle: every packet a trace delivers outside the allowed services must be reported --------

TARGETS = ["ecore", "mail", "fw", "portal"]
DSTS = ["10.53.0.0/16", "203.0.113.0/28", "203.0.113.2/32", "0.0.0.0/0"]
PORTS = [None, (443, 443), (80, 80), (1, 1023), (3389, 3389)]


@st.composite
def acls(draw):
    rules = []
    for _ in range(draw(st.integers(0, 4))):
        proto = draw(st.sampled_from(["tcp", "udp", "icmp", "ip"]))
        entry = f"action: {draw(st.sampled_from(['permit', 'deny']))}, proto: {proto}, dst: {draw(st.sampled_from(DSTS))}"
        port = draw(st.sampled_from(PORTS)) if proto in ("tcp", "udp") else None
        if port:
            entry += f", dport: {port[0]}-{port[1]}"
        rules.append(entry)
    return rules


def allowed(dst: str, proto: str, dport: int) -> bool:
    return dst == "portal" and proto == "tcp" and dport == 443


@settings(max_examples=40)
@given(acls())
def test_oracle_against_traces(tmp_path_factory, rules):
    body = "".join(f"    - {{{r}}}\n" for r in rules) or "    - {action: deny}\n"
    net = load_plan(write_plan(tmp_path_factory.mktemp("li"), EDGE % {"extra": "", "rules": body}))
    result = evaluate(net, "logical_isolation", ALLOW)
    cuts = {0, 1, 80, 81, 443, 444, 1023, 1024, 3389, 3390, 65535}  # a value in every port interval of the rules
    fw = build_forwarding(net)  # packets walked one by one (the engine traces use, not the header-space query)
    src = fw.primary_address("isp")
    bad = set()
    for dst in TARGETS:
        for address in (a.ip for a in net.nodes[dst].addresses):
            for proto in ("tcp", "udp", "icmp"):
                for port in sorted(cuts) if proto != "icmp" else [8]:
                    steps = fw.walk("isp", Header.make(src, int(address), proto, 40000, port, icmp_type=port))
                    if steps[-1].decision == "delivered" and steps[-1].node == dst and not allowed(dst, proto, port):
                        bad.add(dst)
    reported = {n for e in result.evidence for n in e.data.get("dst_nodes", [])}
    assert reported == bad
    assert (result.status == "fail") == bool(bad)
    assert all(ipaddress.IPv4Address(e.data["packet"]["src"]) for e in result.evidence)
