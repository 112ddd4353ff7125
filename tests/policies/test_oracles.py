"""More oracles on generated networks, each against a brute force written apart from the rule's code:
unified_channel (the site tree in networkx, generated from 中央 or a province down), zone_placement
(networkx shortest paths), vrf_separation and encrypted_over (packets walked one by one through the forwarding engine)."""

from __future__ import annotations

import re

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.vrf_separation import MAX_EVIDENCE
from simulator.forwarding import build_forwarding
from simulator.packets import Header
from tests.helpers import write_plan
from topology import load_plan

from .common import evaluate

# -- unified_channel -----------------------------------------------------------------------------

UC_HEAD = """\
name: gen
domains: {d: {kind: extranet, pool: 10.0.0.0/16}, o: {kind: intranet, pool: 10.1.0.0/16}}
defaults: {node: {domain: d}}
"""
LEVEL_ORDER = ["central", "province", "prefecture", "county", "township", "village"]  # written out: the oracle's own


@st.composite
def site_trees(draw):
    """Site -> (parent, level): one or two top sites at 中央 (central) or province, each child one level lower."""
    tree: dict[str, tuple[str | None, str]] = {}
    for r in range(draw(st.integers(1, 2))):
        tree[f"R{r}"] = (None, draw(st.sampled_from(["central", "province"])))
    for i in range(draw(st.integers(0, 6))):
        open_sites = sorted(s for s, (_, lv) in tree.items() if lv != LEVEL_ORDER[-1])
        parent = draw(st.sampled_from(open_sites))
        tree[f"S{i}"] = (parent, LEVEL_ORDER[LEVEL_ORDER.index(tree[parent][1]) + 1])
    return tree


def sites_yaml(tree: dict[str, tuple[str | None, str]]) -> str:
    """The ``sites:`` section of ``tree`` (flow style, every level written out)."""
    def block(parent: str | None) -> str:
        return ", ".join(f"{s}: {{level: {lv}, children: {{{block(s)}}}}}" for s, (p, lv) in tree.items() if p == parent)
    return f"sites: {{{block(None)}}}"


@st.composite
def channel_plans(draw):
    tree = draw(site_trees())
    nodes = [(f"n{i}", draw(st.sampled_from(["host", "core_router", "router"])), draw(st.sampled_from(sorted(tree))),
              draw(st.sampled_from(["d", "d", "o"]))) for i in range(draw(st.integers(2, 7)))]
    links: list[tuple[int, int, bool]] = []
    for _ in range(draw(st.integers(1, 8))):
        a, b = draw(st.integers(0, len(nodes) - 1)), draw(st.integers(0, len(nodes) - 1))
        if a != b and (a, b) not in [(x, y) for x, y, _ in links] and (b, a) not in [(x, y) for x, y, _ in links]:
            links.append((a, b, draw(st.booleans())))
    return tree, nodes, links


@settings(max_examples=50)
@given(channel_plans())
def test_oracle_unified_channel(tmp_path_factory, spec):
    site_tree, nodes, links = spec
    lines = [UC_HEAD, sites_yaml(site_tree), "nodes:"]
    lines += [f"  {n}: {{role: {r}, site: {s}, domain: {d}}}" for n, r, s, d in nodes]
    lines += ["links:" if links else "links: []"]
    lines += [f"  - {{a: {nodes[a][0]}, b: {nodes[b][0]}, channel: {str(c).lower()}}}" for a, b, c in links]
    net = load_plan(write_plan(tmp_path_factory.mktemp("uc"), "\n".join(lines) + "\n"))
    assert {s: (net.sites[s].parent, net.sites[s].level) for s in site_tree} == site_tree
    tree = nx.DiGraph([(p, c) for c, (p, _) in site_tree.items() if p])
    tree.add_nodes_from(site_tree)
    expected = set()
    for a, b, channel in links:
        (_, ra, sa, da), (_, rb, sb, db) = nodes[a], nodes[b]
        if da != db or da != "d":
            continue
        vertical = sa == sb or nx.has_path(tree, sa, sb) or nx.has_path(tree, sb, sa)
        if not channel or not vertical or (ra == "host" and rb == "host"):
            expected.add(frozenset((nodes[a][0], nodes[b][0])))
    result = evaluate(net, "unified_channel", {"domains": ["kind:extranet"]})
    assert {frozenset((e.data["a"], e.data["b"])) for e in result.evidence} == expected
    for e in result.evidence:  # a side link is joined where the two branches meet: 中央 for two provinces
        if e.data["finding"] == "side_link":
            sa, sb = e.data["sites"]
            assert e.data["via"] == nx.lowest_common_ancestor(tree, sa, sb)
            assert e.data["levels"] == [site_tree[sa][1], site_tree[sb][1]]


