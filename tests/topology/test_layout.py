"""The hierarchy layout: levels on bands, children under parents, stars per domain, determinism."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from itertools import combinations, pairwise

import pytest

from tests.helpers import REPO, write_plan
from topology import load_plan
from topology.layout import MAX_ASPECT, hierarchy_layout

PLAN = """\
name: layout
domains:
  ext: {kind: extranet, pool: 10.53.0.0/16}
  intra: {kind: intranet, clearance: 秘密, pool: 10.60.0.0/16}
  inet: {kind: internet, pool: 203.0.113.0/24}
sites:
  云南省:
    children:
      楚雄州:
        children:
          双柏县: {generate: {count: 9}}
          牟定县: {generate: {count: 2}}
          南华县: {}
phases: {一期: {}, 二期: {}}
defaults:
  node: {domain: ext}
  link: {bandwidth: 100M}
level_templates:
  county: [county]
  township: [town]
templates:
  county:
    nodes: {"{site}核心": {role: core_router}}
    links: ["{site}核心 -- {prefecture}核心"]
    stars: [{core: "{site}核心", count: 3, name: "{site}部门{i:02d}"}]
  town:
    nodes: {"{site}核心": {role: router}}
    links: ["{site}核心 -- {county}核心"]
nodes:
  云南省核心: {role: core_router, site: 云南省}
  楚雄州核心: {role: core_router, site: 楚雄州}
  fw: {role: firewall, site: 楚雄州}
  isp: {role: cloud, site: 楚雄州, domain: inet}
  州内网核心: {role: core_router, site: 楚雄州, domain: intra}
  州内网终端: {role: host, site: 楚雄州, domain: intra}
links:
  - 楚雄州核心 -- 云南省核心
  - 楚雄州核心 -- fw
  - {a: fw, b: isp, medium: internet}
  - 州内网核心 -- 州内网终端
stars:
  - {core: 楚雄州核心, units: [州发改委, 州公安局, 州统计局], site: 楚雄州}
aggregations:
  - {name: 汇聚1, core: 楚雄州核心, members: [州财政局, 州粮食局, 州商务局], site: 楚雄州}
  - {name: 汇聚2, core: 楚雄州核心, members: [州农业局, 州林业局], site: 楚雄州, phase: 二期}
