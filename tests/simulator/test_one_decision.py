"""One per-hop decision: loads, traces and reach agree, on generated plans and on every shipped scenario.

- the load of every demand equals an independent oracle (networkx shortest
  paths, its own ACL first match, equal splits) on generated networks of
  routers and firewalls with random ACLs;
- every demand loads exactly the links of its delivered traces (the union
  over every choice of equal-cost branches, each with the share equal splits
  give it), and a demand that every trace drops loads nothing;
- the cases the issue "Green means true" lists: tunnel gateways that accept no
  ESP, paths of exactly the hop limit, loops, redistributed statics, routers
  with no path in a tree part, a loop over two parallel equal-cost links.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.forwarding import build_forwarding
from simulator.headerspace import DST, IntervalSet
from simulator.load import assign, demand_header
from simulator.reach import reach
from simulator.trace import trace
from simulator.traffic import demands
from tests.helpers import SCENARIOS, scenario_plan, write_plan
from topology import load_plan

from . import sim_plans
from .oracle import Oracle, networks, plan_text

EPS = 1e-9


def edge_shares(path) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = {}
    for e in path.edges:
        out[e.key] = out.get(e.key, 0.0) + e.share
    return out


# -- against the independent oracle ------------------------------------------------------------------
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          deadline=None)
@given(spec=networks(), port=st.integers(1, 9))
def test_loads_equal_the_oracle_with_acls(tmp_path, spec, port):
    n, edges, hosts, kinds, acls, _, _ = spec
    traffic = (f"services:\n  s: {{kind: data, rate: 1M, protocol: tcp, port: {port}}}\n"
               "traffic:\n  - {service: s, from: h0, to: h1}\n")
    bare = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, []) + traffic))
    addresses = sorted(str(a.ip) for node in bare.nodes.values() for a in node.addresses)
    net = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, addresses) + traffic))
    a = assign(net)
    (demand,) = a.demands
    fw = build_forwarding(net)
    header = demand_header(fw, demand)
    want, delivered = Oracle(net).delivered_loads("h0", header.fields())
    got = edge_shares(a.paths[0])
    assert a.paths[0].delivered == pytest.approx(delivered, abs=EPS)
    assert set(got) == {k for k, v in want.items() if v > EPS}
    for key, value in want.items():
        assert got.get(key, 0.0) == pytest.approx(value, abs=EPS), key


# -- every demand loads the links of its traces ------------------------------------------------------
def traced_shares(fw, demand) -> tuple[dict[tuple[str, int], float], float, bool]:
    """Walk the demand's packet with every choice of equal-cost branches: (delivered share per link
    direction, delivered share, whether some branch crossed a link at all)."""
    header = demand_header(fw, demand)
    shares: dict[tuple[str, int], float] = {}
    total = 0.0
    crossed = False

    def explore(choices: dict[int, int], weight: float) -> None:
        nonlocal total, crossed
        steps = fw.walk(demand.src, header, choices=choices)
        for i, s in enumerate(steps):
            if s.branches > 1 and i not in choices:
                for b in range(s.branches):
                    explore({**choices, i: b}, weight / s.branches)
                return
        crossed = crossed or any(s.link is not None for s in steps)
        last = steps[-1]
        if last.decision != "delivered" or last.node != demand.dst:
            return
        total += weight
        for s in steps:
            if s.link is not None:
                link = fw.net.links[s.link]
                key = (s.link, 0 if link.a == s.node else 1)
                shares[key] = shares.get(key, 0.0) + weight

    if header is not None:
        explore({}, 1.0)
    return shares, total, crossed


def check_demands_against_traces(net, indices=None) -> int:
    a = assign(net)
    fw = build_forwarding(net)
    checked = 0
    for i in indices if indices is not None else range(len(a.demands)):
        want, delivered, crossed = traced_shares(fw, a.demands[i])
        got = edge_shares(a.paths[i])
        label = a.demands[i].label
        assert a.paths[i].delivered == pytest.approx(delivered, abs=EPS), label
        assert set(got) == {k for k, v in want.items() if v > EPS}, label
        for key, value in want.items():
            assert got[key] == pytest.approx(value, abs=EPS), (label, key)
        if delivered <= EPS:
            assert not got, label  # a demand every trace drops loads nothing
        if crossed:
            assert a.paths[i].reached, label
        checked += 1
    return checked


SHIPPED = sorted(p.parent.name for p in SCENARIOS.glob("*/plan.yaml"))


@pytest.mark.parametrize("scenario", SHIPPED)
def test_every_demand_of_a_shipped_scenario_loads_exactly_its_traces(scenario):
    net = load_plan(scenario_plan(scenario))
    count = len(demands(net))
    step = max(1, count // 600)  # the large plans: an evenly spread sample of about 600 demands
    assert check_demands_against_traces(net, range(0, count, step)) > 0


@pytest.mark.parametrize("fault", sorted(str(p.relative_to(SCENARIOS)) for p in SCENARIOS.glob("*/faults/*.yaml")))
def test_every_demand_of_a_planted_fault_loads_exactly_its_traces(fault):
    net = load_plan(SCENARIOS / fault)
    count = len(demands(net))
    assert check_demands_against_traces(net, range(0, count, max(1, count // 300))) > 0


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          deadline=None)
@given(spec=networks(), port=st.integers(1, 9))
def test_generated_demands_load_exactly_their_traces(tmp_path, spec, port):
    n, edges, hosts, kinds, acls, _, _ = spec
    flows = "".join(f"  - {{service: s, from: h{i}, to: h{j}}}\n" for i in range(len(hosts)) for j in range(len(hosts)) if i != j)
    traffic = f"services:\n  s: {{kind: data, rate: 1M, protocol: tcp, port: {port}}}\ntraffic:\n{flows}"
    bare = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, []) + traffic))
    addresses = sorted(str(a.ip) for node in bare.nodes.values() for a in node.addresses)
    net = load_plan(write_plan(tmp_path, plan_text(n, edges, hosts, kinds, acls, addresses) + traffic))
    check_demands_against_traces(net)


# -- the cases of the issue ----------------------------------------------------------------------------
def test_a_tunnel_whose_gateways_accept_no_esp_carries_nothing(tmp_path):
    text = sim_plans.tunnel_plan("ipsec", accept="udp") + \
        "services: {doc: {kind: data, rate: 2M}}\ntraffic: [{service: doc, from: ha, to: hb}]\n"
    net = load_plan(write_plan(tmp_path, text))
    t = trace(net, "ha", "hb")
    assert not t.delivered and "tunnel t1 is down" in t.reason
    a = assign(net)
    assert a.paths[0].delivered == 0.0
    assert a.load == {}  # nothing through the tunnel, nothing on the underlay
    assert "tunnel t1 is down" in a.paths[0].drops[0].reason


def chain(routers: int) -> str:
    lines = [sim_plans.head("chain"), "nodes:", "  h: {role: host}", "  s: {role: server}"]
    lines += [f"  r{i:02d}: {{role: router}}" for i in range(routers)]
    lines += ["links:", "  - h -- r00"]
    lines += [f"  - r{i:02d} -- r{i + 1:02d}" for i in range(routers - 1)]
    lines += [f"  - r{routers - 1:02d} -- s",
              "services: {doc: {kind: data, rate: 1M}}", "traffic: [{service: doc, from: h, to: s}]"]
    return "\n".join(lines).replace("10.0.0.0/24", "10.0.0.0/22") + "\n"


def test_a_path_of_exactly_the_hop_limit_is_delivered_by_trace_and_load(tmp_path):
    net = load_plan(write_plan(tmp_path, chain(63)))  # 64 links: TTL 64 lasts exactly
    t = trace(net, "h", "s")
    assert t.delivered and sum(1 for h in t.hops if h.link) == 64
    assert assign(net).paths[0].delivered == 1.0


def test_a_path_longer_than_the_hop_limit_is_reported_as_such(tmp_path):
    net = load_plan(write_plan(tmp_path, chain(64)))
    t = trace(net, "h", "s")
    assert not t.delivered and t.last.decision == "ttl_expired"
    assert "longer than the hop limit" in t.last.detail and "loop" not in t.last.detail.replace("no loop", "")
    path = assign(net).paths[0]
    assert path.delivered == 0.0 and path.drops[0].decision == "ttl_expired"
    assert "longer than the hop limit" in path.drops[0].reason


def test_a_loop_is_reported_as_a_loop(tmp_path):
    net = load_plan(write_plan(tmp_path, sim_plans.LOOP))
    t = trace(net, "h", "10.9.0.1")
    assert t.last.decision == "ttl_expired"
    assert "forwarding loop" in t.last.detail and "r2 -> r1 -> r2" in t.last.detail  # r1 is entered first from h, then from r2


REDISTRIBUTED = sim_plans.head("redistributed") + """\
nodes:
  h: {role: host}
  r1: {role: router}
  r2: {role: router}
  r3: {role: router, lan: 10.1.0.0/24}
  r4:
    role: router
    routes: [{prefix: 10.1.0.0/24, via: r1}]   # a stub router's route for that LAN, pointing upstream
