"""Loading and expanding plans: what a valid plan becomes."""

from __future__ import annotations

import ipaddress
import textwrap

from tests.helpers import write_plan
from topology import domain_graph, hierarchy_tree, load_plan, physical_graph

from .small_plans import SMALL


def test_small_plan_expands(tmp_path):
    net = load_plan(write_plan(tmp_path, SMALL))
    levels = {s.name: s.level for s in net.sites.values()}
    assert levels["云南省"] == "province" and levels["楚雄州"] == "prefecture" and levels["双柏县"] == "county"
    assert sorted(n for n, l in levels.items() if l == "township") == ["双柏县乡镇01", "双柏县乡镇02", "双柏县乡镇03"]
    # templates: a core per county and per township, a star of 3 departments
    assert net.nodes["双柏县核心"].role == "core_router"
    assert net.nodes["双柏县乡镇02核心"].role == "router"  # from the group
    assert net.nodes["双柏县乡镇02核心"].site == "双柏县乡镇02"
    assert {l.other("双柏县核心") for l in net.links_of("双柏县核心")} >= {"楚雄州核心", "双柏县部门01", "双柏县乡镇03核心"}
    # star units inherit the core's site and domain
    assert net.nodes["双柏县部门03"].site == "双柏县" and net.nodes["双柏县部门03"].domain == "ext"
    # aggregation members hang off the aggregation node
    assert {l.other("汇聚1") for l in net.links_of("汇聚1")} == {"楚雄州核心", "州财政局", "州粮食局"}
    # traffic expanded per township towards its county core
    assert sorted(f.src for f in net.flows) == ["双柏县乡镇01核心", "双柏县乡镇02核心", "双柏县乡镇03核心"]
    assert {f.dst for f in net.flows} == {"双柏县核心"}


def test_addresses_are_unique_and_inside_pools(tmp_path):
    net = load_plan(write_plan(tmp_path, SMALL))
    seen = set()
    for node in net.nodes.values():
        pool = net.domains[node.domain].pool
        assert node.loopback.ip in pool
        for address in node.addresses:
            assert address.ip not in seen
            seen.add(address.ip)
    for link in net.links.values():
        a = net.nodes[link.a].interfaces[link.a_if].address
        b = net.nodes[link.b].interfaces[link.b_if].address
        assert a.network == b.network == link.subnet
    # the internet link takes its subnet from the internet pool, as the link says
    assert net.links["fw--isp"].subnet.subnet_of(ipaddress.IPv4Network("203.0.113.0/24"))


def test_loading_is_deterministic(tmp_path):
    path = write_plan(tmp_path, SMALL)
    first, second = load_plan(path), load_plan(path)
    assert [(n.name, n.addresses) for n in first.nodes.values()] == [(n.name, n.addresses) for n in second.nodes.values()]
    assert list(first.links) == list(second.links)


def test_phases_cut_the_network(tmp_path):
    net = load_plan(write_plan(tmp_path, SMALL))
    first = net.at_phase("一期")
    assert "fw--isp" in net.links and "fw--isp" not in first.links
    assert all(i.link in first.links for n in first.nodes.values() for i in n.interfaces.values() if i.link)
    assert net.at_phase("二期").links.keys() == net.links.keys()


def test_graph_views(tmp_path):
    net = load_plan(write_plan(tmp_path, SMALL))
    g = physical_graph(net)
    assert g.number_of_nodes() == len(net.nodes) and g.number_of_edges() == len(net.links)
    ext = domain_graph(net, "ext")
    assert "isp" not in ext and ext.number_of_edges() == len(net.links) - 1
    tree = hierarchy_tree(net)
    assert list(tree.successors("楚雄州")) == ["双柏县"] and tree.in_degree("云南省") == 0


def test_firewall_interface_keeps_acl_and_nat(tmp_path):
    net = load_plan(write_plan(tmp_path, SMALL))
    out = net.nodes["fw"].interfaces["out"]
    assert out.acl_in == "inet_in" and out.nat and out.link == "fw--isp"
    rules = net.acls["inet_in"].rules
    assert [r.index for r in rules] == [1, 2] and rules[0].dport == (443, 443)


def test_compact_link_forms_are_equivalent(tmp_path):
    base = textwrap.dedent("""\
    name: forms
    domains: {d: {kind: extranet, pool: 10.0.0.0/24}}
    sites: {s: {}}
    defaults: {node: {domain: d, site: s, role: router}}
    nodes: {a: {}, b: {interfaces: {g1: {address: 10.0.0.101/30}}}, c: {}}
    links:
    """)
    net = load_plan(write_plan(tmp_path, base + "  - a -- c\n  - [c, b]\n  - {a: a, b: 'b:g1', bandwidth: 10G, latency: 2ms}\n"))
    link = net.links["a--b"]
    assert link.b_if == "g1" and link.bandwidth == 10e9 and link.latency == 0.002
    assert str(net.nodes["a"].interfaces[link.a_if].address) == "10.0.0.102/30"
    assert {l.name for l in net.links.values()} == {"a--c", "c--b", "a--b"}


def test_includes_merge_sections(tmp_path):
    write_plan(tmp_path, """\
    nodes: {b: {}}
    links: [a -- b]
    """, "parts/more.yaml")
    net = load_plan(write_plan(tmp_path, """\
    name: inc
    include: [parts/more.yaml]
    domains: {d: {kind: extranet, pool: 10.0.0.0/24}}
    sites: {s: {}}
    defaults: {node: {domain: d, site: s, role: router}}
    nodes: {a: {}}
    """))
    assert set(net.nodes) == {"a", "b"} and "a--b" in net.links
