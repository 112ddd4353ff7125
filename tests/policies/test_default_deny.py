"""default_deny: controlled devices at boundaries, deny by default, dead rules; oracle for dead rules."""

from __future__ import annotations

import ipaddress
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.acl import dead_rules
from topology.model import Acl, Rule

from .common import evaluate, load, plan

BOUNDARY = plan("""\
nodes:
  ecore: {role: core_router}
  fw:
    role: firewall
    %(default)s
    interfaces:
      out: {acl_in: %(acl)s}
  isp: {role: cloud, domain: inet}
  pc: {role: host, domain: intra}
links:
  - ecore -- fw
  - {a: "fw:out", b: isp, medium: internet}
acls:
  closed:
    - {action: permit, proto: tcp, dst: 10.53.0.0/16, dport: 443}
    - {action: deny}
  open:
    - {action: deny, proto: tcp, dport: 23}
    - {action: permit}
  partial:
    - {action: permit, proto: tcp, dport: 443}
  dead:
    - {action: permit, proto: tcp, dst: 10.53.0.0/16, dport: 443}
    - {action: deny, proto: tcp, dst: 10.53.1.0/24, dport: 443}
    - {action: permit, proto: tcp, dst: 10.53.0.0/16, dport: 400-500}
    - {action: permit, proto: tcp, dst: 10.53.0.0/16, dport: 443}
    - {action: deny}
    - {action: permit, proto: udp}
""")


def case(tmp_path, acl="closed", default="default_action: deny", extra="", name="plan.yaml"):
    text = (BOUNDARY % {"acl": acl, "default": default}).replace("acls:\n", extra + "acls:\n")
    return load(tmp_path, text, name), text


def test_firewall_with_final_deny_passes(tmp_path):
    net, _ = case(tmp_path)
    result = evaluate(net, "default_deny", {"shadowed": "fail"})
    assert result.status == "pass", result.message


def test_acl_ending_in_permit_fails_at_the_catch_all_rule(tmp_path):
    net, text = case(tmp_path, acl="open")
    result = evaluate(net, "default_deny", {"shadowed": "off"})
    assert result.status == "fail"
    (ev,) = result.evidence
    assert ev.data["node"] == "fw" and ev.data["ends_in"] == "permit"
    assert "{action: permit}" in text.splitlines()[ev.marks[0].line - 1]


def test_acl_without_catch_all_follows_the_default_action(tmp_path):
    deny, _ = case(tmp_path, acl="partial")
    assert evaluate(deny, "default_deny").status == "pass"
    permit, _ = case(tmp_path, acl="partial", default="default_action: permit", name="p2.yaml")
    result = evaluate(permit, "default_deny")
    assert result.status == "fail" and "permits what it does not match" in result.evidence[0].summary


def test_router_at_boundary_fails_the_device_check(tmp_path):
    text = plan("""\
    nodes:
      ecore: {role: core_router}
      edge: {role: router}
      isp: {role: cloud, domain: inet}
    links: [ecore -- edge, "edge -- isp"]
    """)
    result = evaluate(load(tmp_path, text), "default_deny", {"ends_in_deny": False, "shadowed": "off"})
    assert result.status == "fail"
    assert result.evidence[0].data["link"] == "edge--isp"
    assert "no firewall or gateway" in result.evidence[0].summary


def test_a_computer_in_two_networks_is_not_a_boundary(tmp_path):
    # 一机两用 is a physical-isolation violation; no firewall could control it
    net, _ = case(tmp_path, extra="  - pc -- ecore\n")
    assert evaluate(net, "default_deny").status == "pass"


def test_shadowed_and_redundant_rules_are_reported(tmp_path):
    net, _ = case(tmp_path, acl="dead")
    result = evaluate(net, "default_deny", {"require_device": False, "ends_in_deny": False})
    assert result.status == "fail"
    found = {e.data["rule"]: (e.data["finding"], e.data["covered_by"]) for e in result.evidence}
    assert found == {2: ("shadowed", [1]), 4: ("redundant", [1]), 6: ("shadowed", [5])}
    note = evaluate(net, "default_deny", {"require_device": False, "ends_in_deny": False, "shadowed": "note"})
    assert note.status == "pass" and len(note.evidence) == 3


# -- oracle: which rules can ever match, by brute force over every elementary packet ----------