# -- zone_placement ------------------------------------------------------------------------------

ZP_HEAD = """\
name: gen
domains: {d: {kind: extranet, pool: 10.0.0.0/16}, i: {kind: internet, pool: 10.9.0.0/16}}
sites: {s: {}}
defaults: {node: {site: s, domain: d}}
"""


@st.composite
def edge_plans(draw):
    roles = [draw(st.sampled_from(["server", "router", "firewall", "host", "cloud"])) for _ in range(draw(st.integers(2, 8)))]
    edges = set()
    for _ in range(draw(st.integers(0, 10))):
        a, b = draw(st.integers(0, len(roles) - 1)), draw(st.integers(0, len(roles) - 1))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    return roles, sorted(edges), draw(st.integers(1, 4))


@settings(max_examples=50)
@given(edge_plans())
def test_oracle_zone_placement(tmp_path_factory, spec):
    roles, edges, hops = spec
    lines = [ZP_HEAD, "nodes:"]
    lines += [f"  n{i}: {{role: {r}{', domain: i' if r == 'cloud' else ''}}}" for i, r in enumerate(roles)]
    lines += ["links:" if edges else "links: []"] + [f"  - n{a} -- n{b}" for a, b in edges]
    net = load_plan(write_plan(tmp_path_factory.mktemp("zp"), "\n".join(lines) + "\n"))
    graph = nx.Graph()
    graph.add_nodes_from(range(len(roles)))
    graph.add_edges_from(edges)
    clouds = [i for i, r in enumerate(roles) if r == "cloud"]
    expected = set()
    for i, r in enumerate(roles):
        if r != "server":
            continue
        dist = [nx.shortest_path_length(graph, i, c) for c in clouds if nx.has_path(graph, i, c)]
        if dist and min(dist) < hops:
            expected.add(f"n{i}")
    result = evaluate(net, "zone_placement", {"min_hops": hops})
    assert {e.data["node"] for e in result.evidence} == expected


# -- vrf_separation --------------------------------------------------------------------------------

VRF_HEAD = """\
name: gen
domains: {d: {kind: extranet, pool: 10.0.0.0/16}}
sites: {s: {}}
defaults: {node: {site: s, domain: d}}
"""


@st.composite
def vrf_plans(draw):
    n = draw(st.integers(2, 4))
    imports = {v: sorted({w for w in range(n) if w != v and draw(st.integers(0, 3)) == 0}) for v in range(n)}
    hosts = [draw(st.integers(1, 2)) for _ in range(n)]
    return n, imports, hosts


