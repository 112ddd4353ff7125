"""classification: clearance, public paths (direct and indirect), one-way import; oracle on generated networks."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import write_plan
from topology import load_plan

from .common import evaluate, load, plan

SECRET = plan("""\
nodes:
  icore: {role: core_router, domain: intra}
  isrv: {role: server, domain: intra, classification: 机密}
  ecore: {role: core_router}
  esrv: {role: server, classification: %(esrv)s}
  fw: {role: firewall, default_action: deny}
  isp: {role: cloud, domain: inet}
links:
  - icore -- isrv
  - ecore -- esrv
  - ecore -- fw
  - {a: fw, b: isp, medium: internet}
%(extra)s""").replace("intra: {kind: intranet, pool: 172.16.0.0/16}", "intra: {kind: intranet, pool: 172.16.0.0/16, clearance: 机密}")


def test_clean_classified_plan_passes(tmp_path):
    net = load(tmp_path, SECRET % {"esrv": "非涉密", "extra": ""})
    result = evaluate(net, "classification")
    assert result.status == "pass", result.message
    assert "intra" in result.message


def test_server_above_its_networks_clearance_fails(tmp_path):
    text = SECRET % {"esrv": "秘密", "extra": ""}
    result = evaluate(load(tmp_path, text), "classification", {"public_path": False, "import_only": False})
    assert result.status == "fail"
    (ev,) = result.evidence
    assert ev.data["node"] == "esrv" and ev.data["classification"] == "秘密"
    assert "esrv: {role: server" in text.splitlines()[ev.marks[0].line - 1]


def test_indirect_path_to_the_internet_fails(tmp_path):
    # the classified network touches only the extranet, which reaches the internet through its firewall
    text = SECRET % {"esrv": "非涉密", "extra": "  - icore -- ecore\n"}
    result = evaluate(load(tmp_path, text), "classification", {"clearance": False, "import_only": False})
    assert result.status == "fail"
    names = [n["name"] for n in result.evidence[0].data["nodes"]]
    assert names[0] in ("icore", "isrv") and names[-1] == "isp" and "fw" in names


IMPORT = SECRET.replace("  isp: {role: cloud, domain: inet}\n", """\
  isp: {role: cloud, domain: inet}
  gap: {role: one_way_gateway, domain: intra, gateway: {from: %(src)s, to: %(dst)s, approved: %(approved)s}}
""")


def test_approved_import_device_into_classified_network_passes(tmp_path):
    text = IMPORT % {"esrv": "非涉密", "src": "ext", "dst": "intra", "approved": "true",
                     "extra": "  - ecore -- gap\n  - gap -- icore\n"}
    result = evaluate(load(tmp_path, text), "classification")
    assert result.status == "pass", result.message


def test_unapproved_or_outward_gateway_fails(tmp_path):
    links = "  - ecore -- gap\n  - gap -- icore\n"
    unapproved = evaluate(load(tmp_path, IMPORT % {"esrv": "非涉密", "src": "ext", "dst": "intra",
                                                   "approved": "false", "extra": links}), "classification")
    assert unapproved.status == "fail"
    assert any("approved" in e.summary for e in unapproved.evidence)
    outward = evaluate(load(tmp_path, IMPORT % {"esrv": "非涉密", "src": "intra", "dst": "ext",
                                                "approved": "true", "extra": links}, "p2.yaml"), "classification")
    assert outward.status == "fail"
    # the outward gateway joins the networks both ways (it cannot be excused): a public path too
    assert any(e.kind == "path" for e in outward.evidence)


def test_no_classified_network_is_not_applicable(tmp_path):
    text = SECRET.replace("clearance: 机密}", "}").replace("classification: 机密", "classification: 非涉密")
    result = evaluate(load(tmp_path, text % {"esrv": "非涉密", "extra": ""}), "classification",
                      {"clearance": False})
    assert result.status == "not_applicable" and "the plan has no classified network" in result.message


# -- oracle: reachability in a directed graph built independently ------------------------------

HEAD = """\
name: gen
domains:
  c: {kind: intranet, pool: 10.0.0.0/16, clearance: 秘密}
  u: {kind: extranet, pool: 10.1.0.0/16}
  p: {kind: internet, pool: 10.2.0.0/16}
sites: {s: {}}
defaults: {node: {site: s}}
"""


@st.composite
def networks(draw):
    n = draw(st.integers(2, 8))
    doms = [draw(st.sampled_from("cup")) for _ in range(n)]
    gateways = {}
    for i in range(n):
        if draw(st.integers(0, 3)) == 0:
            gateways[i] = (draw(st.sampled_from("cup")), draw(st.sampled_from("cup")), draw(st.booleans()))
    edges = set()
    for _ in range(draw(st.integers(0, 10))):
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    return doms, gateways, sorted(edges)


def plan_text(doms, gateways, edges) -> str:
    lines = [HEAD, "nodes:"]
    for i, d in enumerate(doms):
        if i in gateways:
            s, t, ok = gateways[i]
            lines.append(f"  n{i}: {{role: one_way_gateway, domain: {d}, gateway: {{from: {s}, to: {t}, approved: {str(ok).lower()}}}}}")
        else:
            lines.append(f"  n{i}: {{role: router, domain: {d}}}")
    lines.append("links:" if edges else "links: []")
    lines += [f"  - n{a} -- n{b}" for a, b in edges]
    return "\n".join(lines) + "\n"


def brute_force_public_path(doms, gateways, edges) -> bool:
    """Does a packet from the classified network reach the public one? Directed graph, one-way gateways."""
    level = {"c": 1, "u": 0, "p": 0}
    nbrs = {i: set() for i in range(len(doms))}
    for a, b in edges:
        nbrs[a].add(b)
        nbrs[b].add(a)

    def valid(g):  # a gateway that works one way: the rules of classified networks
        s, t, approved = gateways[g]
        if s == t or {doms[v] for v in nbrs[g]} - {s, t}:
            return False
        if level[s] > level[t] or (s == "c" and t == "p"):
            return False
        return not (t == "c" and not approved)

    oneway = {g for g in gateways if valid(g)}
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(doms)))
    for a, b in edges:
        for u, v in ((a, b), (b, a)):
            if v in oneway and doms[u] != gateways[v][0]:
                continue
            if u in oneway and doms[v] != gateways[u][1]:
                continue
            if u in oneway and v in oneway and doms[u] != gateways[v][0]:
                continue
            graph.add_edge(u, v)
    sources = [i for i, d in enumerate(doms) if d == "c" and i not in oneway]
    targets = {i for i, d in enumerate(doms) if d == "p" and i not in oneway}
    return any(targets & nx.descendants(graph, s) for s in sources)


@settings(max_examples=60)
@given(networks())
def test_oracle_public_path(tmp_path_factory, spec):
    doms, gateways, edges = spec
    net = load_plan(write_plan(tmp_path_factory.mktemp("cl"), plan_text(doms, gateways, edges)))
    result = evaluate(net, "classification", {"clearance": False, "import_only": False})
    expected = "c" in doms and brute_force_public_path(doms, gateways, edges)
    assert (result.status == "fail") == expected, result.message
    if expected:
        names = [x["name"] for x in result.evidence[0].data["nodes"]]
        assert net.nodes[names[0]].domain == "c" and net.nodes[names[-1]].domain == "p"