links:
  - h -- r1
  - r1 -- r2
  - r2 -- r3
  - r1 -- r4
"""


def test_a_redistributed_static_loses_to_the_owners_own_route(tmp_path):
    net = load_plan(write_plan(tmp_path, REDISTRIBUTED))
    t = trace(net, "h", "10.1.0.9")
    assert t.delivered and [h.node for h in t.hops] == ["h", "r1", "r2", "r3"]
    # r4 itself still uses its static route, as a router does
    route = build_forwarding(net).routing.lookup("r4", "10.1.0.9")
    assert route.source == "static"


TREE_WITHOUT_PATH = """\
name: tree
domains:
  a: {kind: extranet, pool: 10.0.0.0/24}
  b: {kind: extranet, pool: 10.0.1.0/24}
sites: {s: {}}
defaults: {node: {domain: a, site: s}}
nodes:
  h: {role: host}
  ra: {role: router}
  fw: {role: firewall}
  rb: {role: router}
  rc: {role: router, domain: b}
  srv: {role: server, domain: b}
links:
  - h -- ra
  - ra -- fw
  - fw -- rb
  - srv -- rc
"""


def test_a_router_with_no_path_does_not_forward_up_a_tree(tmp_path):
    net = load_plan(write_plan(tmp_path, TREE_WITHOUT_PATH))
    t = trace(net, "h", "srv")
    assert t.last.decision == "no_route" and t.last.node == "ra", t.text()


LOOP_OVER_PARALLEL_LINKS = sim_plans.head("parallel") + """\
nodes:
  h: {role: host}
  a:
    role: router
    routes: [{prefix: 100.64.1.0/24, via: b}]
  b: {role: router}
  c: {role: router}
  s: {role: server}