@settings(max_examples=30)
@given(vrf_plans())
def test_oracle_vrf_separation(tmp_path_factory, spec):
    n, imports, hosts = spec
    lines = [VRF_HEAD, "vrfs:"]
    lines += [f"  v{v}: {{domain: d, import: [{', '.join(f'v{w}' for w in imports[v])}]}}" for v in range(n)]
    ifaces = ", ".join(f"i{v}_{k}: {{vrf: v{v}}}" for v in range(n) for k in range(hosts[v]))
    lines += ["nodes:", f"  pe: {{role: core_router, interfaces: {{{ifaces}}}}}"]
    lines += [f"  h{v}_{k}: {{role: host, vrf: v{v}}}" for v in range(n) for k in range(hosts[v])]
    lines += ["links:"] + [f"  - {{a: h{v}_{k}, b: 'pe:i{v}_{k}'}}" for v in range(n) for k in range(hosts[v])]
    net = load_plan(write_plan(tmp_path_factory.mktemp("vrf"), "\n".join(lines) + "\n"))
    fw = build_forwarding(net)
    leaks = set()
    names = [(f"h{v}_{k}", v) for v in range(n) for k in range(hosts[v])]
    for src, sv in names:
        for dst, dv in names:
            if sv == dv:
                continue
            steps = fw.walk(src, Header.make(fw.primary_address(src), fw.primary_address(dst), "tcp", 40000, 443))
            if steps[-1].decision == "delivered" and steps[-1].node == dst:
                leaks.add((src, dst))
    bad_imports = any(imports[v] for v in range(n))
    result = evaluate(net, "vrf_separation", {"domains": ["kind:extranet"], "shared": []})
    shown = {(e.data["src_node"], e.data["dst_node"]) for e in result.evidence if e.kind == "packet"}
    assert shown <= leaks and (shown == leaks or len(result.evidence) == MAX_EVIDENCE)
    counted = re.search(r"(\d+) class(?:es)? of packets leak", result.message)
    assert (int(counted.group(1)) if counted else 0) == len(leaks)  # one class per pair: no ACL splits them
    assert (result.status == "fail") == (bool(leaks) or bad_imports)


# -- encrypted_over --------------------------------------------------------------------------------

EO_HEAD = """\
name: gen
domains: {d: {kind: extranet, pool: 10.0.0.0/16}, i: {kind: internet, pool: 198.51.100.0/24}}
sites: {s: {}}
defaults: {node: {site: s, domain: d}}
nodes:
  core: {role: core_router}
  srv: {role: server}
  hub: {role: vpn_gateway}
  isp: {role: cloud, domain: i}
links:
  - srv -- core
  - hub -- core
  - {a: hub, b: isp, medium: internet}
"""


@settings(max_examples=25)
@given(st.lists(st.sampled_from(["ipsec", "gre", "null", "none"]), min_size=1, max_size=3))
def test_oracle_encrypted_over(tmp_path_factory, branches):
    lines = [EO_HEAD.replace("nodes:\n", "nodes:\n" + "".join(
        f"  gw{k}: {{role: vpn_gateway}}\n  pc{k}: {{role: host}}\n" for k in range(len(branches))))]
    lines += [f"  - {{a: gw{k}, b: isp, medium: internet}}\n  - pc{k} -- gw{k}" for k in range(len(branches))]
    tunnels = [f"  - {{name: t{k}, kind: {'gre' if kind == 'gre' else 'ipsec'}, a: gw{k}, b: hub, domain: d"
               + (", cipher: 'NULL'" if kind == "null" else "") + "}" for k, kind in enumerate(branches) if kind != "none"]
    if tunnels:
        lines += ["tunnels:"] + tunnels
    net = load_plan(write_plan(tmp_path_factory.mktemp("eo"), "\n".join(lines) + "\n"))
    fw = build_forwarding(net)
    clear = False
    for k in range(len(branches)):
        for src, dst in ((f"pc{k}", "srv"), ("srv", f"pc{k}")):
            steps = fw.walk(src, Header.make(fw.primary_address(src), fw.primary_address(dst), "tcp", 40000, 443))
            if steps[-1].decision != "delivered" or steps[-1].node != dst:
                continue
            for s in steps:
                if s.link and net.links[s.link].medium == "internet":
                    tunnel = net.tunnels.get(s.header.tunnel) if s.header.inner is not None else None
                    if tunnel is None or not tunnel.encrypted:
                        clear = True
    unencrypted = any(kind in ("gre", "null") for kind in branches)
    result = evaluate(net, "encrypted_over", {"domains": ["kind:extranet"]})
    assert any(e.kind == "clear_hop" and "trace" in e.data for e in result.evidence) == clear
    assert (result.status == "fail") == (clear or unencrypted)
