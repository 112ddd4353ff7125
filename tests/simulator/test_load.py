"""Load assignment: hand-computed small cases, conservation, and a brute force on generated graphs."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.load import assign, tunnel_overhead
from simulator.traffic import demands
from tests.helpers import write_plan
from topology import load_plan

from .brute_force import brute_loads
from .capacity_plans import CHAIN_ECMP, STAR, TUNNEL, province_plan, random_plan

M = 1e6


def loads_by_name(a):
    return {k: v for k, v in a.load.items() if v > 1e-9}


def test_star_by_hand(tmp_path):
    net = load_plan(write_plan(tmp_path, STAR))
    a = assign(net)
    assert loads_by_name(a) == pytest.approx({
        ("h1--core", 0): 2 * M, ("h2--core", 0): 2 * M, ("srv--core", 1): 4 * M})
    assert a.utilisation(("srv--core", 1)) == pytest.approx(0.8)
    assert a.link_utilisation("h1--core") == pytest.approx(0.2)
    # one-way delay of h1 -> srv: latency 1 + 2 ms, packets of 8000 bit at 10M and 5M,
    # M/M/1 waiting rho/(1-rho) packet times at 20 % and 80 %
    tx1, tx2 = 8000 / 10e6, 8000 / 5e6
    expected = 0.003 + tx1 + tx2 + tx1 * 0.2 / 0.8 + tx2 * 0.8 / 0.2
    assert a.delay(0) == pytest.approx(expected)
    assert a.delay(0, queueing=False) == pytest.approx(0.003 + tx1 + tx2)


def test_chain_with_ecmp_by_hand(tmp_path):
    net = load_plan(write_plan(tmp_path, CHAIN_ECMP))
    a = assign(net)
    # bulk 8M h -> s splits at r1 over r2 and r3 and joins at r4; back 2M s -> h splits at r4
    assert loads_by_name(a) == pytest.approx({
        ("h--r1", 0): 8 * M, ("r1--r2", 0): 4 * M, ("r1--r3", 0): 4 * M, ("r2--r4", 0): 4 * M,
        ("r3--r4", 0): 4 * M, ("r4--r5", 0): 8 * M, ("r5--s", 0): 8 * M,
        ("r5--s", 1): 2 * M, ("r4--r5", 1): 2 * M, ("r2--r4", 1): 1 * M, ("r3--r4", 1): 1 * M,
        ("r1--r2", 1): 1 * M, ("r1--r3", 1): 1 * M, ("h--r1", 1): 2 * M,
    })
    assert a.utilisation(("r4--r5", 0)) == pytest.approx(0.8)
    assert not a.undelivered()


@pytest.mark.parametrize("kind, overhead", [("ipsec", 64), ("gre", 24)])
def test_tunnel_adds_its_header_bytes_on_the_underlay(tmp_path, kind, overhead):
    # ESP, AES-CBC, 1000-byte packet: 20 outer + 8 ESP + 16 IV + 6 pad + 2 + 12 ICV = 64; GRE: 20 + 4 = 24
    assert tunnel_overhead(kind, 1000) == overhead
    net = load_plan(write_plan(tmp_path, TUNNEL.replace("KIND", kind)))
    a = assign(net)
    factor = (1000 + overhead) / 1000
    assert loads_by_name(a) == pytest.approx({
        ("h--gw1", 0): 4 * M, ("gw1--isp", 0): 4 * M * factor, ("isp--gw2", 0): 4 * M * factor, ("gw2--s", 0): 4 * M})
    assert a.paths[0].tunnels == ("t1",)


def test_esp_padding_and_ciphers():
    # padding fills (payload + 2) up to the cipher block: 16 bytes for AES-CBC, 4 for GCM
    assert tunnel_overhead("ipsec", 1400) == 20 + 8 + 16 + 6 + 2 + 12   # 1402 -> 1408 (pad 6)
    assert tunnel_overhead("ipsec", 1406) == 20 + 8 + 16 + 0 + 2 + 12
    assert tunnel_overhead("ipsec", 1400, "AES-GCM") == 20 + 8 + 8 + 2 + 2 + 16


def test_conservation_at_every_node(tmp_path):
    """What enters a node leaves it, except what is delivered there or sent from there."""
    net = load_plan(write_plan(tmp_path, province_plan(prefectures=3, counties=2, units=3, townships=1)))
    a = assign(net)
    balance = defaultdict(float)
    for (link, direction), load in a.load.items():
        l = net.links[link]
        frm, to = (l.a, l.b) if direction == 0 else (l.b, l.a)
        balance[frm] -= load
        balance[to] += load
    for d, path in zip(a.demands, a.paths):
        balance[d.src] += d.rate * path.delivered
        balance[d.dst] -= d.rate * path.delivered
    assert max(abs(v) for v in balance.values()) < 1e-3
    assert not a.undelivered()


@settings(max_examples=20)
@given(seed=st.integers(0, 10**6), routers=st.integers(2, 12), extra=st.integers(0, 8))
def test_loads_match_brute_force_on_generated_graphs(tmp_path_factory, seed, routers, extra):
    net = load_plan(write_plan(tmp_path_factory.mktemp("g"), random_plan(seed, routers=routers, extra=extra)))
    a = assign(net)
    want, delivered, _ = brute_loads(net, demands(net))
    got = loads_by_name(a)
    assert set(got) == {k for k, v in want.items() if v > 1e-9}
    for key, value in want.items():
        assert got.get(key, 0.0) == pytest.approx(value, rel=1e-9, abs=1e-6), key
    assert [p.delivered for p in a.paths] == pytest.approx([delivered[i] for i in range(len(a.paths))])


def test_undeliverable_traffic_is_reported_not_loaded(tmp_path):
    # h2 hangs on a router with no path to the server: its demand is dropped at r9, loads nothing
    net = load_plan(write_plan(tmp_path, STAR.replace("  srv: {role: server}\n", "  srv: {role: server}\n  r9: {role: router}\n")
                               .replace("- {a: h2, b: core, bandwidth: 10M, latency: 1ms}", "- {a: h2, b: r9}")))
    a = assign(net)
    (i,) = a.undelivered()
    assert a.demands[i].src == "h2"
    assert a.paths[i].drops[0].node == "r9" and a.paths[i].drops[0].decision == "no_route"
    assert not any(k[0] == "h2--r9" for k in a.load)