links:
  - h -- a
  - a -- b
  - {a: b, b: a, name: back1}
  - {a: b, b: a, name: back2}
  - a -- c
  - c -- s
"""


def test_reach_finds_a_loop_over_parallel_equal_cost_links_in_bounded_work(tmp_path):
    net = load_plan(write_plan(tmp_path, LOOP_OVER_PARALLEL_LINKS))
    t = trace(net, "h", "100.64.1.7")
    assert t.last.decision == "ttl_expired" and "forwarding loop" in t.last.detail
    classes = reach(net, ["h"], ["s", "c"], budget=5_000)  # about 2^21 flows before loops were cut
    assert {c.dst_node for c in classes} == {"s", "c"}
    assert all(c.trace.delivered for c in classes)


LOOP_TOWARDS_A_DESTINATION = sim_plans.head("loop-to-lan") + """\
nodes:
  h: {role: host}
  a:
    role: router
    routes: [{prefix: 10.9.0.0/16, via: b}]
  b: {role: router}
  c: {role: router, lan: 10.9.0.0/16}
links:
  - h -- a
  - a -- b
  - {a: b, b: a, name: back1}
  - a -- c
"""


def test_reach_reports_the_classes_that_loop(tmp_path):
    """a sends c's LAN to b by a static route, b sends it back over the IGP (its way to c is through a): every
    packet for 10.9.0.0/16 loops. reach delivers c's own addresses and names the LAN's packets as a loop, with
    a representative whose trace really loops."""
    from simulator.reach import reach_answer, reach_text

    net = load_plan(write_plan(tmp_path, LOOP_TOWARDS_A_DESTINATION))
    answer = reach_answer(net, ["h"], ["c"], budget=5_000)
    assert answer.loops, "the LAN's packets loop"
    lan = IntervalSet.of([(int(ipaddress.IPv4Address("10.9.0.0")), int(ipaddress.IPv4Address("10.9.255.255")))])
    for loop in answer.loops:
        assert loop.src_node == "h" and loop.path[:3] == ("h", "a", "b")
        dst = int(ipaddress.IPv4Address(loop.representative["dst"]))
        assert lan.contains(dst)
        t = trace(net, "h", loop.representative["dst"])
        assert t.last.decision == "ttl_expired" and "forwarding loop" in t.last.detail
    for text in ("10.9.0.0", "10.9.128.1", "10.9.255.255"):  # every destination of the LAN loops
        d = int(ipaddress.IPv4Address(text))
        assert any(box[DST].contains(d) for loop in answer.loops for box in loop.space.boxes), text
    assert all(c.trace.delivered and not lan.contains(int(ipaddress.IPv4Address(c.representative["dst"])))
               for c in answer.classes)
    assert "FORWARDING LOOP" in reach_text(answer.classes, answer.loops)


def test_a_static_route_via_a_distant_address_goes_where_packets_to_that_address_go(tmp_path):
    """r's static route names hb's address, which no link of r reaches directly: a router resolves it through
    its own table. r reaches hb through the tunnel (its route to hb is the one gwa injects), not by the
    cheaper underlay way over the internet that the IGP graph alone would take."""
    plan = sim_plans.tunnel_plan().replace("  ha: {role: host}\n", "  ha: {role: host}\n  r: {role: router}\n").replace(
        "  - ha -- gwa:lan\n", "  - ha -- r\n  - {a: r, b: \"gwa:lan\", cost: 500}\n"
        "  - {a: r, b: isp, medium: internet, domain: inet}\n")
    first = load_plan(write_plan(tmp_path / "a", plan))
    hb = str(first.nodes["hb"].addresses[0].ip)
    net = load_plan(write_plan(tmp_path / "b", plan.replace(
        "  r: {role: router}\n", f"  r: {{role: router, routes: [{{prefix: 10.77.0.0/16, via: {hb}}}]}}\n")))
    to_hb, to_static = trace(net, "r", hb), trace(net, "r", "10.77.0.5")
    assert to_hb.hops[1].node == "gwa", to_hb.text()           # the tunnel's route
    assert to_static.hops[1].node == to_hb.hops[1].node, to_static.text()
    assert f"via {hb}" in to_static.hops[0].detail