PREFIXES = ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/9", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "192.168.0.0/16"]
PORTS = [None, (0, 1023), (22, 22), (80, 80), (443, 443), (400, 500), (1024, 65535)]


@st.composite
def acls(draw):
    rules = []
    for i in range(draw(st.integers(1, 7))):
        proto = draw(st.sampled_from(["ip", "tcp", "udp", "icmp"]))
        ported = proto in ("tcp", "udp")
        rules.append(Rule(
            i + 1, draw(st.sampled_from(["permit", "deny"])),
            ipaddress.IPv4Network(draw(st.sampled_from(PREFIXES))), ipaddress.IPv4Network(draw(st.sampled_from(PREFIXES))),
            proto, draw(st.sampled_from(PORTS)) if ported else None, draw(st.sampled_from(PORTS)) if ported else None,
            draw(st.sampled_from([None, 0, 8])) if proto == "icmp" else None))
    return Acl("gen", tuple(rules))


def _points(intervals: list[tuple[int, int]], full: tuple[int, int]) -> list[int]:
    """One value in every elementary interval that the rules' bounds cut the field into."""
    cuts = {full[0], full[1] + 1}
    for lo, hi in intervals:
        cuts |= {lo, hi + 1}
    cuts = sorted(c for c in cuts if full[0] <= c <= full[1] + 1)
    return cuts[:-1]


def brute_force_dead(acl: Acl) -> set[int]:
    def addr(p):
        return (int(p.network_address), int(p.broadcast_address))

    srcs = _points([addr(r.src) for r in acl.rules], (0, 2**32 - 1))
    dsts = _points([addr(r.dst) for r in acl.rules], (0, 2**32 - 1))
    ports = _points([r.sport or (0, 65535) for r in acl.rules] + [r.dport or (0, 65535) for r in acl.rules], (0, 65535))
    types = _points([(r.icmp_type, r.icmp_type) for r in acl.rules if r.icmp_type is not None], (0, 255))

    def match(r, s, d, proto, sp, dp, t):
        if not (addr(r.src)[0] <= s <= addr(r.src)[1] and addr(r.dst)[0] <= d <= addr(r.dst)[1]):
            return False
        if r.proto != "ip" and r.proto != proto:
            return False
        if r.sport and not r.sport[0] <= sp <= r.sport[1]:
            return False
        if r.dport and not r.dport[0] <= dp <= r.dport[1]:
            return False
        return r.icmp_type is None or r.icmp_type == t

    hit = set()
    for s, d in itertools.product(srcs, dsts):
        for proto in ("tcp", "udp", "icmp", "gre"):
            for sp, dp, t in itertools.product(ports if proto in ("tcp", "udp") else [0],
                                               ports if proto in ("tcp", "udp") else [0],
                                               types if proto == "icmp" else [0]):
                for r in acl.rules:
                    if match(r, s, d, proto, sp, dp, t):
                        hit.add(r.index)
                        break
    return {r.index for r in acl.rules} - hit


@settings(max_examples=60)
@given(acls())
def test_oracle_dead_rules(acl):
    assert {index for index, _, _ in dead_rules(acl)} == brute_force_dead(acl)


def test_a_rule_naming_a_node_with_several_addresses_is_judged_once_as_written(tmp_path):
    # the server has a loopback, a link address and a LAN that holds them: the rule naming it matches
    # packets no earlier rule decides, so it is no dead rule, and it is one rule, not three
    net = load(tmp_path, plan("""\
    nodes:
      fw: {role: firewall, interfaces: {out: {acl_in: in}, inside: {}}}
      isp: {role: cloud, domain: inet}
      srv: {role: server, lan: 10.53.9.0/24}
    links: [{a: "fw:out", b: isp, domain: inet}, fw:inside -- srv]
    acls:
      in:
        - {action: permit, proto: tcp, dst: srv, dport: 443}
        - {action: permit, proto: tcp, dst: srv, dport: 443}
        - {action: deny}
    """))
    pieces = [r for r in net.acls["in"].rules if r.index == 1]
    assert len(pieces) >= 3  # the expansion the rule is judged across
    result = evaluate(net, "default_deny", {"require_device": False, "ends_in_deny": False})
    found = [(e.data["rule"], e.data["finding"], e.data["covered_by"]) for e in result.evidence]
    assert found == [(2, "redundant", [1])]  # rule 1 is live; its copy, rule 2, is dead, counted once
