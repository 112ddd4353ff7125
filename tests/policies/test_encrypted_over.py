"""encrypted_over: tunnels over the internet encrypt and end inside the network they carry."""

from __future__ import annotations

from .common import evaluate, load, plan

REMOTE = plan("""\
nodes:
  ecore: {role: core_router}
  srv: {role: server}
  hq-vpn:
    role: vpn_gateway
    interfaces: {wan: {address: 198.51.100.2/30}, lan: {}}
  branch-vpn:
    role: vpn_gateway
    site: 县A
    interfaces: {wan: {address: 198.51.100.6/30}, lan: {}}
  branch-pc: {role: host, site: 县A}
  isp:
    role: cloud
    domain: inet
    interfaces: {a: {address: 198.51.100.1/30}, b: {address: 198.51.100.5/30}}
links:
  - srv -- ecore
  - {a: "hq-vpn:lan", b: ecore}
  - {a: "hq-vpn:wan", b: "isp:a", medium: internet}
  - {a: "branch-vpn:wan", b: "isp:b", medium: internet}
  - {a: branch-pc, b: "branch-vpn:lan"}
tunnels:
  - {name: vpn, kind: %(kind)s, a: branch-vpn, b: %(b)s, domain: ext}
""")


def test_ipsec_tunnel_passes(tmp_path):
    net = load(tmp_path, REMOTE % {"kind": "ipsec", "b": "hq-vpn"})
    result = evaluate(net, "encrypted_over", {"domains": ["kind:extranet"]})
    assert result.status == "pass", result.message


def test_gre_tunnel_fails_with_the_clear_hop(tmp_path):
    text = REMOTE % {"kind": "gre", "b": "hq-vpn"}
    result = evaluate(load(tmp_path, text), "encrypted_over", {"domains": ["kind:extranet"]})
    assert result.status == "fail"
    kinds = [e.kind for e in result.evidence]
    assert kinds[0] == "clear_hop"
    first = result.evidence[0]
    assert first.data["tunnel"] == "vpn" and first.data["medium"] == "internet"
    assert "kind: gre" in text.splitlines()[first.marks[0].line - 1]
    traced = [e for e in result.evidence if "trace" in e.data]
    assert traced, "the simulator finds the readable packet on an internet hop"
    hop = traced[0].data["trace"]["hops"][traced[0].data["hop"] - 1]
    assert hop["link"] == traced[0].data["link"] and hop["packet"]["proto"] == "gre"


def test_tunnel_ending_on_the_internet_fails(tmp_path):
    result = evaluate(load(tmp_path, REMOTE % {"kind": "ipsec", "b": "isp"}), "encrypted_over",
                      {"domains": ["kind:extranet"]})
    assert result.status == "fail"
    assert result.evidence[0].kind == "tunnel" and result.evidence[0].data["misplaced"] == ["isp"]


def test_clear_packets_without_any_tunnel_fail(tmp_path):
    # no tunnel, and nothing stops the branch's packets: they cross the internet readable
    text = (REMOTE % {"kind": "ipsec", "b": "hq-vpn"}).split("tunnels:")[0]
    result = evaluate(load(tmp_path, text), "encrypted_over", {"domains": ["kind:extranet"]})
    assert result.status == "fail", result.message
    ev = result.evidence[0]
    assert ev.kind == "clear_hop" and ev.data["medium"] == "internet"
    assert ev.data["packet"]["proto"] == "tcp"


def test_pcap_of_the_clear_hop_is_written(tmp_path):
    from scapy.utils import rdpcap

    from policies.registry import Context

    net = load(tmp_path, (REMOTE % {"kind": "ipsec", "b": "hq-vpn"}).split("tunnels:")[0])
    context = Context(pcap_dir=str(tmp_path / "pcaps"))
    result = evaluate(net, "encrypted_over", {"domains": ["kind:extranet"]}, context=context)
    packets = rdpcap(result.evidence[0].data["pcap"])
    assert len(packets) == len(result.evidence[0].data["trace"]["hops"])


def test_a_static_route_out_over_the_internet_leaks_what_it_covers(tmp_path):
    """Planted: the head office's VPN gateway routes a second server's address out over the internet by a static
    route of its own (not into the tunnel; no probe or demand goes there): the packets it sends there cross the
    internet in clear. Without the route the same plan passes."""
    text = (REMOTE % {"kind": "ipsec", "b": "hq-vpn"}).replace("  srv: {role: server}\n",
                                                              "  srv: {role: server}\n  srv2: {role: server}\n")
    text = text.replace("  - srv -- ecore\n", "  - srv -- ecore\n  - srv2 -- ecore\n")
    assert evaluate(load(tmp_path, text), "encrypted_over", {"domains": ["kind:extranet"]}).status == "pass"
    server = str(load(tmp_path, text).nodes["srv2"].addresses[0].ip)
    leaky = text.replace("    interfaces: {wan: {address: 198.51.100.2/30}, lan: {}}",
                         "    interfaces: {wan: {address: 198.51.100.2/30}, lan: {}}\n"
                         f"    routes: [{{prefix: {server}/32, via: isp}}]")
    result = evaluate(load(tmp_path, leaky), "encrypted_over", {"domains": ["kind:extranet"]})
    assert result.status == "fail", result.message
    hops = [e for e in result.evidence if e.kind == "clear_hop"]
    assert hops and hops[0].data["packet"]["dst"] == server and hops[0].data["medium"] == "internet"
