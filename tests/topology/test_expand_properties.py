"""Expansion of generated hierarchies, checked against counts computed independently."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import write_plan
from topology import hierarchy_tree, load_plan, physical_graph

HEAD = """\
name: gen
domains: {ext: {kind: extranet, pool: 10.0.0.0/12}}
defaults: {node: {domain: ext}}
level_templates:
  province: [core]
  prefecture: [core, uplink, star]
  county: [core, uplink, star]
  township: [core, uplink]
templates:
  core: {nodes: {"{site}核心": {role: core_router}}}
  uplink: {links: ["{site}核心 -- {parent}核心"]}
  star: {stars: [{core: "{site}核心", count: %(units)d, name: "{site}单位{i:02d}"}]}
"""


@st.composite
def provinces(draw):
    prefectures = draw(st.lists(st.lists(st.integers(0, 4), max_size=4), min_size=1, max_size=4))
    return prefectures, draw(st.integers(0, 3))


def plan_text(prefectures: list[list[int]], units: int) -> str:
    lines = [HEAD % {"units": units}, "sites:", "  省:", "    children:"]
    for p, counties in enumerate(prefectures):
        lines.append(f"      州{p}:")
        lines.append("        children:" if counties else "        children: {}")
        for c, towns in enumerate(counties):
            gen = f"{{generate: {{count: {towns}}}}}" if towns else "{}"
            lines.append(f"          县{p}_{c}: {gen}")
    return "\n".join(lines) + "\n"


@settings(max_examples=40)
@given(provinces())
def test_counts_and_tree_shape(tmp_path_factory, spec):
    prefectures, units = spec
    net = load_plan(write_plan(tmp_path_factory.mktemp("x"), plan_text(prefectures, units)))
    n_pref = len(prefectures)
    n_county = sum(len(c) for c in prefectures)
    n_town = sum(sum(c) for c in prefectures)
    sites = 1 + n_pref + n_county + n_town
    assert len(net.sites) == sites
    # a core per site, a star of `units` per prefecture and county
    assert len(net.nodes) == sites + units * (n_pref + n_county)
    # every site but the province has an uplink, every unit a star link: the whole plan is one tree
    assert len(net.links) == len(net.nodes) - 1
    g = physical_graph(net)
    assert g.number_of_nodes() == len(net.nodes)
    import networkx as nx
    assert nx.is_tree(nx.Graph(g))
    # each uplink joins a site's core to its parent's core
    tree = hierarchy_tree(net)
    for site in net.sites.values():
        if site.parent:
            assert g.has_edge(f"{site.name}核心", f"{site.parent}核心")
            assert tree.has_edge(site.parent, site.name)
