"""The shipped scenarios and their planted-fault variants.

Every ``scenarios/*/plan.yaml`` and ``scenarios/*/faults/*.yaml`` loads; the
facts the source plans give (``shared/DOMAIN.md``, ``shared/seeds/``) hold in the
expanded model; each planted-fault variant differs from its base plan in exactly
the one thing its header names. Counts are computed from the loaded model; the
expected values are the seeds' numbers.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from tests.helpers import scenario_plan, shipped_plans
from topology import load_plan, physical_graph
from topology.graphs import domain_graph

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
PLANS = shipped_plans()
VARIANTS = sorted(SCENARIOS.glob("*/faults/*.yaml"))
# the five faults the plan-format issue asks for, all planted in chuxiong; other scenarios may plant more kinds
CHUXIONG_FAULT_KINDS = {"physical_isolation", "logical_isolation", "encrypted_over", "unified_channel", "capacity",
                        "delivery", "coverage", "classification", "default_deny"}
RULE_KINDS = CHUXIONG_FAULT_KINDS | {"classification"}
EXPECTED_SCENARIOS = {"chuxiong", "weihai", "changchun", "xiushan", "civil-affairs", "yunnan"}


@functools.cache
def net_of(path: Path):
    return load_plan(path)


def plan(name: str):
    return net_of(scenario_plan(name))


def neighbours(net, node: str) -> list[str]:
    return [link.other(node) for link in net.links_of(node)]


def kinds_of(net) -> dict[str, str]:
    return {name: d.kind for name, d in net.domains.items()}


# -- everything loads ----------------------------------------------------------

def test_all_scenarios_are_shipped():
    assert {p.parent.name for p in PLANS} >= EXPECTED_SCENARIOS


@pytest.mark.parametrize("path", PLANS + VARIANTS, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_loads(path):
    net = net_of(path)
    assert net.nodes and net.links
    assert net.policies, "every scenario names the packs it must pass"
    assert net.assumptions, "numbers the seeds do not give are listed as planning assumptions"


def test_govnet_validate_cli_on_every_scenario():
    cli = Path(sys.executable).with_name("govnet")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "govnet.cli"]
    result = subprocess.run(command + ["validate", *map(str, PLANS)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok (") == len(PLANS)


def test_domain_pools_are_explicit_and_disjoint():
    for path in PLANS:
        net = net_of(path)
        pools = [d.pool for d in net.domains.values()]
        assert all(p is not None for p in pools), path
        for i, a in enumerate(pools):
            for b in pools[i + 1:]:
                assert not a.overlaps(b), (path, a, b)


def test_every_firewall_denies_by_default_and_every_acl_ends_in_deny():
    for path in PLANS:
        net = net_of(path)
        for node in net.nodes.values():
            if node.role in ("firewall", "vpn_gateway"):
                assert node.default_action == "deny", (path, node.name)
        for acl in net.acls.values():
            last = acl.rules[-1]
            assert last.action == "deny" and last.src.prefixlen == 0 and last.dst.prefixlen == 0 and last.proto == "ip", \
                (path, acl.name)


def test_included_parts_stay_inside_the_scenario_folder():
    for path in PLANS + VARIANTS:
        scenario = SCENARIOS / path.relative_to(SCENARIOS).parts[0]
        text = path.read_text(encoding="utf-8")
        for line in re.findall(r"^\s*-\s*(\S+\.yaml)", text, re.M):
            assert (path.parent / line).resolve().is_relative_to(scenario.resolve()), (path, line)


# -- Chuxiong (seed 004-2) ------------------------------------------------------

CHUXIONG_COUNTIES = {"楚雄市", "双柏县", "牟定县", "南华县", "姚安县", "大姚县", "永仁县", "元谋县", "武定县", "禄丰县"}
CHUXIONG_AGGREGATIONS = [  # DOMAIN.md / seed 004-2: the four 二级节点 and their member units
    {"州财政局", "州计生委", "州粮食局", "州商务局"},
    {"州农业局", "州林业局", "州宗教事务局", "州卫生监督所"},
    {"州档案局", "州教育局", "州交通局", "州干休所", "州民族中学"},
    {"州司法局", "州建设局", "州扶贫办", "州环保局", "州民政局"},
]
PREFECTURE_CORE = "楚雄州外网核心"


def test_chuxiong_is_the_default_scenario():
    from topology import default_plan_path

    assert default_plan_path().resolve() == (SCENARIOS / "chuxiong" / "plan.yaml").resolve()


def test_chuxiong_uplinks_to_the_yunnan_provincial_extranet():
    net = plan("chuxiong")
    province = [s for s in net.sites.values() if s.level == "province"]
    assert [s.name for s in province] == ["云南省"]
    core = net.nodes[PREFECTURE_CORE]
    assert core.role == "core_router" and net.sites[core.site].level == "prefecture"
    upstream = [n for n in neighbours(net, PREFECTURE_CORE) if net.level_of(n) == "province"]
    assert len(upstream) == 1 and net.nodes[upstream[0]].role == "core_router"


def test_chuxiong_has_ten_counties_each_with_a_core_uplinked_to_the_prefecture():
    net = plan("chuxiong")
    counties = {s.name for s in net.sites.values() if s.level == "county"}
    assert counties == CHUXIONG_COUNTIES
    assert all(net.sites[c].parent == "楚雄州" for c in counties)
    uplinked = {net.nodes[n].site for n in neighbours(net, PREFECTURE_CORE)
                if net.nodes[n].role == "core_router" and net.level_of(n) == "county"}
    assert uplinked == CHUXIONG_COUNTIES
    for county in counties:
        cores = [n for n in net.nodes.values() if n.site == county and n.role == "core_router"]
        assert len(cores) == 1
        units = [x for x in neighbours(net, cores[0].name) if net.nodes[x].role == "host" and "部门" in net.nodes[x].tags]
        assert len(units) >= 10, county
        assert all(l.medium == "leased_fibre" for l in net.links_of(cores[0].name)
                   if l.other(cores[0].name) in units)


def test_chuxiong_townships_are_generated_below_every_county():
    net = plan("chuxiong")
    townships = Counter(s.parent for s in net.sites.values() if s.level == "township")
    assert set(townships) == CHUXIONG_COUNTIES
    assert 80 <= sum(townships.values()) <= 130


def test_chuxiong_forty_units_on_the_public_affairs_centre_lan():
    net = plan("chuxiong")
    switches = [n for n in net.nodes.values() if n.role == "switch" and "公务活动中心" in n.name]
    assert len(switches) == 1
    centre = switches[0].name
    units = [l.other(centre) for l in net.links_of(centre)
             if l.medium == "lan" and net.nodes[l.other(centre)].role == "host"]
    assert len(units) == 40
    assert {"州发改委", "州劳动和社会保障局"} <= set(units)
    assert all(net.nodes[u].phase == net.phase_index("一期") for u in units)


def test_chuxiong_four_aggregation_nodes_with_exactly_the_listed_members():
    net = plan("chuxiong")
    aggregations = [n.name for n in net.nodes.values() if n.role == "aggregation"]
    assert len(aggregations) == 4
    members = []
    for agg in aggregations:
        uplinks = [l for l in net.links_of(agg) if l.other(agg) == PREFECTURE_CORE]
        assert len(uplinks) == 1 and uplinks[0].medium == "leased_fibre"
        members.append({l.other(agg) for l in net.links_of(agg) if l.other(agg) != PREFECTURE_CORE})
    assert sorted(map(sorted, members)) == sorted(map(sorted, CHUXIONG_AGGREGATIONS))
    # the four fibres serve 州委, 州人大, 州政府, 州政协
    served = {o for agg in aggregations for o in ("州委", "州人大", "州政府", "州政协") if agg.startswith(o)}
    assert served == {"州委", "州人大", "州政府", "州政协"}


def test_chuxiong_two_phases_and_phase_two_units_absent_from_phase_one():
    net = plan("chuxiong")
    assert [(p.name, p.start, p.end) for p in net.phases] == [("一期", "2005-01", "2006-06"), ("二期", "2006-07", "2008-12")]
    first = net.at_phase("一期")
    second = net.phase_index("二期")
    phase2_units = [n.name for n in net.nodes.values()
                    if n.phase == second and n.role == "host" and net.level_of(n.name) == "prefecture"]
    assert len(phase2_units) >= 10
    for name in phase2_units:
        assert name not in first.nodes
        # remaining prefecture units join by leased fibre
        assert all(l.medium == "leased_fibre" for l in net.links_of(name))
    assert set(first.nodes) < set(net.nodes)
    assert all(l.a in first.nodes and l.b in first.nodes for l in first.links.values())
    # everything listed in the seed for phase 1 is there in phase 1
    for members in CHUXIONG_AGGREGATIONS:
        assert members <= set(first.nodes)


def test_chuxiong_intranet_and_extranet_share_no_link_nor_path():
    net = plan("chuxiong")
    kinds = kinds_of(net)
    intranet = {n.name for n in net.nodes.values() if kinds[n.domain] == "intranet"}
    assert intranet
    for link in net.links.values():
        ends = {kinds[net.nodes[link.a].domain], kinds[net.nodes[link.b].domain]}
        assert not ("intranet" in ends and len(ends) > 1), link.name
    graph = physical_graph(net)
    component = nx.node_connected_component(graph, next(iter(intranet)))
    assert component == intranet


def test_chuxiong_main_sites_servers_and_video_cascade():
    net = plan("chuxiong")
    services = Counter(s for n in net.nodes.values() for s in n.services)
    for service in ("mail", "vod", "approval", "document_exchange", "portal", "video_mcu"):
        assert services[service] >= 1, service
    # document exchange: province 一级中心, prefecture 二级中心, one 三级中心 per county
    exchange = Counter(net.level_of(n.name) for n in net.nodes.values()
                       if "document_exchange" in n.services and n.role == "server")
    assert exchange == {"province": 1, "prefecture": 1, "county": 10}
    # MCUs cascade province -> prefecture -> county
    mcus = {n.name: n for n in net.nodes.values() if n.role == "mcu"}
    levels = {name: net.level_of(name) for name in mcus}
    for name, node in mcus.items():
        if levels[name] == "province":
            assert node.mcu_parent is None
        else:
            parent = node.mcu_parent
            assert parent in mcus
            expected = {"prefecture": "province", "county": "prefecture"}[levels[name]]
            assert levels[parent] == expected
    assert Counter(levels.values()) == {"province": 1, "prefecture": 1, "county": 10}
    # the portal lives in a DMZ
    portal = [n for n in net.nodes.values() if "portal" in n.services]
    assert portal and all(kinds_of(net)[n.domain] == "dmz" for n in portal)


def test_chuxiong_six_databases_with_owners():
    net = plan("chuxiong")
    databases = [n for n in net.nodes.values() if n.role == "server" and "database" in n.services]
    assert len(databases) == 6
    owners = {frozenset(t for t in n.tags if t != "六大资源库") for n in databases}
    assert owners == {frozenset({"州公安局"}), frozenset({"州质量技术监督局"}), frozenset({"州国土资源局"}),
                      frozenset({"州发改委", "州统计局"}), frozenset({"州统计局", "州志办"}),
                      frozenset({"州政府办公室", "州档案局"})}


def test_chuxiong_internet_zone_behind_a_default_deny_firewall_with_nat():
    net = plan("chuxiong")
    kinds = kinds_of(net)
    internet_nodes = {n.name for n in net.nodes.values() if kinds[n.domain] == "internet"}
    firewalls = [n for n in net.nodes.values() if n.role == "firewall"]
    assert len(firewalls) == 1
    fw = firewalls[0]
    outside = [i for i in fw.interfaces.values()
               if i.link and net.links[i.link].other(fw.name) in internet_nodes]
    assert len(outside) == 1 and outside[0].nat and outside[0].acl_in
    assert all(i.acl_in for i in fw.interfaces.values() if i.link)
    # every link into the internet ends at a firewall or a VPN gateway
    for link in net.links.values():
        if {link.a, link.b} & internet_nodes:
            other = link.b if link.a in internet_nodes else link.a
            assert net.nodes[other].role in ("firewall", "vpn_gateway"), link.name
            assert link.medium == "internet"
    # remote access over the internet is an encrypted tunnel
    assert net.tunnels and all(t.kind == "ipsec" and t.encrypted for t in net.tunnels.values())


def test_chuxiong_traffic_is_declared_per_site_class():
    net = plan("chuxiong")
    kinds = Counter(f.kind for f in net.flows)
    assert kinds["video"] and kinds["document_exchange"] and kinds["email"] and kinds["approval"] and kinds["internet"]
    video = [f for f in net.flows if f.kind == "video"]
    assert {f.rate for f in video} == {4e6}
    text = "".join(p.read_text(encoding="utf-8") for p in (SCENARIOS / "chuxiong").rglob("*.yaml"))
    assert text.count("service:") < 40, "traffic is declared per site class, not per flow"


# -- Yunnan (the province at scale) ---------------------------------------------

YUNNAN_PREFECTURES = {"昆明市", "曲靖市", "玉溪市", "保山市", "昭通市", "丽江市", "普洱市", "临沧市",
                      "楚雄州", "红河州", "文山州", "西双版纳州", "大理州", "德宏州", "怒江州", "迪庆州"}


def test_yunnan_sixteen_prefectures_129_counties_about_1400_townships():
    net = plan("yunnan")
    levels = Counter(s.level for s in net.sites.values())
    assert levels["province"] == 1
    prefectures = {s.name for s in net.sites.values() if s.level == "prefecture"}
    assert prefectures == YUNNAN_PREFECTURES
    assert levels["county"] == 129  # 129 county mail domains (seed 004-2)
    counties_per_prefecture = Counter(s.parent for s in net.sites.values() if s.level == "county")
    assert counties_per_prefecture["楚雄州"] == 10
    assert counties_per_prefecture["昆明市"] == 14
    townships = Counter(s.parent for s in net.sites.values() if s.level == "township")
    assert len(townships) == 129, "every county has townships"
    assert 1300 <= levels["township"] <= 1500
    assert levels["township"] == sum(townships.values())


def test_yunnan_every_level_has_core_exchange_centre_mcu_and_uplink():
    net = plan("yunnan")
    by_site: dict[str, Counter] = {}
    for n in net.nodes.values():
        by_site.setdefault(n.site, Counter()).update([n.role] + [f"svc:{s}" for s in n.services])
    for site in net.sites.values():
        have = by_site.get(site.name, Counter())
        if site.level == "township":
            assert have["router"] == 1, site.name
            continue
        assert have["core_router"] == (2 if site.level == "province" else 1), site.name  # + the backup core
        assert have["mcu"] == 1 and have["svc:document_exchange"] == 1, site.name
        assert have["host"] >= 5, site.name
    # every prefecture has two uplinks, to two different provincial cores (two carriers)
    for site in net.sites.values():
        if site.level == "prefecture":
            core = f"{site.name}外网核心"
            upstream = {l.other(core) for l in net.links_of(core) if net.level_of(l.other(core)) == "province"}
            assert len(upstream) == 2 and all(net.nodes[u].role == "core_router" for u in upstream), site.name
    for n in net.nodes.values():
        if n.role == "mcu" and net.level_of(n.name) != "province":
            assert net.level_of(n.mcu_parent) == net.sites[net.sites[n.site].parent].level
    tree = physical_graph(net)
    assert nx.is_connected(tree)
    assert any(n.role == "firewall" and net.level_of(n.name) == "province" for n in net.nodes.values())


def test_yunnan_file_stays_short():
    lines = (SCENARIOS / "yunnan" / "plan.yaml").read_text(encoding="utf-8").count("\n")
    assert lines <= 400


# -- Xiushan (seed 003) ------------------------------------------------------------

def test_xiushan_32_townships_85_departments_27_with_video():
    net = plan("xiushan")
    townships = [s for s in net.sites.values() if s.level == "township"]
    assert len(townships) == 32 and all(s.parent == "秀山县" for s in townships)
    departments = [n for n in net.nodes.values() if n.site == "秀山县" and "部门" in n.tags]
    assert len(departments) == 85
    assert all(kinds_of(net)[n.domain] == "extranet" for n in departments)
    video = {n.site for n in net.nodes.values() if "video_terminal" in n.services and net.level_of(n.name) == "township"}
    assert len(video) == 27


def test_xiushan_networks_joined_to_chongqing_each_of_its_kind():
    net = plan("xiushan")
    kinds = kinds_of(net)
    intranet = [d for d, k in kinds.items() if k == "intranet"]
    assert len(intranet) == 1 and net.domains[intranet[0]].classified
    for kind in ("intranet", "extranet"):
        county_core = [n.name for n in net.nodes.values()
                       if kinds[n.domain] == kind and n.role == "core_router" and n.site == "秀山县"]
        assert len(county_core) == 1
        up = [x for x in neighbours(net, county_core[0]) if net.nodes[x].site == "重庆市"]
        assert len(up) == 1 and kinds[net.nodes[up[0]].domain] == kind
    graph = physical_graph(net)
    component = nx.node_connected_component(graph, next(n.name for n in net.nodes.values() if n.domain == intranet[0]))
    assert {net.nodes[n].domain for n in component} == set(intranet)


def test_xiushan_department_vrfs_reach_townships_and_import_the_shared_exchange():
    net = plan("xiushan")
    shared = [v for v in net.vrfs.values() if set(v.imports) >= {"计生", "财政", "国土"}]
    assert len(shared) == 1
    for vrf in ("计生", "财政", "国土"):
        assert net.vrfs[vrf].imports == (shared[0].name,)
        township_ends = {net.nodes[n].site for n in net.nodes if net.nodes[n].vrf == vrf
                         and net.level_of(n) == "township"}
        assert len(township_ends) == 32, vrf
    assert any(n.vrf == shared[0].name and n.role == "server" for n in net.nodes.values())


# -- Weihai (seed 000) ----------------------------------------------------------------

def test_weihai_three_networks_strictly_apart():
    net = plan("weihai")
    kinds = kinds_of(net)
    party = [d for d in net.domains.values() if d.kind == "party_private"]
    assert len(party) == 1 and party[0].clearance_label == "机密"
    graph = physical_graph(net)
    for domain in net.domains.values():
        if domain.kind in ("party_private", "intranet"):
            members = {n.name for n in net.nodes.values() if n.domain == domain.name}
            assert nx.node_connected_component(graph, next(iter(members))) == members
    intranet_levels = {net.level_of(n.name) for n in net.nodes.values() if kinds[n.domain] == "intranet"}
    assert intranet_levels == {"prefecture", "county", "township"}  # 市、县、镇三级
    counties = {s.name for s in net.sites.values() if s.level == "county"}
    assert counties == {"环翠区", "文登市", "荣成市", "乳山市"}
    systems = {"政务信息公开系统", "电子信访系统", "机关效能评价系统", "企业基础数据库系统", "基础地理信息系统", "行政审批系统"}
    assert systems <= set(net.nodes)
    assert all(kinds[net.nodes[s].domain] == "dmz" for s in systems)


# -- Changchun (seed 001) ---------------------------------------------------------------

def test_changchun_rooms_back_each_other_up_over_disjoint_paths():
    net = plan("changchun")
    for domain in ("外网", "内网"):
        rooms = [n.name for n in net.nodes.values() if n.domain == domain and n.role == "core_router"]
        assert len(rooms) == 3, domain
        graph = nx.Graph(domain_graph(net, domain))
        for i, a in enumerate(rooms):
            for b in rooms[i + 1:]:
                assert nx.node_connectivity(graph, a, b) >= 2, (domain, a, b)
    # intranet and extranet servers share the 信息港 room, not a cable
    kinds = kinds_of(net)
    for link in net.links.values():
        ends = {kinds[net.nodes[link.a].domain], kinds[net.nodes[link.b].domain]}
        assert ends != {"intranet", "extranet"}


def test_changchun_video_venues_hotline_and_mail():
    net = plan("changchun")
    venues = Counter(t for n in net.nodes.values() if "video_terminal" in n.services for t in n.tags
                     if t in ("主会场", "市本级分会场", "基层分会场"))
    assert venues == {"主会场": 2, "市本级分会场": 1, "基层分会场": 4 + 1 + 4 + 3}
    hotline = [n for n in net.nodes.values() if "hotline_client" in n.services]
    assert len(hotline) == 64
    mail = [f for f in net.flows if f.kind == "email" and net.nodes[f.dst].role == "server"]
    assert 45 <= len({f.src for f in mail}) <= 55


# -- civil-affairs bureau (seed 004-3) -----------------------------------------------------

def test_civil_affairs_devices_and_vpn():
    net = plan("civil-affairs")
    roles = Counter(n.role for n in net.nodes.values())
    assert roles["firewall"] == 2
    gateways = [n for n in net.nodes.values() if n.role == "one_way_gateway"]
    assert len(gateways) == 1 and gateways[0].gateway.approved
    kinds = kinds_of(net)
    ends = {kinds[net.nodes[l.other(gateways[0].name)].domain] for l in net.links_of(gateways[0].name)}
    assert ends == {kinds[gateways[0].gateway.from_domain], kinds[gateways[0].gateway.to_domain]} == {"intranet", "gov_private"}
    assert len([n for n in net.nodes.values() if n.title and n.title.startswith("民政") and n.role == "server"
                and kinds[n.domain] == "extranet"]) == 2
    assert any("ids" in n.services for n in net.nodes.values())
    remote = {s.name for s in net.sites.values() if s.level in ("county", "township")}
    assert len(net.tunnels) == len(remote)
    for tunnel in net.tunnels.values():
        assert tunnel.kind == "ipsec" and tunnel.encrypted
        assert {net.nodes[tunnel.a].role, net.nodes[tunnel.b].role} == {"vpn_gateway"}


# -- planted-fault variants -----------------------------------------------------------------

def header_kind(path: Path) -> str:
    match = re.search(r"must fail rule kind:\s*(\w+)", path.read_text(encoding="utf-8"))
    assert match, f"{path} names the rule kind it must fail in its header"
    return match.group(1)


def link_key(link):
    return frozenset((link.a, link.b))


def diff(base, variant):
    """What a variant changes: nodes, links (by their ends), ACL rules and tunnels."""
    base_links = {link_key(l): l for l in base.links.values()}
    var_links = {link_key(l): l for l in variant.links.values()}
    changed_links = {k for k in base_links.keys() & var_links.keys()
                     if (base_links[k].bandwidth, base_links[k].medium, base_links[k].channel)
                     != (var_links[k].bandwidth, var_links[k].medium, var_links[k].channel)}
    return {
        "nodes+": set(variant.nodes) - set(base.nodes),
        "nodes-": set(base.nodes) - set(variant.nodes),
        "links+": set(var_links.keys() - base_links.keys()),
        "links-": set(base_links.keys() - var_links.keys()),
        "links~": changed_links,
        "acls~": {name for name in set(base.acls) | set(variant.acls)
                  if [(r.action, r.src, r.dst, r.proto, r.sport, r.dport) for r in base.acls.get(name, _NO_ACL).rules]
                  != [(r.action, r.src, r.dst, r.proto, r.sport, r.dport) for r in variant.acls.get(name, _NO_ACL).rules]},
        "tunnels~": {(t.kind, t.encrypted) for t in variant.tunnels.values()} != {(t.kind, t.encrypted) for t in base.tunnels.values()},
        "routes~": {n for n in base.nodes.keys() & variant.nodes.keys() if base.nodes[n].routes != variant.nodes[n].routes},
        "flows+": {(f.service, f.src, f.dst) for f in variant.flows} - {(f.service, f.src, f.dst) for f in base.flows},
    }


class _NoAcl:
    rules = ()


_NO_ACL = _NoAcl()


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_variant_differs_from_its_base_in_exactly_the_planted_fault(path):
    kind = header_kind(path)
    assert kind in RULE_KINDS
    assert kind.replace("_", " ") in path.read_text(encoding="utf-8").replace("_", " ")
    base = net_of(path.parent.parent / "plan.yaml")
    variant = net_of(path)
    assert variant.policies == base.policies
    d = diff(base, variant)
    kinds = kinds_of(variant)
    touched = {k for k, v in d.items() if v}
    if kind == "physical_isolation":
        assert touched == {"nodes+", "links+"} and len(d["nodes+"]) == 1
        pc = next(iter(d["nodes+"]))
        assert {kinds[variant.nodes[x].domain] for x in neighbours(variant, pc)} >= {"intranet", "extranet"}
        if variant.nodes[pc].role == "one_way_gateway":  # an import device: its extranet side reaches the internet
            assert kinds[variant.nodes[pc].gateway.from_domain] == "extranet"
            assert any(kinds[d.name] == "internet" for d in variant.domains.values())
        else:
            assert variant.nodes[pc].role == "host"
    elif kind == "default_deny":  # rules added that decide nothing: the same packets pass as in the base
        assert touched == {"acls~"}
        for name in d["acls~"]:
            assert len(variant.acls[name].rules) > len(base.acls[name].rules)
            assert {(r.action, r.proto, str(r.dst), r.dport) for r in variant.acls[name].rules} == \
                {(r.action, r.proto, str(r.dst), r.dport) for r in base.acls[name].rules}
    elif kind == "delivery":
        assert touched <= {"acls~", "flows+"} and touched
        for name in d["acls~"]:  # a gateway that no longer lets its tunnel's ESP in
            assert "esp" in {r.proto for r in base.acls[name].rules if r.action == "permit"}
            assert "esp" not in {r.proto for r in variant.acls[name].rules if r.action == "permit"}
        for _, src, dst in d["flows+"]:  # declared traffic to the DMZ on a port the firewall does not open
            assert kinds[variant.nodes[dst].domain] == "dmz" and variant.level_of(src) == "township"
    elif kind == "coverage":
        assert touched == {"routes~"} and len(d["routes~"]) == 1
        (router,) = d["routes~"]
        assert variant.nodes[router].role == "core_router" and len(variant.nodes[router].routes) == 1
    elif kind == "unified_channel":
        assert touched == {"links+"} and len(d["links+"]) == 1
        a, b = sorted(next(iter(d["links+"])))
        sites = {variant.nodes[a].site, variant.nodes[b].site}
        assert len(sites) == 2 and {variant.nodes[a].role, variant.nodes[b].role} == {"host"}
        assert {variant.sites[s].parent for s in sites} == {variant.sites[variant.nodes[a].site].parent}
    elif kind == "capacity":
        assert touched == {"links~"} and len(d["links~"]) == 1
        ends = next(iter(d["links~"]))
        link = next(l for l in variant.links.values() if link_key(l) == ends)
        assert link.bandwidth < 4e6  # below a single video site
        assert {variant.level_of(x) for x in ends} == {"prefecture", "county"}
    elif kind == "logical_isolation":
        assert touched == {"acls~"} and len(d["acls~"]) == 1
        name = next(iter(d["acls~"]))
        extra = [r for r in variant.acls[name].rules if r.action == "permit"
                 and (r.proto, r.dst, r.sport, r.dport) not in
                 {(b.proto, b.dst, b.sport, b.dport) for b in base.acls[name].rules}]
        assert len(extra) == 1
        extranet = [d.pool for d in variant.domains.values() if d.kind == "extranet"]
        assert any(extra[0].dst.subnet_of(p) or p.subnet_of(extra[0].dst) for p in extranet)
    elif kind == "encrypted_over" and d["routes~"]:
        assert touched == {"routes~"} and len(d["routes~"]) == 1
        (device,) = d["routes~"]  # a static route at the internet exit
        assert any(kinds[variant.nodes[x].domain] == "internet" for x in neighbours(variant, device))
    elif kind == "encrypted_over":
        assert touched <= {"tunnels~", "acls~"} and d["tunnels~"]
        assert variant.tunnels and all(not t.encrypted for t in variant.tunnels.values())
        # the ACLs change only as far as the gateways must accept the clear tunnel
        for name in d["acls~"]:
            assert {r.proto for r in variant.acls[name].rules if r.action == "permit"} == {"gre"}
    elif kind == "classification":
        assert touched == {"nodes+", "links+"} and len(d["nodes+"]) == 1
        server = variant.nodes[next(iter(d["nodes+"]))]
        assert server.classification > variant.domains[server.domain].clearance
    else:
        pytest.fail(f"no check of what a {kind} variant may change")
    # nothing else of the base is lost
    assert not d["nodes-"] and not d["links-"]


def test_every_variant_kind_is_planted_for_chuxiong():
    kinds = {header_kind(p) for p in VARIANTS if p.parent.parent.name == "chuxiong"}
    assert kinds == CHUXIONG_FAULT_KINDS
    others = {p.parent.parent.name for p in VARIANTS} - {"chuxiong"}
    assert others, "at least one more scenario has planted-fault variants"


def test_thin_uplink_really_cannot_carry_the_county_video():
    base = plan("chuxiong")
    variant = net_of(SCENARIOS / "chuxiong" / "faults" / "thin-uplink.yaml")
    thin = [l for l in variant.links.values() if l.bandwidth < 4e6]
    assert len(thin) == 1
    county = next(variant.nodes[x].site for x in thin[0].ends if variant.level_of(x) == "county")
    video_up = sum(f.rate for f in variant.flows if f.kind == "video" and variant.nodes[f.src].site == county
                   and variant.level_of(f.dst) == "prefecture")
    assert video_up > thin[0].bandwidth
    base_link = next(l for l in base.links.values() if link_key(l) == link_key(thin[0]))
    assert video_up < 0.5 * base_link.bandwidth
