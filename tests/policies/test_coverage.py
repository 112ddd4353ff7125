"""coverage: units reach their core and services at every level; oracle with networkx on generated trees."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import write_plan
from topology import load_plan

from .common import evaluate, load, plan

TREE = plan("""\
nodes:
  pcore: {role: core_router}
  pdoc: {role: server, services: [document_exchange]}
  pmcu: {role: mcu}
  acore: {role: core_router, site: 县A}
  adoc: {role: server, site: 县A, services: [document_exchange]}
  a1: {role: host, site: 县A}
  b1: {role: host, site: 县B}
  tunnel-a: {role: vpn_gateway, site: 县B}
  isp: {role: cloud, domain: inet}
links:
  - pdoc -- pcore
  - pmcu -- pcore
  - adoc -- acore
  - a1 -- acore
%(extra)s""")


def test_connected_units_pass(tmp_path):
    text = TREE % {"extra": "  - acore -- pcore\n  - b1 -- pcore\n"}
    result = evaluate(load(tmp_path, text), "coverage", {"domains": ["kind:extranet"]})
    assert result.status == "pass", result.message


def test_county_cut_off_fails_for_every_need(tmp_path):
    text = TREE % {"extra": "  - b1 -- pcore\n"}
    result = evaluate(load(tmp_path, text), "coverage", {"domains": ["kind:extranet"]})
    assert result.status == "fail"
    missing = {(e.data["node"], e.data["missing"]) for e in result.evidence}
    # the county core cannot reach the prefecture core; a1 reaches its own core and centre but not
    # the centre above nor the MCU (which serves every level below it)
    assert missing == {("acore", "parent_core"), ("a1", "document_exchange"), ("a1", "video_mcu")}


def test_remote_site_joined_by_a_tunnel_is_covered(tmp_path):
    text = TREE % {"extra": "  - acore -- pcore\n  - b1 -- tunnel-a\n  - {a: tunnel-a, b: isp, medium: internet}\n"
                   "  - {a: pcore, b: isp, medium: internet}\n"
                   "tunnels:\n  - {name: t, a: tunnel-a, b: pcore, domain: ext}\n"}
    result = evaluate(load(tmp_path, text), "coverage", {"domains": ["kind:extranet"]})
    assert result.status == "pass", result.message


def test_missing_service_is_not_applicable_unless_required(tmp_path):
    text = TREE % {"extra": "  - acore -- pcore\n  - b1 -- pcore\n"}
    net = load(tmp_path, text)
    lenient = evaluate(net, "coverage", {"domains": ["kind:extranet"], "needs": [{"service": "mail"}]})
    assert lenient.status == "pass" and "no mail" in lenient.message
    strict = evaluate(net, "coverage", {"domains": ["kind:extranet"], "needs": [{"service": "mail", "required": True}]})
    assert strict.status == "fail"


# -- oracle ----------------------------------------------------------------------------------

HEAD = """\
name: gen
domains: {d: {kind: extranet, pool: 10.0.0.0/16}}
sites:
  P:
    children:
      C0: {children: {T0: {}, T1: {}}}
      C1: {children: {T2: {}}}
defaults: {node: {domain: d}}
"""
SITES = {"P": None, "C0": "P", "C1": "P", "T0": "C0", "T1": "C0", "T2": "C1"}


@st.composite
def networks(draw):
    nodes = []
    for i in range(draw(st.integers(2, 9))):
        role = draw(st.sampled_from(["core_router", "host", "host", "server"]))
        services = ["document_exchange"] if role == "server" and draw(st.booleans()) else []
        nodes.append((f"n{i}", role, draw(st.sampled_from(sorted(SITES))), services))
    edges = set()
    for _ in range(draw(st.integers(0, 12))):
        a, b = draw(st.integers(0, len(nodes) - 1)), draw(st.integers(0, len(nodes) - 1))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    return nodes, sorted(edges)


def ancestors(site):
    out = []
    while site is not None:
        out.append(site)
        site = SITES[site]
    return out


def brute_force(nodes, edges) -> set[tuple[str, str]]:
    """The coverage gaps, from the rule's definition (A reaches B when a packet gets there and its answer
    back), written apart from the simulator: routers carry traffic, hosts and servers do not; an end system
    sends to a node it is cabled to directly, else through its first router (links in name order)."""
    names = [n for n, *_ in nodes]
    role = {n: r for n, r, *_ in nodes}
    neigh = {n: set() for n in names}
    link_names = {n: [] for n in names}
    for a, b in edges:
        x, y = nodes[a][0], nodes[b][0]
        neigh[x].add(y)
        neigh[y].add(x)
        link_names[x].append((f"{x}--{y}", y))
        link_names[y].append((f"{x}--{y}", x))
    routers = nx.Graph()
    routers.add_nodes_from(n for n in names if role[n] == "core_router")
    routers.add_edges_from((x, y) for x in names for y in neigh[x] if role[x] == role[y] == "core_router")

    def one_way(u, v) -> bool:
        if v in neigh[u]:
            return True
        start = u
        if role[u] != "core_router":
            gateways = [other for _, other in sorted(link_names[u]) if role[other] == "core_router"]
            if not gateways:
                return False
            start = gateways[0]
        ends = [v] if role[v] == "core_router" else [r for r in neigh[v] if role[r] == "core_router"]
        return any(nx.has_path(routers, start, e) for e in ends)

    def reaches(u, v) -> bool:
        return one_way(u, v) and one_way(v, u)

    by_site = lambda pred: {s: [n for n, r, site, sv in nodes if site == s and pred(r, sv)] for s in SITES}  # noqa: E731
    cores = by_site(lambda r, sv: r == "core_router")
    docs = by_site(lambda r, sv: "document_exchange" in sv)
    any_doc = any(docs.values())

    def nearest(site, table, skip=False):
        for s in ancestors(site)[1 if skip else 0:]:
            if table[s]:
                return s, table[s]
        return None

    gaps = set()
    for name, kind, site, _ in nodes:
        if kind == "core_router":
            up = nearest(site, cores, skip=True)
            if up and not any(reaches(name, c) for c in up[1]):
                gaps.add((name, "parent_core"))
        if kind != "host":
            continue
        core = nearest(site, cores)
        if core is None or not any(reaches(name, c) for c in core[1]):
            gaps.add((name, "core"))
        if any_doc:
            own = nearest(site, docs)
            up = nearest(own[0], docs, skip=True) if own is not None else None
            if own is None or not any(reaches(name, c) for c in own[1]) or (up and not any(reaches(name, c) for c in up[1])):
                gaps.add((name, "document_exchange"))
    return gaps


@settings(max_examples=60)
@given(networks())
def test_oracle(tmp_path_factory, spec):
    nodes, edges = spec
    lines = [HEAD, "nodes:"]
    lines += [f"  {n}: {{role: {r}, site: {s}, services: [{', '.join(sv)}]}}" for n, r, s, sv in nodes]
    lines.append("links:" if edges else "links: []")
    lines += [f"  - {nodes[a][0]} -- {nodes[b][0]}" for a, b in edges]
    net = load_plan(write_plan(tmp_path_factory.mktemp("cov"), "\n".join(lines) + "\n"))
    result = evaluate(net, "coverage", {"needs": [{"service": "document_exchange", "levels": ["own", "above"]}]})
    got = {(e.data["node"], e.data["missing"]) for e in result.evidence}
    assert got == brute_force(nodes, edges)