"""


def wide_plan(prefectures: int, counties: int) -> str:
    """A province far wider than high: many prefectures with many counties each."""
    lines = ["name: wide", "domains: {ext: {kind: extranet, pool: 10.0.0.0/8}}", "sites:", "  省:", "    children:"]
    for p in range(prefectures):
        lines += [f"      州{p:02d}:", "        children:"]
        lines += [f"          州{p:02d}县{c:02d}: {{generate: {{count: 4}}}}" for c in range(counties)]
    lines += [
        "defaults: {node: {domain: ext}}",
        "level_templates: {county: [county], township: [town]}",
        "templates:",
        "  county: {nodes: {'{site}核心': {role: core_router}}, stars: [{core: '{site}核心', count: 5}]}",
        "  town: {nodes: {'{site}核心': {role: router}}, links: ['{site}核心 -- {county}核心']}",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    return load_plan(write_plan(tmp_path_factory.mktemp("layout"), PLAN))


def site_nodes(net, layout) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for name, point in layout.nodes.items():
        out.setdefault(net.nodes[name].site, []).append(point)
    return out


def subtree_nodes(net, layout, site: str) -> list[tuple[float, float]]:
    return [p for n, p in layout.nodes.items() if site in net.site_ancestors(net.nodes[n].site)]


def test_every_node_is_placed(net):
    layout = hierarchy_layout(net)
    assert list(layout.nodes) == list(net.nodes)
    assert all(math.isfinite(x) and math.isfinite(y) for x, y in layout.nodes.values())


def test_every_level_lies_below_its_parent(net):
    layout = hierarchy_layout(net)
    by_site = site_nodes(net, layout)
    for site in net.sites.values():
        if site.parent in by_site and site.name in by_site:
            assert max(y for _, y in by_site[site.name]) < min(y for _, y in by_site[site.parent]), site.name
        if site.parent in layout.sites:
            assert layout.sites[site.name][1] < layout.sites[site.parent][1]
    tops = layout.bands
    order = ["province", "prefecture", "county", "township"]
    assert [level for level in order if level in tops] == order
    assert all(tops[a][0] > tops[b][0] for a, b in pairwise(order))


def test_children_sit_under_their_parent_and_subtrees_do_not_overlap(net):
    layout = hierarchy_layout(net)
    for parent in net.sites:
        kids = [s.name for s in net.sites.values() if s.parent == parent]
        if not kids:
            continue
        xs = [layout.sites[k][0] for k in kids]
        assert min(xs) - 1e-9 <= layout.sites[parent][0] <= max(xs) + 1e-9, parent
        spans = sorted((min(x for x, _ in subtree_nodes(net, layout, k)), max(x for x, _ in subtree_nodes(net, layout, k)),
                        layout.sites[k][1]) for k in kids)
        for (_, right, y1), (left, _, y2) in pairwise(spans):
            assert right < left or y1 != y2, f"subtrees under {parent} overlap"


def test_no_two_nodes_overlap(net):
    layout = hierarchy_layout(net)
    for (a, pa), (b, pb) in combinations(layout.nodes.items(), 2):
        assert math.dist(pa, pb) >= 0.9, (a, b)


def test_star_puts_core_in_the_middle_and_members_around_their_aggregation(net):
    layout = hierarchy_layout(net)
    core = layout.nodes["楚雄州核心"]
    units = ["州发改委", "州公安局", "州统计局", "fw"]
    assert all(math.isclose(math.dist(core, layout.nodes[u]), math.dist(core, layout.nodes[units[0]])) for u in units)
    for agg, members in (("汇聚1", ["州财政局", "州粮食局", "州商务局"]), ("汇聚2", ["州农业局", "州林业局"])):
        for member in members:
            assert math.dist(layout.nodes[member], layout.nodes[agg]) < math.dist(layout.nodes[member], core)
            assert layout.hubs[member] == agg
        assert layout.hubs[agg] == "楚雄州核心"


def test_domains_at_one_site_stay_apart_and_isolated_ones_go_last(net):
    layout = hierarchy_layout(net)
    ext = [p for n, p in layout.nodes.items() if net.nodes[n].site == "楚雄州" and net.nodes[n].domain == "ext"]
    intra = [p for n, p in layout.nodes.items() if net.nodes[n].domain == "intra"]
    inet = [layout.nodes["isp"]]
    # ext and inet are linked (fw -- isp); intra is linked to neither, so no ext--inet line crosses it
    assert max(x for x, _ in ext) < min(x for x, _ in inet)
    assert max(x for x, _ in inet) < min(x for x, _ in intra)


def test_many_leaf_sites_wrap_into_rows_under_their_parent(net):
    layout = hierarchy_layout(net)
    towns = [s.name for s in net.sites.values() if s.parent == "双柏县"]
    assert len({layout.sites[t][1] for t in towns}) > 1  # 9 townships: more than one row
    county_y = layout.sites["双柏县"][1]
    assert all(layout.sites[t][1] < county_y for t in towns)


def test_a_subset_and_a_phase_are_laid_out_alone(net):
    layout = hierarchy_layout(net, [n for n, v in net.nodes.items() if v.domain == "intra"])
    assert set(layout.nodes) == {"州内网核心", "州内网终端"}
    assert set(layout.sites) == {"云南省", "楚雄州"}  # sites without any of the nodes are left out
    first = hierarchy_layout(net.at_phase("一期"))
    assert "汇聚2" not in first.nodes and "汇聚1" in first.nodes


def test_label_room_widens_the_star(net):
    plain = hierarchy_layout(net)
    roomy = hierarchy_layout(net, label_room=dict.fromkeys(net.nodes, 3.0))
    def width(layout):
        xs = [x for n, (x, _) in layout.nodes.items() if net.nodes[n].site == "楚雄州"]
        return max(xs) - min(xs)
    assert width(roomy) > width(plain) + 3.0


def test_layout_is_deterministic(net, tmp_path):
    assert hierarchy_layout(net) == hierarchy_layout(net)
    plan = write_plan(tmp_path, PLAN)
    code = ("import sys; from topology import load_plan; from topology.layout import hierarchy_layout;"
            f"l = hierarchy_layout(load_plan({str(plan)!r})); print(sorted(l.nodes.items()), sorted(l.sites.items()))")
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_a_very_wide_plan_is_folded_into_strips(tmp_path):
    net = load_plan(write_plan(tmp_path, wide_plan(prefectures=12, counties=8)))
    layout = hierarchy_layout(net)
    xmin, ymin, xmax, ymax = layout.bounds()
    assert (xmax - xmin) / (ymax - ymin) <= MAX_ASPECT
    assert len(layout.bands["prefecture"]) > 1  # several strips, each with its own bands
    by_site = site_nodes(net, layout)
    for site in net.sites.values():
        if site.parent in by_site and site.name in by_site:
            assert max(y for _, y in by_site[site.name]) < min(y for _, y in by_site[site.parent])
