"""vrf_separation: department VPNs meet only through the shared exchange."""

from __future__ import annotations

from .common import evaluate, load, plan

VPNS = plan("""\
vrfs:
  a: {domain: ext, import: [%(a_imports)s]}
  b: {domain: ext, import: [%(b_imports)s]}
  c: {domain: ext, import: [shared]}
  shared: {domain: ext, import: [a, b, c]}
nodes:
  pe:
    role: core_router
    interfaces: {ia: {vrf: a}, ib: {vrf: b}, ic: {vrf: c}, ix: {vrf: shared}}
  ha: {role: host, vrf: a}
  hb: {role: host, vrf: b}
  hc: {role: host, vrf: c}
  hub: {role: server, vrf: shared, services: [data_exchange]}
links:
  - {a: ha, b: "pe:ia"}
  - {a: hb, b: "pe:ib"}
  - {a: hc, b: "pe:ic"}
  - {a: hub, b: "pe:ix"}
""")


def test_hub_and_spoke_passes(tmp_path):
    net = load(tmp_path, VPNS % {"a_imports": "shared", "b_imports": "shared"})
    result = evaluate(net, "vrf_separation", {"domains": ["kind:extranet"]})
    assert result.status == "pass", result.message
    assert "shared" in result.message


def test_direct_import_between_departments_fails_with_leaking_packets(tmp_path):
    text = VPNS % {"a_imports": "shared, b", "b_imports": "shared, a"}
    result = evaluate(load(tmp_path, text), "vrf_separation", {"domains": ["kind:extranet"]})
    assert result.status == "fail"
    imports = {(e.data["vrf"], e.data["imports"]) for e in result.evidence if e.kind == "vrf_import"}
    assert imports == {("a", "b"), ("b", "a")}
    leaks = {(e.data["src_node"], e.data["dst_node"]) for e in result.evidence if e.kind == "packet"}
    assert leaks == {("ha", "hb"), ("hb", "ha")}
    leak = next(e for e in result.evidence if e.kind == "packet")
    assert leak.data["trace"]["delivered"]


def test_explicit_shared_list_overrides_the_hub_detection(tmp_path):
    net = load(tmp_path, VPNS % {"a_imports": "shared", "b_imports": "shared"})
    result = evaluate(net, "vrf_separation", {"domains": ["kind:extranet"], "shared": []})
    # with no shared VPN declared, the exchange is one more department: the spokes reach it
    assert result.status == "fail"
    ok = evaluate(net, "vrf_separation", {"domains": ["kind:extranet"], "shared": ["shared"]})
    assert ok.status == "pass"
